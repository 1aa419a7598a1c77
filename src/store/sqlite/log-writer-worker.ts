// The log writer's thread (log-writer.ts): its own connection to the database, one transaction per batch.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { configure } from './db.js';
import { type PackedEvents, unpackEvents } from './log-batch.js';
import type { WriterReply } from './log-writer.js';
import { appendEvents } from './logs.js';

const db = new Database((workerData as { file: string }).file);
configure(db);

parentPort!.on('message', ({ id, packed }: { id: number; packed: PackedEvents }) => {
  let reply: WriterReply = { id };
  try {
    appendEvents(db, unpackEvents(packed));
  } catch (err) {
    const e = err as { message?: string; code?: string };
    reply = { id, error: { message: e.message ?? String(err), ...(e.code && { code: e.code }) } };
  }
  parentPort!.postMessage(reply);
});
