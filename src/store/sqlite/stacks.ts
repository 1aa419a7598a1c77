// The stack engine's stacks, one document each.
import type { StackDoc } from '../../domain/stack.js';
import type { StackRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';

export class SqliteStacks implements StackRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(name: string) {
    return this.guard(() =>
      parse<StackDoc>(this.db.prepare('SELECT doc FROM stacks WHERE name = ?').get(name) as { doc: string } | undefined),
    );
  }

  list() {
    return this.guard(() => docs<StackDoc>(this.db.prepare('SELECT doc FROM stacks ORDER BY name').all()));
  }

  put(stack: StackDoc) {
    return this.guard(() => {
      this.db
        .prepare('INSERT INTO stacks (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc')
        .run(stack.name, JSON.stringify(stack));
    });
  }

  delete(name: string) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM stacks WHERE name = ?').run(name);
    });
  }
}
