// The stack engine's stacks, one document each.
import type { StackDoc } from '../../domain/stack.js';
import type { StackRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse } from './db.js';

export class PostgresStacks implements StackRepository {
  constructor(private readonly db: Db) {}

  async get(name: string) {
    return parse<StackDoc>(await this.db.row('SELECT doc FROM stacks WHERE name = $1', [name]));
  }

  async list() {
    return docs<StackDoc>(await this.db.rows('SELECT doc FROM stacks ORDER BY name'));
  }

  async put(stack: StackDoc) {
    await this.db.run('INSERT INTO stacks (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [
      stack.name,
      JSON.stringify(stack),
    ]);
  }

  async delete(name: string) {
    await this.db.run('DELETE FROM stacks WHERE name = $1', [name]);
  }
}
