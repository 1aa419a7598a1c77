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

  async list(prefix: string) {
    return docs<ParameterDoc>(
      await this.db.rows("SELECT doc FROM ssm_parameters WHERE name LIKE $1 ESCAPE '\\' ORDER BY name", [startsWith(prefix)]),
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
