// Each function's and qualifier's asynchronous invocation settings: retries, maximum event age, destinations.
import type { EventInvokeConfigRecord } from '../../domain/async-event.js';
import type { EventInvokeConfigRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';

export class SqliteEventInvokeConfigs implements EventInvokeConfigRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(functionName: string, qualifier: string) {
    return this.guard(() =>
      parse<EventInvokeConfigRecord>(
        this.db.prepare('SELECT doc FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').get(functionName, qualifier) as
          { doc: string } | undefined,
      ),
    );
  }

  list(functionName: string) {
    return this.guard(() =>
      docs<EventInvokeConfigRecord>(
        this.db.prepare('SELECT doc FROM event_invoke_configs WHERE function_name = ? ORDER BY qualifier').all(functionName),
      ),
    );
  }

  put(record: EventInvokeConfigRecord) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO event_invoke_configs (function_name, qualifier, doc) VALUES (?, ?, ?) ON CONFLICT(function_name, qualifier) DO UPDATE SET doc = excluded.doc',
        )
        .run(record.functionName, record.qualifier, JSON.stringify(record));
    });
  }

  delete(functionName: string, qualifier: string) {
    return this.guard(
      () =>
        this.db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').run(functionName, qualifier).changes >
        0,
    );
  }
}
