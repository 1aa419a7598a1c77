// How the stores lay a stack out in rows, so that a step of its operation writes only what it changed.
import type { StackDoc, StackOperation, StackResource, StackEvent } from '../domain/stack.js';
import { readDocument } from './documents.js';

/** The operation's members fixed when it starts: stored with the plan, once, not at each step. */
const PLAN_MEMBERS = ['definitions', 'outputs', 'conditions', 'mappings', 'imports', 'parameters', 'previous'] as const;

type Plan = Pick<StackOperation, (typeof PLAN_MEMBERS)[number]>;

/** What a put stores besides the record, resources and events, and a step leaves as it was. */
interface PlanDocument {
  template?: string;
  changeSets?: StackDoc['changeSets'];
  operation?: Plan;
}

/**
 * The stack's record: every member but its resources, events, template, change sets and its
 * operation's plan, which are stored apart. This is what each step of an operation writes.
 */
export function stackRecord(stack: StackDoc): string {
  const { resources: _resources, events: _events, template: _template, changeSets: _changeSets, operation, ...record } = stack;
  if (!operation) return JSON.stringify(record);
  const progress: Partial<StackOperation> = { ...operation };
  for (const m of PLAN_MEMBERS) delete progress[m];
  return JSON.stringify({ ...record, operation: progress });
}

/** The stack's template, change sets and its operation's plan, which stay as they are through the operation's steps. */
export function stackPlan(stack: StackDoc): string {
  const plan: PlanDocument = { template: stack.template, changeSets: stack.changeSets };
  if (stack.operation) plan.operation = Object.fromEntries(PLAN_MEMBERS.map((m) => [m, stack.operation![m]])) as Plan;
  return JSON.stringify(plan);
}

/** The stack made whole again from its rows: resources and events in their stored order. */
export function joinStack(record: string, plan: string | undefined, resources: readonly string[], events: readonly string[]): StackDoc {
  const stack = readDocument<StackDoc>(record, 'a stack');
  const fixed = plan === undefined ? {} : readDocument<PlanDocument>(plan, 'a stack’s plan');
  // A member the migration found absent is null.
  if (fixed.template != null) stack.template = fixed.template;
  if (fixed.changeSets != null) stack.changeSets = fixed.changeSets;
  if (stack.operation) {
    for (const [m, value] of Object.entries(fixed.operation ?? {})) if (value !== null) Object.assign(stack.operation, { [m]: value });
  }
  stack.resources = {};
  for (const text of resources) {
    const r = readDocument<StackResource>(text, 'a stack’s resource');
    // Defined, not assigned: a logical id such as __proto__ stays a key.
    Object.defineProperty(stack.resources, r.logicalId, { value: r, enumerable: true, writable: true, configurable: true });
  }
  stack.events = events.map((e) => readDocument<StackEvent>(e, 'a stack’s event'));
  return stack;
}
