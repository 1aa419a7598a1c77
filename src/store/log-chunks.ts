// Log events kept in chunks, as both stores keep them: how a batch is cut into chunks, and how a read merges them.
import type { LogEventQuery, LogEventRecord } from '../domain/log.js';

/** An event as a chunk keeps it: seq, timestamp, ingestion time, message. */
export type ChunkEvent = [seq: number, timestamp: number, ingestionTime: number, message: string];

/**
 * A chunk as a read first gets it: what it is, its stream, the timestamp and seq of its first and last
 * events, how many, their messages' bytes. A chunk's place is its first (or last) event's (timestamp,
 * seq), not its timestamp alone: thousands of chunks may hold one millisecond, and a read must know which
 * of them hold the events past where it is without parsing them all (chunks written before the seqs were
 * kept have first_seq 0 and last_seq MAX_SAFE_INTEGER: they may hold any seq of their timestamps).
 */
export interface ChunkRow {
  id: number;
  stream_id: number;
  first_ts: number;
  first_seq: number;
  last_ts: number;
  last_seq: number;
  count: number;
  bytes: number;
}

/** The columns of a ChunkRow, for a store's SELECT (its events, JSON, are read apart, when not parsed already). */
export const CHUNK_ROW = 'id, stream_id, first_ts, first_seq, last_ts, last_seq, count, bytes';

/**
 * The events of chunks a store has parsed lately, up to a number of bytes of messages, least recently
 * used first out. Reading a log in order merges every chunk that holds events of the moment it has
 * reached, again for each step of a read (a hundred events) and each page a client asks for: chunks
 * whose events crowd one moment (PutLogEvents may write any time) were parsed again each step, which
 * made reading them quadratic (30 batches of 1,000 events in one second held the server for 50 s).
 * A chunk is known by everything a rewrite changes (retention and the size limit keep a chunk's newer
 * events under its id), so a rewritten chunk is parsed afresh.
 */
export class ParsedChunks {
  private readonly entries = new Map<string, { events: ChunkEvent[]; bytes: number }>();
  private held = 0;

  constructor(private readonly budgetBytes = 32 * 1024 * 1024) {}

  /** The chunk's events, parsed from `json()` unless they are held already. */
  async events(chunk: ChunkRow, json: () => string | Promise<string>): Promise<ChunkEvent[]> {
    return this.cached(chunk) ?? this.keep(chunk, chunkEvents(await json()));
  }

  /** The same, for a store that reads synchronously. */
  eventsNow(chunk: ChunkRow, json: () => string): ChunkEvent[] {
    return this.cached(chunk) ?? this.keep(chunk, chunkEvents(json()));
  }

  private cached(chunk: ChunkRow): ChunkEvent[] | undefined {
    const key = keyOf(chunk);
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.events;
  }

  private keep(chunk: ChunkRow, events: ChunkEvent[]): ChunkEvent[] {
    const bytes = Math.max(1, chunk.bytes);
    if (bytes > this.budgetBytes) return events;
    for (const [key, entry] of this.entries) {
      if (this.held + bytes <= this.budgetBytes) break;
      this.entries.delete(key);
      this.held -= entry.bytes;
    }
    this.entries.set(keyOf(chunk), { events, bytes });
    this.held += bytes;
    return events;
  }
}

const keyOf = (c: ChunkRow) => `${c.id}:${c.first_ts}:${c.last_ts}:${c.count}:${c.bytes}`;

/** At most this many events, and (unless one event is larger) this many bytes of messages, in one chunk. */
const CHUNK_EVENTS = 1000;
const CHUNK_BYTES = 1_048_576;

/**
 * A stream's events of one batch (in seq order, each with its message's UTF-8 size) as chunks: in
 * (timestamp, seq) order, each of at most CHUNK_EVENTS events and CHUNK_BYTES bytes of messages.
 * Sorts `events` in place.
 */
export function cutChunks(events: { event: ChunkEvent; bytes: number }[]): { events: ChunkEvent[]; bytes: number }[] {
  // The sort is stable and the events are in seq order already.
  const sorted = events.sort((a, b) => a.event[1] - b.event[1]);
  const chunks: { events: ChunkEvent[]; bytes: number }[] = [];
  let start = 0;
  while (start < sorted.length) {
    let end = start;
    let bytes = 0;
    while (end < sorted.length && end - start < CHUNK_EVENTS && (end === start || bytes + sorted[end]!.bytes <= CHUNK_BYTES)) {
      bytes += sorted[end]!.bytes;
      end++;
    }
    chunks.push({ events: sorted.slice(start, end).map((e) => e.event), bytes });
    start = end;
  }
  return chunks;
}

/**
 * The conditions a chunk must meet to hold an event of the query's window and position, each as columns
 * (one, or a row of two), a comparison, and the values a store writes as placeholders (a row of as many).
 * A position compares (timestamp, seq): a chunk whose last event is at or before `after` holds nothing
 * past it, even when its timestamps are the position's.
 */
export function chunkBounds(q: LogEventQuery): [columns: string, comparison: string, values: number[]][] {
  const bounds: [string, string, number[]][] = [];
  if (q.from !== undefined) bounds.push(['last_ts', '>=', [q.from]]);
  if (q.to !== undefined) bounds.push(['first_ts', '<', [q.to]]);
  if (q.after) bounds.push(['(last_ts, last_seq)', '>', [q.after.timestamp, q.after.seq]]);
  if (q.before) bounds.push(['(first_ts, first_seq)', '<', [q.before.timestamp, q.before.seq]]);
  return bounds;
}

/** The columns a read orders chunks by: their first events' places ascending, their last events' descending. */
export const chunkOrder = (descending: boolean | undefined): readonly [string, string, string] =>
  descending ? ['last_ts', 'last_seq', 'id'] : ['first_ts', 'first_seq', 'id'];

/**
 * Merges the events of chunks read in the order of their first (or, descending, last) timestamp: an event
 * is taken once no chunk still unread can hold one that comes before it. A store adds each chunk that
 * `needs` says may hold such an event, then `take`s one, until `full` or nothing is left to take.
 */
export class ChunkMerge {
  readonly out: LogEventRecord[] = [];
  private readonly ascending: boolean;
  private readonly heap: EventHeap;

  constructor(
    private readonly q: LogEventQuery,
    /** The name of each stream whose chunks are read, by id. */
    private readonly names: ReadonlyMap<number, string>,
  ) {
    this.ascending = !q.descending;
    this.heap = new EventHeap(this.ascending ? (a, b) => compareEvents(a, b) < 0 : (a, b) => compareEvents(a, b) > 0);
  }

  get full(): boolean {
    return this.out.length >= this.q.limit;
  }

  /**
   * True when a chunk, the next in the order read, may hold an event that comes before every event in
   * hand: while its first (ascending) or last (descending) event's (timestamp, seq) comes before the
   * first of them. (By timestamp alone, a read within a millisecond that holds many chunks took in all of
   * them at every step: 600,000 events of one millisecond were read a hundred at a time, each time all.)
   */
  needs(chunk: { first_ts: number; first_seq: number; last_ts: number; last_seq: number }): boolean {
    const top = this.heap.peek();
    if (!top) return true;
    return this.ascending
      ? chunk.first_ts < top[1] || (chunk.first_ts === top[1] && chunk.first_seq <= top[0])
      : chunk.last_ts > top[1] || (chunk.last_ts === top[1] && chunk.last_seq >= top[0]);
  }

  /** Takes in the chunk's events (see ParsedChunks) of the query's window and position. */
  add(chunk: ChunkRow, events: readonly ChunkEvent[]): void {
    const q = this.q;
    for (const e of events) {
      if (
        (q.from === undefined || e[1] >= q.from) &&
        (q.to === undefined || e[1] < q.to) &&
        (!q.after || e[1] > q.after.timestamp || (e[1] === q.after.timestamp && e[0] > q.after.seq)) &&
        (!q.before || e[1] < q.before.timestamp || (e[1] === q.before.timestamp && e[0] < q.before.seq))
      ) {
        this.heap.push(e, chunk.stream_id);
      }
    }
  }

  /** Moves the first event in hand to `out`; false when there is none. */
  take(): boolean {
    const first = this.heap.pop();
    if (!first) return false;
    const [seq, timestamp, ingestionTime, message] = first.event;
    this.out.push({ seq, timestamp, ingestionTime, message, streamName: this.names.get(first.stream)! });
    return true;
  }
}

/**
 * Merges chunks read one after the other from `chunks` (see ChunkMerge), reading no more of them than
 * needed; `eventsOf` gives a chunk's events (a store's ParsedChunks).
 */
export function mergeChunks(
  q: LogEventQuery,
  names: ReadonlyMap<number, string>,
  chunks: Iterator<ChunkRow>,
  eventsOf: (chunk: ChunkRow) => readonly ChunkEvent[],
): LogEventRecord[] {
  const merge = new ChunkMerge(q, names);
  let next = chunks.next();
  while (!merge.full) {
    if (!next.done && merge.needs(next.value)) {
      merge.add(next.value, eventsOf(next.value));
      next = chunks.next();
    } else if (!merge.take()) {
      break;
    }
  }
  return merge.out;
}

/** A chunk as cutForSize reads it, newest (by last event) first. */
export interface ChunkSize {
  id: number;
  last_ts: number;
  bytes: number;
}

/**
 * For cutForSize: among a group's chunks, newest first, the one that holds the oldest event to keep,
 * and how many bytes of its events may be kept; undefined when all of them fit in `keepBytes`.
 */
export function chunkToCut(chunks: readonly ChunkSize[], keepBytes: number): { id: number; room: number } | undefined {
  let newer = 0;
  for (const chunk of chunks) {
    if (newer + chunk.bytes > keepBytes) return { id: chunk.id, room: keepBytes - newer };
    newer += chunk.bytes;
  }
  return undefined;
}

/** The `before` that keeps a chunk's newest events within `room` bytes (all of them go when the newest alone is larger). */
export function cutWithin(json: string, room: number): number {
  const events = chunkEvents(json);
  let kept = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    kept += Buffer.byteLength(events[i]![3], 'utf8');
    if (kept > room) return events[i]![1] + 1;
  }
  return events[0]![1];
}

/** What a chunk keeps of its events (JSON) once those before `before` are dropped, and how many were. */
export function keepFrom(json: string, before: number): { events: ChunkEvent[]; bytes: number; dropped: number } {
  const events = chunkEvents(json);
  const kept = events.filter((e) => e[1] >= before);
  return { events: kept, bytes: kept.reduce((n, e) => n + Buffer.byteLength(e[3], 'utf8'), 0), dropped: events.length - kept.length };
}

/** A chunk's events in (timestamp, seq) order (chunks converted from rows by a migration may not be). */
function chunkEvents(json: string): ChunkEvent[] {
  const events = JSON.parse(json) as ChunkEvent[];
  for (let i = 1; i < events.length; i++) {
    if (compareEvents(events[i - 1]!, events[i]!) > 0) return events.sort(compareEvents);
  }
  return events;
}

function compareEvents(a: ChunkEvent, b: ChunkEvent): number {
  return a[1] - b[1] || a[0] - b[0];
}

/** A binary heap of events, the one `before` puts first on top. */
class EventHeap {
  private readonly items: { event: ChunkEvent; stream: number }[] = [];

  constructor(private readonly before: (a: ChunkEvent, b: ChunkEvent) => boolean) {}

  peek(): ChunkEvent | undefined {
    return this.items[0]?.event;
  }

  push(event: ChunkEvent, stream: number): void {
    const items = this.items;
    items.push({ event, stream });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!.event, items[parent]!.event)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): { event: ChunkEvent; stream: number } | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let first = i;
        if (left < items.length && this.before(items[left]!.event, items[first]!.event)) first = left;
        if (right < items.length && this.before(items[right]!.event, items[first]!.event)) first = right;
        if (first === i) break;
        [items[i], items[first]] = [items[first]!, items[i]!];
        i = first;
      }
    }
    return top;
  }
}
