// Writes batches of log events on a worker thread with its own connection to the database file, so that
// the inserts (three or more events per invocation) do not run on the event loop that answers requests.
import { Worker } from 'node:worker_threads';
import type { NewLogEvent } from '../../domain/log.js';
import { movable, packEvents } from './log-batch.js';

/** What the worker answers for each batch: its id, and the error that stopped it if it was not written. */
export interface WriterReply {
  id: number;
  error?: { message: string; code?: string };
}

export class LogWriter {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor(private readonly file: string) {}

  /** Writes `events` in one transaction; resolves once they are committed. The worker starts on first use. */
  append(events: readonly NewLogEvent[]): Promise<void> {
    const worker = (this.worker ??= this.start());
    const id = ++this.nextId;
    return new Promise<void>((resolve, reject) => {
      // A batch being written keeps the process alive (a server flushing its last events as it stops).
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      const packed = packEvents(events);
      worker.postMessage({ id, packed }, movable(packed));
    });
  }

  /** Stops the worker. The store calls it under its lock, which every append holds until written. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(new URL('./log-writer-worker.js', import.meta.url), { workerData: { file: this.file } });
    // An idle writer does not keep the process alive.
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.error) waiter.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
      else waiter.resolve();
    });
    // A worker that dies takes its batches with it: they fail (the log sink keeps them to retry), and the
    // next batch starts a new worker.
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error('the log writer stopped'));
    });
    return worker;
  }

  private failAll(err: Error): void {
    this.worker?.unref();
    for (const { reject } of this.waiting.values()) reject(err);
    this.waiting.clear();
  }
}
