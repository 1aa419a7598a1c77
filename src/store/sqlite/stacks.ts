// The stack engine's stacks: a record, a plan, resource rows and event rows each (stack-documents.ts).
import { MAX_STACK_EVENTS, type StackDoc } from '../../domain/stack.js';
import { joinStack, stackPlan, stackRecord } from '../stack-documents.js';
import type { StackRepository, StackStep } from '../store.js';
import type { Db, Guard } from './db.js';

export class SqliteStacks implements StackRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(name: string) {
    return this.guard(() => {
      const record = this.db.prepare('SELECT doc FROM stacks WHERE name = ?').pluck().get(name) as string | undefined;
      return record === undefined ? undefined : this.join(name, record);
    });
  }

  list() {
    return this.guard(() =>
      (this.db.prepare('SELECT name, doc FROM stacks ORDER BY name').all() as { name: string; doc: string }[]).map((r) =>
        this.join(r.name, r.doc),
      ),
    );
  }

  private join(name: string, record: string): StackDoc {
    const plan = this.db.prepare('SELECT doc FROM stack_plans WHERE name = ?').pluck().get(name) as string | undefined;
    const resources = this.db.prepare('SELECT doc FROM stack_resources WHERE stack = ? ORDER BY position').pluck().all(name) as string[];
    const events = this.db.prepare('SELECT doc FROM stack_events WHERE stack = ? ORDER BY seq').pluck().all(name) as string[];
    return joinStack(record, plan, resources, events);
  }

  put(stack: StackDoc) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.putRecord(stack);
        this.db
          .prepare('INSERT INTO stack_plans (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc')
          .run(stack.name, stackPlan(stack));
        this.db.prepare('DELETE FROM stack_resources WHERE stack = ?').run(stack.name);
        const resource = this.db.prepare('INSERT INTO stack_resources (stack, logical_id, position, doc) VALUES (?, ?, ?, ?)');
        Object.values(stack.resources).forEach((r, i) => resource.run(stack.name, r.logicalId, i, JSON.stringify(r)));
        this.db.prepare('DELETE FROM stack_events WHERE stack = ?').run(stack.name);
        const event = this.db.prepare('INSERT INTO stack_events (stack, seq, doc) VALUES (?, ?, ?)');
        stack.events.slice(-MAX_STACK_EVENTS).forEach((e, i) => event.run(stack.name, i, JSON.stringify(e)));
      })();
    });
  }

  step(stack: StackDoc, step: StackStep) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.putRecord(stack);
        const resource = this.db.prepare(
          `INSERT INTO stack_resources (stack, logical_id, position, doc)
             VALUES (?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM stack_resources WHERE stack = ?), ?)
           ON CONFLICT(stack, logical_id) DO UPDATE SET doc = excluded.doc`,
        );
        for (const r of step.resources) resource.run(stack.name, r.logicalId, stack.name, JSON.stringify(r));
        const removed = this.db.prepare('DELETE FROM stack_resources WHERE stack = ? AND logical_id = ?');
        for (const id of step.removed) removed.run(stack.name, id);
        if (step.events.length === 0) return;
        const event = this.db.prepare(
          'INSERT INTO stack_events (stack, seq, doc) VALUES (?, (SELECT COALESCE(MAX(seq), -1) + 1 FROM stack_events WHERE stack = ?), ?)',
        );
        for (const e of step.events) event.run(stack.name, stack.name, JSON.stringify(e));
        this.db
          .prepare('DELETE FROM stack_events WHERE stack = ? AND seq <= (SELECT MAX(seq) FROM stack_events WHERE stack = ?) - ?')
          .run(stack.name, stack.name, MAX_STACK_EVENTS);
      })();
    });
  }

  private putRecord(stack: StackDoc): void {
    this.db
      .prepare('INSERT INTO stacks (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc')
      .run(stack.name, stackRecord(stack));
  }

  delete(name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        for (const table of ['stacks', 'stack_plans']) this.db.prepare(`DELETE FROM ${table} WHERE name = ?`).run(name);
        for (const table of ['stack_resources', 'stack_events']) this.db.prepare(`DELETE FROM ${table} WHERE stack = ?`).run(name);
      })();
    });
  }
}
