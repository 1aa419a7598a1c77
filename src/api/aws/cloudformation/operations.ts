import { PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import type { DeployInput, StackService } from '../../../stacks/stack-service.js';
import { MAX_TEMPLATE_BYTES } from '../../../stacks/template-values.js';
import {
  maskedParameters,
  maskSecrets,
  noEchoValues,
  type ChangeSet,
  type StackDoc,
  type StackEvent,
  type StackResource,
} from '../../../domain/stack.js';
import type { ApiRequest, ServiceHandler } from '../protocol/http.js';
import { firstNonXmlCharacter, queryService, type QueryOperation, type QueryStructure, type QueryValue } from '../protocol/query.js';
import { functionScope } from '../../access/function-scope.js';

export interface CloudFormationApiDeps {
  stacks: StackService;
  logger: Logger;
  /** Versa's S3, where a `TemplateURL` points. */
  objects: {
    getObject(bucket: string, key: string, versionId?: string): Promise<{ size: number }>;
    read(bucket: string, key: string, versionId: string | undefined, deploying: boolean): Promise<Uint8Array>;
  };
}

const NAMESPACE_XML = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
/** The model's wire codes for shapes it renames. */
const CODES: Record<string, string> = {
  ChangeSetNotFoundException: 'ChangeSetNotFound',
  InvalidChangeSetStatusException: 'InvalidChangeSetStatus',
};
/** CloudFormation's limit on a TemplateBody (a bigger template goes through S3 as a TemplateURL). */
const MAX_TEMPLATE_BODY = 51_200;
const STACK_ARN = /^arn:aws[\w-]*:cloudformation:[^:]*:\d*:stack\/([^/]+)\/[^/]+$/;
/** A change set's ARN, which names it without its stack. */
const CHANGE_SET_ARN = /^arn:aws[\w-]*:cloudformation:[^:]*:\d*:changeSet\/[^/]+\/[^/]+$/;
const CAPABILITIES = new Set(['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND']);
/** Every stack status CloudFormation's model names (what ListStacks may filter on). */
const STACK_STATUSES = new Set(
  [
    'CREATE_IN_PROGRESS CREATE_FAILED CREATE_COMPLETE ROLLBACK_IN_PROGRESS ROLLBACK_FAILED ROLLBACK_COMPLETE',
    'DELETE_IN_PROGRESS DELETE_FAILED DELETE_COMPLETE UPDATE_IN_PROGRESS UPDATE_COMPLETE_CLEANUP_IN_PROGRESS UPDATE_COMPLETE',
    'UPDATE_FAILED UPDATE_ROLLBACK_IN_PROGRESS UPDATE_ROLLBACK_FAILED UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS',
    'UPDATE_ROLLBACK_COMPLETE REVIEW_IN_PROGRESS IMPORT_IN_PROGRESS IMPORT_COMPLETE IMPORT_ROLLBACK_IN_PROGRESS',
    'IMPORT_ROLLBACK_FAILED IMPORT_ROLLBACK_COMPLETE',
  ]
    .join(' ')
    .split(' '),
);

const validation = (message: string) => new PlatformError('ValidationError', message);

/** Reads of the query form, refusing a member of the wrong shape with CloudFormation's ValidationError. */
const read = {
  str(form: QueryStructure, key: string): string | undefined {
    const v = form[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw validation(`The parameter ${key} must be a string.`);
    return v;
  },
  required(form: QueryStructure, key: string): string {
    const v = read.str(form, key);
    if (v === undefined || v === '')
      throw validation(
        `1 validation error detected: Value null at '${key.charAt(0).toLowerCase()}${key.slice(1)}' failed to satisfy constraint: Member must not be null`,
      );
    return v;
  },
  bool(form: QueryStructure, key: string): boolean {
    return read.str(form, key) === 'true';
  },
  list(form: QueryStructure, key: string): QueryValue[] {
    const v = form[key];
    if (v === undefined || v === '') return [];
    if (!Array.isArray(v)) throw validation(`The parameter ${key} must be a list.`);
    return v.filter((x) => x !== undefined);
  },
  strings(form: QueryStructure, key: string): string[] {
    return read.list(form, key).map((v) => {
      if (typeof v !== 'string') throw validation(`The parameter ${key} must be a list of strings.`);
      return v;
    });
  },
  structures(form: QueryStructure, key: string): QueryStructure[] {
    return read.list(form, key).map((v) => {
      if (typeof v !== 'object' || Array.isArray(v)) throw validation(`The parameter ${key} must be a list of structures.`);
      return v;
    });
  },
};

/** A stack named by its name or its ARN (clients pass either). */
function stackName(ref: string): string {
  return STACK_ARN.exec(ref)?.[1] ?? ref;
}

/**
 * CloudFormation's wire API (the query protocol, as the AWS CLI, boto3 and the SDKs send it) over the
 * stack engine `versa deploy` uses: one engine, two doors, so a stack made through either is the same
 * kind of stack, listed by both and shown by the console.
 */
export function cloudFormationApi({ stacks, logger, objects }: CloudFormationApiDeps): ServiceHandler {
  /** The template a request names; `deploying` when a stack is made from it (its bucket then holds artifacts). */
  const templateOf = async (form: QueryStructure, previous?: StackDoc, deploying = true): Promise<string> => {
    const body = read.str(form, 'TemplateBody');
    const url = read.str(form, 'TemplateURL');
    const usePrevious = read.bool(form, 'UsePreviousTemplate');
    const given = [body !== undefined, url !== undefined, usePrevious].filter(Boolean).length;
    if (given !== 1) {
      // None at all is AWS's "Either ..." (for an update too); two or more, Versa's own words.
      throw validation(
        given === 0
          ? 'Either Template URL or Template Body must be specified.'
          : 'Exactly one of TemplateBody, TemplateURL or UsePreviousTemplate must be specified.',
      );
    }
    if (body !== undefined) {
      if (Buffer.byteLength(body) > MAX_TEMPLATE_BODY) {
        throw validation(
          `1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to ${MAX_TEMPLATE_BODY}`,
        );
      }
      return body;
    }
    if (url !== undefined) {
      const at = s3Location(url);
      if (!at) throw validation('TemplateURL must be a supported URL.');
      const unreadable = (err: unknown) => {
        throw validation(`Template could not be read from ${url}: ${(err as Error).message}`);
      };
      // Sized before it is read: an object may be gigabytes, and a template is at most a megabyte.
      const { size } = await objects.getObject(at.bucket, at.key, at.versionId).catch(unreadable);
      if (size > MAX_TEMPLATE_BYTES)
        throw validation(`Template may not exceed ${MAX_TEMPLATE_BYTES} bytes in size (this one is ${size} bytes).`);
      const bytes = await objects.read(at.bucket, at.key, at.versionId, deploying).catch(unreadable);
      return Buffer.from(bytes).toString('utf8');
    }
    if (!previous?.template) throw validation('UsePreviousTemplate can only be used on a stack that has a template.');
    return previous.template;
  };

  /** Parameters as given, a `UsePreviousValue` one taken from the stack. */
  const parametersOf = (form: QueryStructure, previous?: StackDoc): Record<string, string> => {
    // Keyed by the caller's names: no prototype for a key named __proto__ to replace (it would vanish,
    // where CloudFormation says the template has no such parameter).
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const p of read.structures(form, 'Parameters')) {
      const key = read.required(p, 'ParameterKey');
      if (read.bool(p, 'UsePreviousValue')) {
        const value = previous && Object.hasOwn(previous.parameters, key) ? previous.parameters[key] : undefined;
        if (value === undefined) throw validation(`Parameter ${key} has no previous value to use.`);
        out[key] = value;
      } else out[key] = read.str(p, 'ParameterValue') ?? '';
    }
    return out;
  };

  const capabilitiesOf = (form: QueryStructure): string[] => {
    const list = read.strings(form, 'Capabilities');
    for (const c of list) {
      if (!CAPABILITIES.has(c)) {
        throw validation(
          `1 validation error detected: Value '[${list.join(', ')}]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]`,
        );
      }
    }
    return list;
  };

  const tagsOf = (form: QueryStructure): Record<string, string> | undefined => {
    const tags = read.structures(form, 'Tags');
    if (tags.length === 0) return undefined;
    if (tags.length > 50) throw validation('A stack can have at most 50 tags.');
    return Object.fromEntries(tags.map((t) => [read.required(t, 'Key'), read.str(t, 'Value') ?? '']));
  };

  /** The stack `ref` names; `missing` is how the operation words its absence (AWS's differ). */
  const existing = async (ref: string, missing = `Stack with id ${ref} does not exist`): Promise<StackDoc> => {
    const stack = await stacks.find(stackName(ref));
    if (!stack || (STACK_ARN.test(ref) && stack.stackId !== ref)) throw validation(missing);
    return stack;
  };

  const deployInput = async (form: QueryStructure, previous: StackDoc | undefined): Promise<DeployInput> => {
    const tags = tagsOf(form);
    return {
      template: await templateOf(form, previous),
      parameters: parametersOf(form, previous),
      capabilities: capabilitiesOf(form),
      ...(tags && { tags }),
    };
  };

  const caller = (req: ApiRequest) => ({ region: req.region });

  const operations: Record<string, QueryOperation> = {
    async CreateStack(form, req) {
      const name = read.required(form, 'StackName');
      const result = await stacks.deploy(name, { ...(await deployInput(form, undefined)), expect: 'new' }, caller(req));
      return { StackId: result.stack.stackId };
    },

    async UpdateStack(form, req) {
      const previous = await stacks.find(stackName(read.required(form, 'StackName')));
      const name = previous?.name ?? stackName(read.required(form, 'StackName'));
      const input = await deployInput(form, previous);
      const result = await stacks.deploy(name, { ...input, expect: 'existing', refuseNoChange: true }, caller(req));
      return { StackId: result.stack.stackId };
    },

    async DeleteStack(form) {
      const ref = read.required(form, 'StackName');
      const stack = await stacks.find(stackName(ref));
      if (stack && (!STACK_ARN.test(ref) || stack.stackId === ref)) await stacks.beginDelete(stack.name);
      return undefined;
    },

    async DescribeStacks(form) {
      const ref = read.str(form, 'StackName');
      const list = ref === undefined ? await stacks.list() : [await existing(ref)];
      return { Stacks: list.map(stackShape) };
    },

    async ListStacks(form) {
      const filters = read.strings(form, 'StackStatusFilter');
      const unknown = filters.find((f) => !STACK_STATUSES.has(f));
      if (unknown !== undefined) {
        throw validation(
          `1 validation error detected: Value '[${filters.join(', ')}]' at 'stackStatusFilter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${[...STACK_STATUSES].join(', ')}]]`,
        );
      }
      const list = (await stacks.list()).filter((s) => filters.length === 0 || filters.includes(s.status));
      return {
        StackSummaries: list.map((s) => ({
          StackId: s.stackId,
          StackName: s.name,
          TemplateDescription: s.description,
          CreationTime: new Date(s.createdAt),
          ...(s.updatedAt !== s.createdAt && { LastUpdatedTime: new Date(s.updatedAt) }),
          StackStatus: s.status,
          StackStatusReason: maskSecrets(s.reason, noEchoValues(s)),
          DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
        })),
      };
    },

    async DescribeStackEvents(form) {
      const ref = read.required(form, 'StackName');
      const stack = await existing(ref, `Stack [${ref}] does not exist`);
      const secrets = noEchoValues(stack);
      return { StackEvents: stack.events.map((e, i) => eventShape(stack, e, i, secrets)).reverse() };
    },

    async DescribeStackResource(form) {
      const ref = read.required(form, 'StackName');
      const stack = await existing(ref, `Stack '${ref}' does not exist`);
      const id = read.required(form, 'LogicalResourceId');
      // Own entries only: `constructor` must not find what every object inherits.
      const r = Object.hasOwn(stack.resources, id) ? stack.resources[id] : undefined;
      // The stack as the request named it: its name, or its ARN.
      if (!r) throw validation(`Resource ${id} does not exist for stack ${ref}`);
      return {
        StackResourceDetail: {
          StackName: stack.name,
          StackId: stack.stackId,
          ...resourceRow(stack, r, 'LastUpdatedTimestamp'),
          Metadata: '{}',
        },
      };
    },

    async DescribeStackResources(form) {
      const ref = read.str(form, 'StackName');
      const physical = read.str(form, 'PhysicalResourceId');
      if ((ref === undefined) === (physical === undefined)) throw validation('Either StackName or PhysicalResourceId must be specified.');
      let stack: StackDoc | undefined;
      if (ref !== undefined) stack = await existing(ref);
      else {
        stack = (await stacks.list()).find((s) => Object.values(s.resources).some((r) => r.physicalId === physical));
        if (!stack) throw validation(`Stack for ${physical} does not exist`);
      }
      const only = read.str(form, 'LogicalResourceId');
      const found = stack;
      return {
        StackResources: Object.values(found.resources)
          // A physical id names the stack to describe (all of its resources), as on AWS.
          .filter((r) => only === undefined || r.logicalId === only)
          .map((r) => ({ StackName: found.name, StackId: found.stackId, ...resourceRow(found, r, 'Timestamp') })),
      };
    },

    async ListStackResources(form) {
      const stack = await existing(read.required(form, 'StackName'));
      return {
        StackResourceSummaries: Object.values(stack.resources).map((r) => resourceRow(stack, r, 'LastUpdatedTimestamp')),
      };
    },

    async GetTemplate(form) {
      const changeSetRef = read.str(form, 'ChangeSetName');
      const ref = read.str(form, 'StackName');
      let template: string | undefined;
      if (ref === undefined && changeSetRef === undefined) throw validation('StackName is required if ChangeSetName is not specified.');
      if (ref === undefined && !CHANGE_SET_ARN.test(changeSetRef!)) throw validation('StackName is a required parameter.');
      if (changeSetRef !== undefined) template = (await stacks.findChangeSet(ref && stackName(ref), changeSetRef)).changeSet.template;
      else template = (await existing(read.required(form, 'StackName'))).template;
      // A stack still in review (or made before Versa kept templates) has none yet: an empty one.
      template ??= '{}';
      const stage = read.str(form, 'TemplateStage') ?? 'Original';
      if (stage !== 'Original' && stage !== 'Processed') throw validation(`TemplateStage must be Original or Processed, not ${stage}.`);
      return { TemplateBody: template, StagesAvailable: ['Original', 'Processed'] };
    },

    async ValidateTemplate(form) {
      const summary = await stacks.summarize(await templateOf(form, undefined, false));
      return {
        Parameters: summary.parameters.map((p) => ({
          ParameterKey: p.key,
          DefaultValue: p.default,
          NoEcho: p.noEcho,
          Description: p.description,
        })),
        Description: summary.description,
        Capabilities: summary.capabilities,
        CapabilitiesReason: summary.reason,
        DeclaredTransforms: summary.transforms,
      };
    },

    async GetTemplateSummary(form) {
      const ref = read.str(form, 'StackName');
      const stack = ref !== undefined ? await existing(ref) : undefined;
      if (stack?.status === 'REVIEW_IN_PROGRESS') throw validation('GetTemplateSummary cannot be called on REVIEW_IN_PROGRESS stacks.');
      const text = stack ? stack.template : await templateOf(form, undefined, false);
      if (text === undefined) throw validation('The stack has no template stored.');
      const summary = await stacks.summarize(text);
      return {
        Parameters: summary.parameters.map((p) => ({
          ParameterKey: p.key,
          DefaultValue: p.default,
          ParameterType: p.type,
          NoEcho: p.noEcho,
          Description: p.description,
          ...(p.allowedValues && { ParameterConstraints: { AllowedValues: p.allowedValues } }),
        })),
        Description: summary.description,
        Capabilities: summary.capabilities,
        CapabilitiesReason: summary.reason,
        ResourceTypes: summary.resourceTypes,
        Version: '2010-09-09',
        DeclaredTransforms: summary.transforms,
      };
    },

    async CreateChangeSet(form, req) {
      const ref = read.required(form, 'StackName');
      const name = stackName(ref);
      const changeSetName = read.required(form, 'ChangeSetName');
      const type = read.str(form, 'ChangeSetType') ?? 'UPDATE';
      if (type === 'IMPORT') throw validation('Versa does not import existing resources into stacks (ChangeSetType IMPORT).');
      if (type !== 'CREATE' && type !== 'UPDATE') throw validation(`ChangeSetType must be CREATE or UPDATE, not ${type}.`);
      const previous = await stacks.find(name);
      const input = await deployInput(form, previous);
      const description = read.str(form, 'Description');
      const { stack, changeSet } = await stacks.createChangeSet(
        name,
        { name: changeSetName, type, stackRef: ref, ...(description !== undefined && { description }) },
        input,
        caller(req),
      );
      return { Id: changeSet.id, StackId: stack.stackId };
    },

    async DescribeChangeSet(form) {
      const ref = read.str(form, 'StackName');
      const { stack, changeSet } = await stacks.findChangeSet(ref && stackName(ref), read.required(form, 'ChangeSetName'));
      return {
        ...changeSetSummary(stack, changeSet),
        Parameters: parameterList(changeSet.parameters, changeSet.noEcho ?? stack.noEcho),
        NotificationARNs: [],
        Capabilities: changeSet.capabilities,
        Tags: tagList(changeSet.tags),
        Changes: changeSet.changes.map((c) => ({
          Type: 'Resource',
          ResourceChange: {
            Action: c.action === 'Replace' ? 'Modify' : c.action,
            LogicalResourceId: c.logicalId,
            PhysicalResourceId: c.physicalId,
            ResourceType: c.resourceType,
            ...(c.action === 'Modify' && { Replacement: 'False' }),
            ...(c.action === 'Replace' && { Replacement: 'True' }),
            Scope: c.action === 'Add' || c.action === 'Remove' ? [] : ['Properties'],
            Details: [],
          },
        })),
        IncludeNestedStacks: false,
      };
    },

    async ExecuteChangeSet(form, req) {
      const ref = read.str(form, 'StackName');
      await stacks.executeChangeSet(ref && stackName(ref), read.required(form, 'ChangeSetName'), caller(req));
      return {};
    },

    async DeleteChangeSet(form) {
      const ref = read.str(form, 'StackName');
      await stacks.deleteChangeSet(ref && stackName(ref), read.required(form, 'ChangeSetName'));
      return {};
    },

    async ListChangeSets(form) {
      const stack = await existing(read.required(form, 'StackName'));
      return { Summaries: (stack.changeSets ?? []).map((c) => changeSetSummary(stack, c)) };
    },

    async ListExports() {
      const exports = (await stacks.list()).flatMap((s) =>
        s.outputs
          .filter((o) => o.exportName !== undefined)
          .map((o) => ({ ExportingStackId: s.stackId, Name: o.exportName, Value: o.value })),
      );
      return { Exports: exports };
    },

    async CancelUpdateStack(form) {
      const stack = await existing(read.required(form, 'StackName'));
      await stacks.cancelUpdate(stack.name);
      return undefined;
    },

    async ContinueUpdateRollback(form) {
      const stack = await existing(read.required(form, 'StackName'));
      // Versa's rollbacks never stop half-way (a resource it cannot put back is reported and skipped).
      throw validation(`Stack ${stack.name} is in ${stack.status} state and can not continue update rollback.`);
    },
  };

  // What a stack is given (parameter values, tags, descriptions, names) is written back in XML answers.
  for (const name of ['CreateStack', 'UpdateStack', 'CreateChangeSet'] as const) {
    const operation = operations[name]!;
    operations[name] = (form, req) => {
      refuseNonXmlText(form, '');
      return operation(form, req);
    };
  }

  return queryService({
    namespace: NAMESPACE_XML,
    operations,
    codes: CODES,
    invalid: validation,
    scope: functionScope('cloudformation'),
    logger,
  });
}

/**
 * Refuses a request member holding a character XML 1.0 cannot carry (a NUL, an ESC): stored, it would be
 * written into every DescribeStacks answer that shows it. The XML writer replaces such characters too,
 * but a value the caller gave is better refused than changed.
 */
function refuseNonXmlText(value: QueryValue, path: string): void {
  if (typeof value === 'string') {
    const bad = firstNonXmlCharacter(value);
    if (bad !== undefined) {
      const code = `U+${bad.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      throw validation(`${path} contains the character ${code}, which CloudFormation cannot carry; remove it.`);
    }
  } else if (Array.isArray(value)) value.forEach((v, i) => refuseNonXmlText(v, `${path}.member.${i + 1}`));
  else for (const [key, v] of Object.entries(value)) refuseNonXmlText(v, path ? `${path}.${key}` : key);
}

/**
 * The bucket and key a `TemplateURL` names: AWS's S3 URLs in path or virtual-host style (what the SAM
 * CLI, `aws cloudformation package` and the CDK write), or Versa's own (`http://HOST:PORT/bucket/key`,
 * `http://bucket.s3.localhost:PORT/key`). Every one of them is read from Versa's S3.
 */
export function s3Location(text: string): { bucket: string; key: string; versionId?: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const host = url.hostname.toLowerCase();
  let path: string[];
  try {
    path = url.pathname
      .split('/')
      .slice(1)
      .map((p) => decodeURIComponent(p));
  } catch {
    // A malformed escape (`%E0%A4%A`) names no object.
    return undefined;
  }
  const versionId = url.searchParams.get('versionId') ?? undefined;
  const virtual = /^(.+)\.s3(?:[.-][a-z0-9-]+)?\.(?:amazonaws\.com|localhost)$/.exec(host);
  const [bucket, key] = virtual ? [virtual[1]!, path.join('/')] : [path[0] ?? '', path.slice(1).join('/')];
  if (!bucket || !key) return undefined;
  return { bucket, key, ...(versionId && { versionId }) };
}

function tagList(tags: Record<string, string> | undefined): { Key: string; Value: string }[] {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

function stackShape(s: StackDoc): Record<string, unknown> {
  const executed = s.changeSets?.find((c) => c.executionStatus === 'EXECUTE_IN_PROGRESS' || c.executionStatus === 'EXECUTE_COMPLETE');
  return {
    StackId: s.stackId,
    StackName: s.name,
    ...(executed && { ChangeSetId: executed.id }),
    Description: s.description,
    Parameters: parameterList(s.parameters, s.noEcho),
    CreationTime: new Date(s.createdAt),
    ...(s.updatedAt !== s.createdAt && { LastUpdatedTime: new Date(s.updatedAt) }),
    StackStatus: s.status,
    StackStatusReason: maskSecrets(s.reason, noEchoValues(s)),
    DisableRollback: false,
    NotificationARNs: [],
    Capabilities: s.capabilities ?? [],
    Outputs: s.outputs.map((o) => ({ OutputKey: o.key, OutputValue: o.value, Description: o.description, ExportName: o.exportName })),
    Tags: tagList(s.tags),
    EnableTerminationProtection: false,
    DriftInformation: { StackDriftStatus: 'NOT_CHECKED' },
  };
}

function eventShape(stack: StackDoc, e: StackEvent, index: number, secrets: readonly string[]): Record<string, unknown> {
  const isStack = e.resourceType === 'AWS::CloudFormation::Stack' && e.logicalId === stack.name;
  return {
    StackId: stack.stackId,
    EventId: e.id ?? `${e.logicalId}-${e.timestamp}-${index}`,
    StackName: stack.name,
    LogicalResourceId: e.logicalId,
    PhysicalResourceId: isStack ? stack.stackId : (e.physicalId ?? stack.resources[e.logicalId]?.physicalId ?? ''),
    ResourceType: e.resourceType,
    Timestamp: new Date(e.timestamp),
    ResourceStatus: e.status,
    // A NoEcho value a service's refusal repeats is not shown either.
    ResourceStatusReason: maskSecrets(e.reason, secrets),
  };
}

/** Parameter values as the stack shows them: a `NoEcho` one as `****`. */
function parameterList(
  values: Record<string, string>,
  noEcho: readonly string[] | undefined,
): { ParameterKey: string; ParameterValue: string }[] {
  return Object.entries(maskedParameters(values, noEcho)).map(([k, v]) => ({ ParameterKey: k, ParameterValue: v }));
}

/**
 * The members every description of a stack's resource shares, its status and time as its last event left
 * them (one made before events were kept: CREATE_COMPLETE); `time` names the time member of the shape.
 */
function resourceRow(stack: StackDoc, r: StackResource, time: 'Timestamp' | 'LastUpdatedTimestamp'): Record<string, unknown> {
  const last = stack.events.findLast((e) => e.logicalId === r.logicalId && e.resourceType !== 'AWS::CloudFormation::Stack');
  return {
    LogicalResourceId: r.logicalId,
    PhysicalResourceId: r.physicalId,
    ResourceType: r.type,
    [time]: new Date(last?.timestamp ?? stack.updatedAt),
    ResourceStatus: last?.status ?? 'CREATE_COMPLETE',
    DriftInformation: { StackResourceDriftStatus: 'NOT_CHECKED' },
  };
}

function changeSetSummary(stack: StackDoc, c: ChangeSet): Record<string, unknown> {
  return {
    StackId: stack.stackId,
    StackName: stack.name,
    ChangeSetId: c.id,
    ChangeSetName: c.name,
    ExecutionStatus: c.executionStatus,
    Status: c.status,
    StatusReason: c.statusReason,
    CreationTime: new Date(c.createdAt),
    Description: c.description,
    IncludeNestedStacks: false,
  };
}
