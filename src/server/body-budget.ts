/**
 * Request bodies held in memory while they arrive, and who holds them: every request together, the
 * guests together (requests not signed with an operator's key: functions' environment and STS keys,
 * unknown keys and none) and each guest alone (Keyring.guestOf: one function, or all unknown and
 * unsigned callers). Bodies that never finish, a stalled client's or a function's, then keep neither
 * the operator nor the other functions out.
 *
 * Within a share, a body that has stalled gives way: when a guest's bytes find its share full, the
 * guests' bodies that brought less than MIN_BYTES_PER_SECOND over the last second or two are shed, the
 * slowest first, until the bytes fit. Otherwise anyone who can reach a public stage could hold the
 * unsigned callers' whole share with a few bodies sent almost whole and then left hanging (nothing else
 * times them out for minutes), and every other caller's body would be refused.
 *
 * A body may also name its source (the address a public stage's caller sends from): all bodies of one
 * source together hold at most `perSource`, within their guest's share. So one caller's uploads to a
 * public stage, however steadily it keeps them coming, leave the other callers the rest of the share.
 * And when sources together fill their guest's share, a source that would hold less than another gets
 * room from it (its newest body is shed): a few sources that keep their uploads coming cannot keep a
 * newcomer out either, and each source's share tends to the same.
 */

/** A body being read, as the budget knows it (BodyBudget.holder). */
export interface BodyHolder {
  readonly guest: string | undefined;
  /** Where the body comes from, when its bytes count toward that source's share too. */
  readonly source: string | undefined;
  /** Bytes it holds. */
  held: number;
  /** When it opened, and the bytes it brought in this window of time and the one before. */
  readonly opened: number;
  windowStart: number;
  windowBytes: number;
  previousBytes: number;
  /**
   * Refuses the request and gives its bytes back; called at most once: because the body `stalled`, or
   * because its source holds more than another that needs the room (`crowding`).
   */
  readonly shed: (why: ShedReason) => void;
}

/** Why a body was shed (BodyHolder.shed). */
export type ShedReason = 'stalled' | 'crowding';

/** A body bringing less than this over the last second or two gives way to others when a share is full. */
export const MIN_BYTES_PER_SECOND = 64 * 1024;
/** No body is shed in its first second: it has not had the time to show its pace. */
const GRACE_MS = 1000;
const WINDOW_MS = 1000;

export class BodyBudget {
  private total = 0;
  private guests = 0;
  /** Bytes each guest holds; a guest holding none has no entry. */
  private readonly held = new Map<string, number>();
  /** Bytes each source holds; a source holding none has no entry. */
  private readonly bySource = new Map<string, number>();
  /** The guests' bodies being read, which may be shed. */
  private readonly open = new Set<BodyHolder>();

  constructor(
    private readonly limits: { total: number; guests: number; perGuest: number; perSource?: number },
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Starts reading a body for `guest` (undefined for an operator, whose bodies are never shed), from
   * `source` when it is to count toward that source's share too (a guest's body only).
   */
  holder(guest: string | undefined, shed: (why: ShedReason) => void, source?: string): BodyHolder {
    const at = this.now();
    return {
      guest,
      source: guest === undefined ? undefined : source,
      held: 0,
      opened: at,
      windowStart: at,
      windowBytes: 0,
      previousBytes: 0,
      shed,
    };
  }

  /**
   * Takes `bytes` for `guest`; false, taking nothing, when that would pass a limit even after shedding
   * stalled bodies. With a `holder`, the bytes are the body's, and count as its progress.
   */
  take(guest: string | undefined, bytes: number, holder?: BodyHolder): boolean {
    const source = holder?.source;
    if (!this.fits(guest, bytes, source)) {
      if (guest === undefined) return false;
      this.shedFor(guest, bytes, holder);
      if (!this.fits(guest, bytes, source)) return false;
    }
    if (guest !== undefined) {
      this.guests += bytes;
      this.held.set(guest, (this.held.get(guest) ?? 0) + bytes);
      if (source !== undefined) this.bySource.set(source, (this.bySource.get(source) ?? 0) + bytes);
    }
    this.total += bytes;
    if (holder) {
      holder.held += bytes;
      this.progress(holder, bytes);
      if (guest !== undefined) this.open.add(holder);
    }
    return true;
  }

  /** Gives back `bytes` that `guest` took. */
  give(guest: string | undefined, bytes: number): void {
    if (bytes === 0) return;
    this.total -= bytes;
    if (guest === undefined) return;
    this.guests -= bytes;
    const left = this.held.get(guest)! - bytes;
    if (left > 0) this.held.set(guest, left);
    else this.held.delete(guest);
  }

  /** The holder's body is whole: it keeps its bytes until released, and is never shed now. */
  complete(holder: BodyHolder): void {
    this.open.delete(holder);
  }

  /** Gives back everything `holder` holds, for good: its request was answered or refused, or its client left. */
  release(holder: BodyHolder): void {
    this.open.delete(holder);
    this.give(holder.guest, holder.held);
    if (holder.source !== undefined && holder.held > 0) {
      const left = this.bySource.get(holder.source)! - holder.held;
      if (left > 0) this.bySource.set(holder.source, left);
      else this.bySource.delete(holder.source);
    }
    holder.held = 0;
  }

  private fits(guest: string | undefined, bytes: number, source?: string): boolean {
    if (this.total + bytes > this.limits.total) return false;
    if (guest === undefined) return true;
    if (source !== undefined && !this.sourceFits(source, bytes)) return false;
    return this.guests + bytes <= this.limits.guests && (this.held.get(guest) ?? 0) + bytes <= this.limits.perGuest;
  }

  private sourceFits(source: string, bytes: number): boolean {
    return (this.bySource.get(source) ?? 0) + bytes <= (this.limits.perSource ?? Infinity);
  }

  /** Sheds stalled guests' bodies, slowest first, until `bytes` more fit for `guest` or none is left to shed. */
  private shedFor(guest: string, bytes: number, asking: BodyHolder | undefined): void {
    const now = this.now();
    const stalled = [...this.open].filter(
      (h) => h !== asking && now - h.opened >= GRACE_MS && this.recentRate(h, now) < MIN_BYTES_PER_SECOND,
    );
    // Room in a source's share comes only from its own bodies, in the guest's own share only from the
    // guest's; the guests' and the total's from any guest's.
    const source = asking?.source;
    const sourceFull = source !== undefined && !this.sourceFits(source, bytes);
    const ownFull = (this.held.get(guest) ?? 0) + bytes > this.limits.perGuest;
    const candidates = (
      sourceFull ? stalled.filter((h) => h.source === source) : ownFull ? stalled.filter((h) => h.guest === guest) : stalled
    ).sort((a, b) => this.recentRate(a, now) - this.recentRate(b, now) || a.opened - b.opened);
    for (const h of candidates) {
      if (this.fits(guest, bytes, source)) break;
      this.release(h);
      h.shed('stalled');
    }
    if (source === undefined || sourceFull || this.fits(guest, bytes, source)) return;
    // Sources that fill their guest's share give way to one that would hold less than they do: the
    // heaviest first, its newest body first, and only while they hold more than the asker would.
    const after = (this.bySource.get(source) ?? 0) + bytes;
    const heavier = [...this.open]
      .filter((h) => h !== asking && h.guest === guest && h.source !== undefined && h.source !== source)
      .sort((a, b) => (this.bySource.get(b.source!) ?? 0) - (this.bySource.get(a.source!) ?? 0) || b.opened - a.opened);
    for (const h of heavier) {
      if (this.fits(guest, bytes, source)) break;
      if ((this.bySource.get(h.source!) ?? 0) <= after) continue;
      this.release(h);
      h.shed('crowding');
    }
  }

  /** Bytes a second the body brought over the current window and the whole one before it, if it has been open that long. */
  private recentRate(h: BodyHolder, now: number): number {
    this.progress(h, 0, now);
    const covered = now - h.windowStart + (h.windowStart > h.opened ? WINDOW_MS : 0);
    return ((h.windowBytes + h.previousBytes) * 1000) / Math.max(covered, 1);
  }

  /** Counts `bytes` of progress, moving the holder's windows on as time passes. */
  private progress(h: BodyHolder, bytes: number, now = this.now()): void {
    const elapsed = now - h.windowStart;
    if (elapsed >= WINDOW_MS) {
      // The window just ended becomes the previous one, or none came in between and nothing did.
      h.previousBytes = elapsed >= 2 * WINDOW_MS ? 0 : h.windowBytes;
      h.windowStart += Math.floor(elapsed / WINDOW_MS) * WINDOW_MS;
      h.windowBytes = 0;
    }
    h.windowBytes += bytes;
  }
}

/** Whose share a public caller's body draws on: its address, or an IPv6 address's /64 (what one host is given). */
export function sourceOf(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:')) return address;
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
