// CloudWatch alarms and their history.
import type { AlarmDoc, AlarmHistoryItem, HistoryPlace } from '../../domain/alarm.js';
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

  history(
    filter: { alarmName?: string; type?: string; from?: number; to?: number },
    page: { after?: HistoryPlace; ascending?: boolean; limit: number },
  ) {
    const direction = page.ascending ? 'ASC' : 'DESC';
    const past = page.after ? ` AND (ts, seq) ${page.ascending ? '>' : '<'} (?, ?)` : '';
    const sql =
      'SELECT ts, seq, doc FROM alarm_history WHERE (? IS NULL OR alarm_name = ?) AND ts >= ? AND ts <= ?' +
      ` AND (? IS NULL OR json_extract(doc, '$.HistoryItemType') = ?)${past} ORDER BY ts ${direction}, seq ${direction} LIMIT ?`;
    return this.guard(() =>
      (
        this.db
          .prepare(sql)
          .all(
            filter.alarmName ?? null,
            filter.alarmName ?? null,
            filter.from ?? 0,
            filter.to ?? Number.MAX_SAFE_INTEGER,
            filter.type ?? null,
            filter.type ?? null,
            ...(page.after ? [page.after.ts, page.after.seq] : []),
            page.limit,
          ) as { ts: number; seq: number; doc: string }[]
      ).map((r) => ({ item: JSON.parse(r.doc) as AlarmHistoryItem, place: { ts: r.ts, seq: r.seq } })),
    );
  }

  deleteHistoryBefore(timestamp: number) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM alarm_history WHERE ts < ?').run(timestamp);
    });
  }
}
