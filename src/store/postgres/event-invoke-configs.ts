// Each function's and qualifier's asynchronous invocation settings: retries, maximum event age, destinations.
import type { EventInvokeConfigRecord } from '../../domain/async-event.js';
import type { EventInvokeConfigRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse } from './db.js';

export class PostgresEventInvokeConfigs implements EventInvokeConfigRepository {
  constructor(private readonly db: Db) {}

  async get(functionName: string, qualifier: string) {
    return parse<EventInvokeConfigRecord>(
      await this.db.row('SELECT doc FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2', [functionName, qualifier]),
    );
  }

  async list(functionName: string) {
    return docs<EventInvokeConfigRecord>(
      await this.db.rows('SELECT doc FROM event_invoke_configs WHERE function_name = $1 ORDER BY qualifier', [functionName]),
    );
  }

  async put(record: EventInvokeConfigRecord) {
    await this.db.run(
      'INSERT INTO event_invoke_configs (function_name, qualifier, doc) VALUES ($1, $2, $3) ON CONFLICT (function_name, qualifier) DO UPDATE SET doc = excluded.doc',
      [record.functionName, record.qualifier, JSON.stringify(record)],
    );
  }

  async delete(functionName: string, qualifier: string) {
    return (
      (await this.db.run('DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2', [functionName, qualifier])) > 0
    );
  }
}
