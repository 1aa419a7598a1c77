// CloudWatch alarms and their history.
import type { AlarmDoc, AlarmHistoryItem, HistoryPlace } from '../../domain/alarm.js';
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

  async history(
    filter: { alarmName?: string; type?: string; from?: number; to?: number },
    page: { after?: HistoryPlace; ascending?: boolean; limit: number },
  ) {
    const direction = page.ascending ? 'ASC' : 'DESC';
    const past = page.after ? ` AND (ts, seq) ${page.ascending ? '>' : '<'} ($6, $7)` : '';
    const rows = await this.db.rows<{ ts: number; seq: number; doc: string }>(
      'SELECT ts, seq, doc FROM alarm_history WHERE ($1::text IS NULL OR alarm_name = $1) AND ts >= $2 AND ts <= $3' +
        ` AND ($4::text IS NULL OR (doc::json)->>'HistoryItemType' = $4)${past} ORDER BY ts ${direction}, seq ${direction} LIMIT $5`,
      [
        filter.alarmName ?? null,
        filter.from ?? 0,
        filter.to ?? Number.MAX_SAFE_INTEGER,
        filter.type ?? null,
        page.limit,
        ...(page.after ? [page.after.ts, page.after.seq] : []),
      ],
    );
    return rows.map((r) => ({ item: JSON.parse(r.doc) as AlarmHistoryItem, place: { ts: Number(r.ts), seq: Number(r.seq) } }));
  }

  async deleteHistoryBefore(timestamp: number) {
    await this.db.run('DELETE FROM alarm_history WHERE ts < $1', [timestamp]);
  }
}
