// The log writer's thread (log-writer.ts): its own connection to the database, one transaction per batch.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { NewLogEvent } from '../../domain/log.js';
import { configure } from './db.js';
import type { WriterReply } from './log-writer.js';
import { appendEvents } from './logs.js';

const db = new Database((workerData as { file: string }).file);
configure(db);

parentPort!.on('message', ({ id, events }: { id: number; events: NewLogEvent[] }) => {
  let reply: WriterReply = { id };
  try {
    appendEvents(db, events);
  } catch (err) {
    const e = err as { message?: string; code?: string };
    reply = { id, error: { message: e.message ?? String(err), ...(e.code && { code: e.code }) } };
  }
  parentPort!.postMessage(reply);
});
