// SSM Parameter Store parameters.
import type { ParameterDoc } from '../../domain/parameter.js';
import type { ParameterRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';

export class SqliteParameters implements ParameterRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(name: string) {
    return this.guard(() => parse<ParameterDoc>(this.db.prepare('SELECT doc FROM ssm_parameters WHERE name = ?').get(name)));
  }

  list(prefix: string, page?: { after?: string; limit: number; children?: boolean }) {
    return this.guard(() => {
      const after = page?.after !== undefined ? ' AND name > ?' : '';
      const children = page?.children ? " AND instr(substr(name, length(?) + 1), '/') = 0" : '';
      const limit = page ? ' LIMIT ?' : '';
      const params = [
        prefix,
        prefix,
        ...(page?.after !== undefined ? [page.after] : []),
        ...(page?.children ? [prefix] : []),
        ...(page ? [page.limit] : []),
      ];
      return docs<ParameterDoc>(
        this.db
          .prepare(`SELECT doc FROM ssm_parameters WHERE substr(name, 1, length(?)) = ?${after}${children} ORDER BY name${limit}`)
          .all(...params),
      );
    });
  }

  put(parameter: ParameterDoc) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO ssm_parameters (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc')
        .run(parameter.name, JSON.stringify(parameter));
    });
  }

  delete(name: string) {
    return this.guard(() => this.db.prepare('DELETE FROM ssm_parameters WHERE name = ?').run(name).changes === 1);
  }

  count() {
    return this.guard(() => (this.db.prepare('SELECT count(*) AS n FROM ssm_parameters').get() as { n: number }).n);
  }
}
