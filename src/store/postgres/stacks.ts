// The stack engine's stacks: a record, a plan, resource rows and event rows each (stack-documents.ts).
import { MAX_STACK_EVENTS, type StackDoc } from '../../domain/stack.js';
import { joinStack, stackPlan, stackRecord } from '../stack-documents.js';
import type { StackRepository, StackStep } from '../store.js';
import type { Db } from './db.js';

export class PostgresStacks implements StackRepository {
  constructor(private readonly db: Db) {}

  get(name: string) {
    return this.db.atomic(async (db) => {
      const row = await db.row<{ doc: string }>('SELECT doc FROM stacks WHERE name = $1', [name]);
      return row && join(db, name, row.doc);
    }, 'REPEATABLE READ');
  }

  list() {
    return this.db.atomic(async (db) => {
      const rows = await db.rows<{ name: string; doc: string }>('SELECT name, doc FROM stacks ORDER BY name');
      const stacks: StackDoc[] = [];
      for (const r of rows) stacks.push(await join(db, r.name, r.doc));
      return stacks;
    }, 'REPEATABLE READ');
  }

  put(stack: StackDoc) {
    return this.db.atomic(async (db) => {
      await putRecord(db, stack);
      await db.run('INSERT INTO stack_plans (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [
        stack.name,
        stackPlan(stack),
      ]);
      await db.run('DELETE FROM stack_resources WHERE stack = $1', [stack.name]);
      const resources = Object.values(stack.resources);
      if (resources.length > 0) {
        await db.run(
          `INSERT INTO stack_resources (stack, logical_id, position, doc)
             SELECT $1, r.id, r.position - 1, r.doc FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS r(id, doc, position)`,
          [stack.name, resources.map((r) => r.logicalId), resources.map((r) => JSON.stringify(r))],
        );
      }
      await db.run('DELETE FROM stack_events WHERE stack = $1', [stack.name]);
      const events = stack.events.slice(-MAX_STACK_EVENTS);
      if (events.length > 0) {
        await db.run(
          `INSERT INTO stack_events (stack, seq, doc)
             SELECT $1, e.seq - 1, e.doc FROM unnest($2::text[]) WITH ORDINALITY AS e(doc, seq)`,
          [stack.name, events.map((e) => JSON.stringify(e))],
        );
      }
    });
  }

  step(stack: StackDoc, step: StackStep) {
    return this.db.atomic(async (db) => {
      await putRecord(db, stack);
      for (const r of step.resources) {
        await db.run(
          `INSERT INTO stack_resources (stack, logical_id, position, doc)
             VALUES ($1, $2, (SELECT COALESCE(MAX(position), -1) + 1 FROM stack_resources WHERE stack = $1), $3)
           ON CONFLICT (stack, logical_id) DO UPDATE SET doc = excluded.doc`,
          [stack.name, r.logicalId, JSON.stringify(r)],
        );
      }
      if (step.removed.length > 0)
        await db.run('DELETE FROM stack_resources WHERE stack = $1 AND logical_id = ANY($2::text[])', [stack.name, step.removed]);
      if (step.events.length === 0) return;
      await db.run(
        `INSERT INTO stack_events (stack, seq, doc)
           SELECT $1, (SELECT COALESCE(MAX(seq), -1) FROM stack_events WHERE stack = $1) + e.seq, e.doc
           FROM unnest($2::text[]) WITH ORDINALITY AS e(doc, seq)`,
        [stack.name, step.events.map((e) => JSON.stringify(e))],
      );
      await db.run('DELETE FROM stack_events WHERE stack = $1 AND seq <= (SELECT MAX(seq) FROM stack_events WHERE stack = $1) - $2', [
        stack.name,
        MAX_STACK_EVENTS,
      ]);
    });
  }

  delete(name: string) {
    return this.db.atomic(async (db) => {
      for (const table of ['stacks', 'stack_plans']) await db.run(`DELETE FROM ${table} WHERE name = $1`, [name]);
      for (const table of ['stack_resources', 'stack_events']) await db.run(`DELETE FROM ${table} WHERE stack = $1`, [name]);
    });
  }
}

async function putRecord(db: Db, stack: StackDoc): Promise<void> {
  await db.run('INSERT INTO stacks (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc', [
    stack.name,
    stackRecord(stack),
  ]);
}

async function join(db: Db, name: string, record: string): Promise<StackDoc> {
  const plan = await db.row<{ doc: string }>('SELECT doc FROM stack_plans WHERE name = $1', [name]);
  const resources = await db.rows<{ doc: string }>('SELECT doc FROM stack_resources WHERE stack = $1 ORDER BY position', [name]);
  const events = await db.rows<{ doc: string }>('SELECT doc FROM stack_events WHERE stack = $1 ORDER BY seq', [name]);
  return joinStack(
    record,
    plan?.doc,
    resources.map((r) => r.doc),
    events.map((e) => e.doc),
  );
}
