import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { NewLogEvent } from '../../domain/log.js';
import { LogWriter } from './log-writer.js';
import { openSqliteStore } from './sqlite-store.js';

const event = (i: number): NewLogEvent => ({
  groupName: '/aws/lambda/f',
  streamName: 's',
  timestamp: 1000 + i,
  ingestionTime: 2000,
  message: `line ${i}`,
});

async function inTempDir(work: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'versa-log-writer-'));
  try {
    await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('a batch written on the writer thread is there for the next read, and the store closes with it', async () => {
  await inTempDir(async (dir) => {
    const file = path.join(dir, 'versa.db');
    const store = openSqliteStore(file);
    // Batches appended back to back are written in order, each read sees those before it.
    await Promise.all([store.logs.append([event(1), event(2)]), store.logs.append([event(3)])]);
    const read = await store.logs.events({ groupName: '/aws/lambda/f', limit: 10 });
    assert.deepEqual(
      read.map((e) => e.message),
      ['line 1', 'line 2', 'line 3'],
    );
    assert.equal((await store.logs.getStream('/aws/lambda/f', 's'))?.lastEventAt, 1003);
    await store.close();
    const again = openSqliteStore(file);
    assert.equal((await again.logs.events({ groupName: '/aws/lambda/f', limit: 10 })).length, 3);
    await again.close();
  });
});

test('a batch the writer cannot write is refused with the reason, not lost in silence', async () => {
  await inTempDir(async (dir) => {
    // A file without Versa's tables: the worker's insert fails.
    const writer = new LogWriter(path.join(dir, 'empty.db'));
    try {
      await assert.rejects(writer.append([event(1)]), /no such table/);
      // The writer is still there for the next batch, which fails the same way rather than hanging.
      await assert.rejects(writer.append([event(2)]), /no such table/);
    } finally {
      await writer.close();
    }
  });
});
