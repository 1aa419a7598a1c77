// CloudWatch alarms and their history.
import type { AlarmDoc, AlarmHistoryItem } from '../../domain/alarm.js';
import type { AlarmRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse } from './db.js';
import { deleteTags } from './tags.js';

export class PostgresAlarms implements AlarmRepository {
  constructor(private readonly db: Db) {}

  async get(name: string) {
    return parse<AlarmDoc>(await this.db.row('SELECT doc FROM alarms WHERE name = $1', [name]));
  }

  async list() {
    return docs<AlarmDoc>(await this.db.rows('SELECT doc FROM alarms ORDER BY name'));
  }

  async put(alarm: AlarmDoc) {
    await this.db.run('INSERT INTO alarms (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [
      alarm.AlarmName,
      JSON.stringify(alarm),
    ]);
  }

  delete(name: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM alarms WHERE name = $1', [name]);
      await deleteTags(db, { kind: 'alarm', name });
    });
  }

  async addHistory(item: AlarmHistoryItem) {
    await this.db.run('INSERT INTO alarm_history (alarm_name, ts, doc) VALUES ($1, $2, $3)', [
      item.AlarmName,
      item.Timestamp,
      JSON.stringify(item),
    ]);
  }

  async history(filter: { alarmName?: string; from?: number; to?: number }) {
    return docs<AlarmHistoryItem>(
      await this.db.rows(
        'SELECT doc FROM alarm_history WHERE ($1::text IS NULL OR alarm_name = $1) AND ts >= $2 AND ts <= $3 ORDER BY ts DESC, seq DESC',
        [filter.alarmName ?? null, filter.from ?? 0, filter.to ?? Number.MAX_SAFE_INTEGER],
      ),
    );
  }

  async deleteHistoryBefore(timestamp: number) {
    await this.db.run('DELETE FROM alarm_history WHERE ts < $1', [timestamp]);
  }
}
