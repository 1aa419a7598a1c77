/** A template after parsing: plain JSON, intrinsic functions in their long form (`{ "Fn::Sub": ... }`). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One CloudFormation-level resource of a template, as the SAM transform leaves it. */
export interface ResourceDefinition {
  Type: string;
  Properties?: JsonObject;
  DependsOn?: string | string[];
  Condition?: string;
  DeletionPolicy?: string;
  UpdatePolicy?: JsonObject;
  Metadata?: JsonObject;
}

/** A resource a stack owns: what it was made from, what it is called, and what others may read of it. */
export interface StackResource {
  logicalId: string;
  type: string;
  physicalId: string;
  /** The properties last applied, with every intrinsic resolved. */
  properties: JsonObject;
  /** `Fn::GetAtt` values (Arn, Version, RootResourceId, ...). */
  attributes: Record<string, string>;
  /** Kept when the stack no longer lists it (DeletionPolicy: Retain). */
  retain?: boolean;
}

export type StackStatus =
  | 'REVIEW_IN_PROGRESS'
  | 'CREATE_IN_PROGRESS'
  | 'CREATE_COMPLETE'
  | 'ROLLBACK_IN_PROGRESS'
  | 'ROLLBACK_COMPLETE'
  | 'UPDATE_IN_PROGRESS'
  | 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_IN_PROGRESS'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'DELETE_IN_PROGRESS'
  | 'DELETE_FAILED';

/** How many events a stack keeps: the newest; older ones are dropped. */
export const MAX_STACK_EVENTS = 300;

export interface StackEvent {
  /** Unique within the stack; events stored before ids existed get one derived from their place. */
  id?: string;
  timestamp: number;
  logicalId: string;
  resourceType: string;
  physicalId?: string;
  status: string;
  reason?: string;
}

export interface StackOutput {
  key: string;
  value: string;
  description?: string;
  /** `Export.Name`: other stacks read the value with `Fn::ImportValue`. */
  exportName?: string;
}

/** An output as the template declares it. */
export interface OutputDefinition {
  Value: Json;
  Description?: Json;
  Condition?: string;
  Export?: Json;
}

/** An alias moved by a CodeDeploy deployment during a stack update. */
export interface AliasDeployment {
  logicalId: string;
  functionName: string;
  alias: string;
  fromVersion: string;
  toVersion: string;
  deploymentId: string;
}

/** What an update in flight must remember to finish or undo itself after a restart. */
export interface StackOperation {
  kind: 'create' | 'update';
  phase: 'apply' | 'traffic' | 'cleanup' | 'rollback';
  startedAt: number;
  /** The template's resources and outputs this operation moves the stack to (resolved at the end). */
  definitions: Record<string, ResourceDefinition>;
  outputs: Record<string, OutputDefinition>;
  conditions: Record<string, boolean>;
  mappings: JsonObject;
  /** `Fn::ImportValue`: the other stacks' exports this template reads, as they were when it was deployed. */
  imports?: Record<string, string>;
  /** Parameter values (a CommaDelimitedList is a list). */
  parameters: Record<string, Json>;
  /** Resources as they were before the operation touched them; undefined for ones it created. */
  before: Record<string, StackResource | null>;
  deployments: AliasDeployment[];
  failure?: string;
  /** An update's: what the stack showed of its last deploy, put back when the update rolls back. */
  previous?: StackSettings;
}

export interface StackDoc {
  name: string;
  stackId: string;
  /** The region of the client that created it: ARNs of its resources carry it. */
  region: string;
  status: StackStatus;
  reason?: string;
  createdAt: number;
  updatedAt: number;
  parameters: Record<string, string>;
  resources: Record<string, StackResource>;
  outputs: StackOutput[];
  /** Each alias's version before the last deploy that moved it, for `versa rollback`. */
  previousAliasVersions: { logicalId: string; functionName: string; alias: string; version: string }[];
  operation?: StackOperation;
  events: StackEvent[];
  /** The template as the client sent it, last deployed or being deployed (GetTemplate). */
  template?: string;
  /** The template's `Description`. */
  description?: string;
  /** The exports the template reads by `Fn::ImportValue` of a literal name (they cannot be deleted under it). */
  importNames?: string[];
  /** Parameters declared `NoEcho`: shown as `****`. */
  noEcho?: string[];
  /** What the CloudFormation door's caller acknowledged, and the stack's tags. */
  capabilities?: string[];
  tags?: Record<string, string>;
  /** CloudFormation change sets of this stack, oldest first. */
  changeSets?: ChangeSet[];
}

/** What a deploy records on the stack from its call and template (CloudFormation's DescribeStacks, GetTemplate). */
export const STACK_SETTINGS = ['parameters', 'template', 'description', 'noEcho', 'importNames', 'capabilities', 'tags'] as const;
export type StackSettings = Pick<StackDoc, (typeof STACK_SETTINGS)[number]>;

/** A planned change, kept until it is executed or deleted (CloudFormation's CreateChangeSet). */
export interface ChangeSet {
  id: string;
  name: string;
  type: 'CREATE' | 'UPDATE';
  description?: string;
  createdAt: number;
  status: 'CREATE_COMPLETE' | 'FAILED';
  statusReason?: string;
  executionStatus: 'AVAILABLE' | 'UNAVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE';
  /** The deploy it runs when executed. */
  template: string;
  parameters: Record<string, string>;
  /** Parameters its template declares `NoEcho`: shown as `****`. */
  noEcho?: string[];
  capabilities: string[];
  tags?: Record<string, string>;
  changes: { action: 'Add' | 'Modify' | 'Replace' | 'Remove'; logicalId: string; resourceType: string; physicalId?: string }[];
}

/** How CloudFormation shows the value of a `NoEcho` parameter. */
export const NO_ECHO_MASK = '****';

/** Parameter values as CloudFormation shows them: each of `noEcho` as `****`. */
export function maskedParameters(values: Record<string, string>, noEcho: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(values)) out[k] = noEcho?.includes(k) ? NO_ECHO_MASK : v;
  return out;
}

/**
 * The values of a stack's `NoEcho` parameters (and of its change sets'), each item of a list too: what
 * must not leave the server in clear where CloudFormation shows nothing of it.
 */
export function noEchoValues(stack: StackDoc): string[] {
  const out = new Set<string>();
  const add = (values: Record<string, string>, keys: readonly string[] | undefined) => {
    for (const k of keys ?? []) {
      const v = Object.hasOwn(values, k) ? values[k] : undefined;
      if (!v) continue;
      out.add(v);
      for (const item of v.split(',')) if (item) out.add(item);
    }
  };
  add(stack.parameters, stack.noEcho);
  for (const c of stack.changeSets ?? []) add(c.parameters, [...(c.noEcho ?? []), ...(stack.noEcho ?? [])]);
  // Longest first, so that a value holding another is masked whole.
  return [...out].sort((a, b) => b.length - a.length);
}

/** `value` with every occurrence of each of `secrets` (noEchoValues) in its strings replaced by `****`. */
export function maskSecrets<T extends Json | undefined>(value: T, secrets: readonly string[]): T {
  if (secrets.length === 0 || value === undefined || value === null) return value;
  if (typeof value === 'string') {
    let text: string = value;
    for (const s of secrets) text = text.replaceAll(s, NO_ECHO_MASK);
    return text as T;
  }
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, secrets)) as T;
  if (typeof value === 'object') {
    const out: JsonObject = {};
    // Own keys defined as keys (a key named __proto__ stays a key, as JSON.parse makes it).
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, { value: maskSecrets(v, secrets), enumerable: true, writable: true, configurable: true });
    return out as T;
  }
  return value;
}
