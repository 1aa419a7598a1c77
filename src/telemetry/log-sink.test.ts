import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { LogSink } from './log-sink.js';

describe('LogSink: a full buffer', () => {
  const dirs: string[] = [];
  after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it("drops the lines of the group that holds most of it, not the quiet group's, and says so in each group it took from", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'versa-log-sink-'));
    dirs.push(dir);
    const store = openSqliteStore(path.join(dir, 'versa.db'));
    const clock = new FakeClock(Date.UTC(2026, 0, 1));
    // Nothing is written until flush() is called: the buffer is what the store has not taken yet.
    const sink = new LogSink({
      store,
      clock,
      logger: createLogger('silent'),
      retentionDays: 7,
      maxBufferedEvents: 1_000,
      flushAtEvents: 1e9,
      maxBufferedChars: 1e9,
      flushAtChars: 1e9,
    });
    for (const group of ['/aws/lambda/victim', '/aws/lambda/flooder']) {
      await sink.createGroup(group);
      await sink.createStream(group, 's');
    }
    for (let i = 0; i < 50; i++) sink.append('/aws/lambda/victim', 's', `victim ${i}`);
    for (let i = 0; i < 5_000; i++) sink.append('/aws/lambda/flooder', 's', `flood ${i}`);
    await sink.flush();
    const victim = (await sink.groupEvents('/aws/lambda/victim')).map((e) => e.message);
    assert.deepEqual(
      victim,
      Array.from({ length: 50 }, (_, i) => `victim ${i}`),
    );
    const flood = (await sink.groupEvents('/aws/lambda/flooder')).map((e) => e.message);
    assert.ok(flood.length <= 1_000 && flood.length > 500, `${flood.length} of the flood's lines kept`);
    // The newest are kept, and a line says how many went.
    assert.ok(flood.includes('flood 4999'));
    assert.ok(!flood.includes('flood 0'));
    const notes = flood.filter((m) => m.startsWith('[Versa] '));
    assert.ok(notes.length >= 1);
    const said = notes.reduce((n, m) => n + Number(/^\[Versa\] (\d+) log events/.exec(m)![1]), 0);
    assert.equal(said + flood.length - notes.length, 5_000);
    await sink.close();
    await store.close();
  });
});
