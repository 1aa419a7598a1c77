import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mergeChunks, type ChunkEvent, type ChunkRow } from './log-chunks.js';

describe('mergeChunks', () => {
  // 600 chunks of 1,000 events, all of one millisecond, in the order a store reads them (first event's place).
  const chunks = Array.from({ length: 600 }, (_, c) => {
    const events: ChunkEvent[] = Array.from({ length: 1000 }, (_, i) => [c * 1000 + i + 1, 5, 5, `e${c * 1000 + i + 1}`]);
    const row: ChunkRow = {
      id: c + 1,
      stream_id: 1,
      first_ts: 5,
      first_seq: c * 1000 + 1,
      last_ts: 5,
      last_seq: c * 1000 + 1000,
      count: 1000,
      bytes: 4000,
    };
    return { row, events };
  });
  const names = new Map([[1, 's']]);

  it('a read from a position within a millisecond of 600 chunks takes in the chunks that hold what comes next, not all of them', () => {
    for (const descending of [false, true]) {
      let parsed = 0;
      const at = { timestamp: 5, seq: 300_500 };
      // As a store gives them: those that may hold an event past the position, in its direction's order.
      const rows = (descending ? [...chunks].reverse() : chunks)
        .map((c) => c.row)
        .filter((r) => (descending ? r.first_seq < at.seq : r.last_seq > at.seq));
      const got = mergeChunks(
        { groupName: 'g', limit: 100, descending, ...(descending ? { before: at } : { after: at }) },
        names,
        rows.values(),
        (r) => {
          parsed++;
          return chunks[r.id - 1]!.events;
        },
      );
      assert.deepEqual(
        got.map((e) => e.seq),
        Array.from({ length: 100 }, (_, i) => (descending ? 300_499 - i : 300_501 + i)),
      );
      // By timestamp alone every chunk of the millisecond might have held the next event: all 600 were merged, each step.
      assert.ok(parsed <= 2, `${parsed} chunks merged (${descending ? 'descending' : 'ascending'})`);
    }
  });
});
