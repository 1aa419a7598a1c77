// CloudWatch alarms and their history.
import type { AlarmDoc, AlarmHistoryItem } from '../../domain/alarm.js';
import type { AlarmRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';
import { deleteTags } from './tags.js';

export class SqliteAlarms implements AlarmRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(name: string) {
    return this.guard(() =>
      parse<AlarmDoc>(this.db.prepare('SELECT doc FROM alarms WHERE name = ?').get(name) as { doc: string } | undefined),
    );
  }

  list() {
    return this.guard(() => docs<AlarmDoc>(this.db.prepare('SELECT doc FROM alarms ORDER BY name').all()));
  }

  put(alarm: AlarmDoc) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO alarms (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc')
        .run(alarm.AlarmName, JSON.stringify(alarm));
    });
  }

  delete(name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM alarms WHERE name = ?').run(name);
        deleteTags(this.db, { kind: 'alarm', name });
      })();
    });
  }

  addHistory(item: AlarmHistoryItem) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO alarm_history (alarm_name, ts, doc) VALUES (?, ?, ?)')
        .run(item.AlarmName, item.Timestamp, JSON.stringify(item));
    });
  }

  history(filter: { alarmName?: string; from?: number; to?: number }) {
    return this.guard(() =>
      docs<AlarmHistoryItem>(
        this.db
          .prepare('SELECT doc FROM alarm_history WHERE (? IS NULL OR alarm_name = ?) AND ts >= ? AND ts <= ? ORDER BY ts DESC, seq DESC')
          .all(filter.alarmName ?? null, filter.alarmName ?? null, filter.from ?? 0, filter.to ?? Number.MAX_SAFE_INTEGER),
      ),
    );
  }

  deleteHistoryBefore(timestamp: number) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM alarm_history WHERE ts < ?').run(timestamp);
    });
  }
}
