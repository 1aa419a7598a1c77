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
  capabilities: string[];
  tags?: Record<string, string>;
  changes: { action: 'Add' | 'Modify' | 'Replace' | 'Remove'; logicalId: string; resourceType: string; physicalId?: string }[];
}
