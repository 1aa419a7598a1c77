/**
 * Request bodies held in memory while they arrive, and who holds them: every request together, the
 * guests together (requests not signed with an operator's key: functions' environment and STS keys,
 * unknown keys and none) and each guest alone (Keyring.guestOf: one function, or all unknown and
 * unsigned callers). Bodies that never finish, a stalled client's or a function's, then keep neither
 * the operator nor the other functions out.
 */
export class BodyBudget {
  private total = 0;
  private guests = 0;
  /** Bytes each guest holds; a guest holding none has no entry. */
  private readonly held = new Map<string, number>();

  constructor(private readonly limits: { total: number; guests: number; perGuest: number }) {}

  /** Takes `bytes` for `guest` (undefined for an operator); false, taking nothing, when that would pass a limit. */
  take(guest: string | undefined, bytes: number): boolean {
    if (this.total + bytes > this.limits.total) return false;
    if (guest !== undefined) {
      const mine = this.held.get(guest) ?? 0;
      if (this.guests + bytes > this.limits.guests || mine + bytes > this.limits.perGuest) return false;
      this.guests += bytes;
      this.held.set(guest, mine + bytes);
    }
    this.total += bytes;
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
}
