// SSM Parameter Store parameters.
import type { ParameterDoc } from '../../domain/parameter.js';
import type { ParameterRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse, startsWith } from './db.js';

export class PostgresParameters implements ParameterRepository {
  constructor(private readonly db: Db) {}

  async get(name: string) {
    return parse<ParameterDoc>(await this.db.row('SELECT doc FROM ssm_parameters WHERE name = $1', [name]));
  }

  async list(prefix: string, page?: { after?: string; limit: number; children?: boolean }) {
    const params: unknown[] = [startsWith(prefix)];
    let after = '';
    if (page?.after !== undefined) {
      params.push(page.after);
      after = ` AND name COLLATE "C" > $${params.length}`;
    }
    if (page?.children) {
      params.push(prefix);
      after += ` AND strpos(substr(name, char_length($${params.length}) + 1), '/') = 0`;
    }
    let limit = '';
    if (page) {
      params.push(page.limit);
      limit = ` LIMIT $${params.length}`;
    }
    // Byte order, as SQLite's: a page's last name is where the next one starts.
    return docs<ParameterDoc>(
      await this.db.rows(`SELECT doc FROM ssm_parameters WHERE name LIKE $1 ESCAPE '\\'${after} ORDER BY name COLLATE "C"${limit}`, params),
    );
  }

  async put(parameter: ParameterDoc) {
    await this.db.run('INSERT INTO ssm_parameters (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [
      parameter.name,
      JSON.stringify(parameter),
    ]);
  }

  async delete(name: string) {
    return (await this.db.run('DELETE FROM ssm_parameters WHERE name = $1', [name])) === 1;
  }

  async count() {
    const [row] = await this.db.rows<{ n: string }>('SELECT count(*) AS n FROM ssm_parameters');
    return Number(row?.n ?? 0);
  }
}
