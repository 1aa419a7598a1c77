import type { Clock } from '../core/clock.js';
import type { Leadership } from '../core/leadership.js';
import { PlatformError } from '../core/errors.js';
import { uuid } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { ACCOUNT_ID } from '../domain/arn.js';
import type { DeploymentState } from '../domain/deployment.js';
import { codeSha256 } from '../domain/lambda-function.js';
import type { DeploymentController } from '../deploy/deployment-controller.js';
import { checkCodePackage, type Caller } from '../lambda/function-service.js';
import { Mutex } from '../store/mutex.js';
import type { Store } from '../store/store.js';
import { checkCapabilities, declaredCapabilities, requiredCapabilities, type RequiredCapabilities } from './capabilities.js';
import { propertyProblems, requireTypes } from './property-types.js';
import { checkRules, evaluateConditions, parameterValues, SSM_PARAMETER_TYPE } from './parameters.js';
import { pruneConditions, references, resolve, type ResolveContext } from './intrinsics.js';
import { lambdaAlias, needsReplacement, PROVISIONERS, type PlanFacts, type ProvisionContext, type StackServices } from './provisioners.js';
import { expand, type Artifacts } from './sam.js';
import { parseTemplateIsolated } from './template-isolated.js';
import { asText, isObject, setOwn, TemplateError } from './template-values.js';
import {
  MAX_STACK_EVENTS,
  STACK_SETTINGS,
  type AliasDeployment,
  type ChangeSet,
  type Json,
  type JsonObject,
  type ResourceDefinition,
  type StackDoc,
  type StackSettings,
  type StackOperation,
  type StackResource,
  type StackStatus,
} from '../domain/stack.js';

export interface DeployInput {
  template: string;
  /** Parameter values given on the command line (`--parameter-overrides`). */
  parameters?: Record<string, string>;
  /** Each CodeUri of the template, as written, with the zip the client packaged from it. */
  artifacts?: Record<string, Uint8Array>;
  /** Only plan: answer the change set and change nothing (`--no-execute-changeset`). */
  planOnly?: boolean;
  /**
   * CloudFormation's API: the capabilities its caller acknowledged, checked against what the template
   * needs (`versa deploy` asks for none).
   */
  capabilities?: readonly string[];
  /** CloudFormation's API: the deploy comes from a change set (a transform then needs no CAPABILITY_AUTO_EXPAND). */
  viaChangeSet?: boolean;
  /** The change set this deploy executes: marked as executing, and every other one of the stack dropped. */
  changeSetId?: string;
  /** CreateStack refuses a stack that exists ('new'); UpdateStack one that does not or cannot be updated ('existing'). */
  expect?: 'new' | 'existing';
  /** UpdateStack: a deploy that would change nothing is refused ("No updates are to be performed."). */
  refuseNoChange?: boolean;
  /** CloudFormation stack tags. */
  tags?: Record<string, string>;
}

/** What ValidateTemplate and GetTemplateSummary say of a template. */
export interface TemplateSummary extends RequiredCapabilities {
  parameters: { key: string; type: string; default?: string; noEcho: boolean; description?: string; allowedValues?: string[] }[];
  description?: string;
  resourceTypes: string[];
  transforms: string[];
}

export interface Change {
  action: 'Add' | 'Modify' | 'Replace' | 'Remove';
  logicalId: string;
  resourceType: string;
  /** For an alias moved by CodeDeploy: from which version to which. */
  detail?: string;
}

export interface DeployResult {
  stack: StackDoc;
  changes: Change[];
  /** A plan's (planOnly): the parameters its template declares `NoEcho`. */
  noEcho?: string[];
}

const NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;
const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);
/** Stacks CloudFormation will not update: a failed create must be deleted first. */
const NOT_UPDATABLE = new Set<StackStatus>(['ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'DELETE_FAILED']);
const CHANGE_SET_NAME = /^[a-zA-Z][-a-zA-Z0-9]{0,127}$/;
const MAX_CHANGE_SETS = 50;
const PLACEHOLDER = '{{resolved when created}}';

/** Names every JavaScript object answers to: never a property of a resource. */
const OBJECT_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);

const validation = (message: string) => new PlatformError('ValidationError', message);

/**
 * Stacks from templates, as CloudFormation runs them for SAM: a deploy turns the template into
 * resources, creates and changes them in dependency order, moves aliases under CodeDeploy's update
 * policy through a deployment and waits for it, then deletes what the template no longer lists. A
 * failure undoes the update. The operation is stored at every step, so a restarted server finishes or
 * undoes it; the stack lives in the store, so every client of the server sees the same one.
 */
export class StackService {
  /** Unexpected errors already logged (reasonFor). */
  private readonly reported = new WeakSet<object>();
  private readonly locks = new Map<string, Mutex>();
  private readonly listeners: ((name: string) => void)[] = [];
  private readonly running = new Set<Promise<void>>();
  /** Stacks whose operation runs here now. */
  private readonly launched = new Set<string>();
  private readonly waiters = new Map<string, ((d: DeploymentState) => void)[]>();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly services: StackServices,
    controller: DeploymentController,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Where stack operations run when several nodes share the store: on the leader. */
    private readonly leadership?: Leadership,
  ) {
    controller.onChange((d) => {
      if (!TERMINAL.has(d.status)) return;
      const list = this.waiters.get(d.deploymentId);
      if (!list) return;
      this.waiters.delete(d.deploymentId);
      for (const w of list) w(d);
    });
  }

  /** Picks up every operation a previous run of the server (or a previous leader) left unfinished. */
  async start(): Promise<void> {
    for (const stack of await this.store.stacks.list()) if (stack.operation) void this.launch(stack.name);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const list of this.waiters.values()) for (const w of list) w({ status: 'Stopped' } as DeploymentState);
    await Promise.allSettled([...this.running]);
  }

  list(): Promise<StackDoc[]> {
    return this.store.stacks.list();
  }

  /** The stack, or undefined when there is none of that name. */
  find(name: string): Promise<StackDoc | undefined> {
    return this.store.stacks.get(name);
  }

  async get(name: string): Promise<StackDoc> {
    const stack = await this.store.stacks.get(name);
    if (!stack) throw validation(`Stack with id ${name} does not exist`);
    return stack;
  }

  /**
   * A template read as CloudFormation's ValidateTemplate and GetTemplateSummary read it, without a
   * stack: its parameters, description, resource types, transforms and the capabilities it needs.
   */
  async summarize(text: string): Promise<TemplateSummary> {
    const template = await parseOrThrow(text);
    const parameters = isObject(template.Parameters ?? null) ? (template.Parameters as JsonObject) : {};
    const resources = isObject(template.Resources ?? null) ? (template.Resources as JsonObject) : {};
    if (Object.keys(resources).length === 0) throw validation('Template format error: At least one Resources member must be defined.');
    const transforms = declaredTransforms(template);
    return {
      parameters: Object.entries(parameters).map(([key, raw]) => {
        const spec = isObject(raw) ? raw : {};
        return {
          key,
          type: typeof spec.Type === 'string' ? spec.Type : 'String',
          ...(spec.Default !== undefined && { default: asText(spec.Default) }),
          noEcho: spec.NoEcho === true || spec.NoEcho === 'true',
          ...(typeof spec.Description === 'string' && { description: spec.Description }),
          ...(Array.isArray(spec.AllowedValues) && { allowedValues: spec.AllowedValues.map(asText) }),
        };
      }),
      ...(typeof template.Description === 'string' && { description: template.Description }),
      resourceTypes: [...new Set(Object.values(resources).map((r) => (isObject(r) ? asText(r.Type) : '')))],
      transforms,
      ...declaredCapabilities(template),
    };
  }

  /** Calls `listener` with a stack's name whenever it is stored or deleted (the console follows stacks with it). */
  onChange(listener: (name: string) => void): void {
    this.listeners.push(listener);
  }

  private changed(name: string): void {
    for (const l of this.listeners) l(name);
  }

  /**
   * Stores the stack and lets other work run before the next step: SQLite resolves at once, so a
   * long chain of steps (hundreds of resources, each waiting on the last) would otherwise hold the
   * event loop from the first step to the last.
   */
  private async write(stack: StackDoc): Promise<void> {
    await this.store.stacks.put(stack);
    this.changed(stack.name);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /**
   * Writes the steps of the stack's operation: each stores what changed since the one before (the record,
   * the resources set or removed, the events added), as the template and the plan do not change in
   * between; `whole` stores the stack whole (the operation's end changes its template and change sets).
   */
  private steps(stack: StackDoc): (whole?: boolean) => Promise<void> {
    // A resource changed is a new object in stack.resources: what was written is told by identity.
    let written = new Map(Object.entries(stack.resources));
    let lastEvent = stack.events.at(-1);
    return async (whole = false) => {
      const doc = { ...stack, updatedAt: this.clock.now() };
      if (whole) await this.store.stacks.put(doc);
      else {
        const from = lastEvent === undefined ? 0 : stack.events.lastIndexOf(lastEvent) + 1;
        await this.store.stacks.step(doc, {
          resources: Object.values(stack.resources).filter((r) => written.get(r.logicalId) !== r),
          removed: [...written.keys()].filter((id) => !Object.hasOwn(stack.resources, id)),
          events: stack.events.slice(from),
        });
      }
      written = new Map(Object.entries(stack.resources));
      lastEvent = stack.events.at(-1);
      this.changed(stack.name);
      await new Promise((resolve) => setImmediate(resolve));
    };
  }

  private lock(name: string): Mutex {
    let lock = this.locks.get(name);
    if (!lock) this.locks.set(name, (lock = new Mutex()));
    return lock;
  }

  /**
   * Checks the template and plans the change; when something changes, stores the operation and starts
   * it. Everything wrong with the template is reported here, before anything is created.
   */
  deploy(name: string, input: DeployInput, caller: Caller): Promise<DeployResult> {
    if (!NAME.test(name)) {
      throw validation(
        name.length > 128
          ? `Stack name ${JSON.stringify(name.slice(0, 128))}... must start with a letter and contain only letters, digits and hyphens (at most 128).`
          : `1 validation error detected: Value '${name}' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*`,
      );
    }
    return this.lock(name).run(async () => {
      const existing = await this.store.stacks.get(name);
      if (existing?.operation) {
        throw validation(`Stack ${name} is in ${existing.status} state and can not be updated.`);
      }
      if (input.expect === 'new' && existing) throw new PlatformError('AlreadyExistsException', `Stack [${name}] already exists`);
      if (input.expect === 'existing') {
        if (!existing || existing.status === 'REVIEW_IN_PROGRESS') throw validation(`Stack [${name}] does not exist`);
        if (NOT_UPDATABLE.has(existing.status))
          throw validation(`Stack:${existing.stackId} is in ${existing.status} state and can not be updated.`);
      }
      const template = await parseOrThrow(input.template);
      const stored = await this.withStoredParameters(template, input.parameters ?? {});
      const parameters = parameterValues(template, stored.values);
      templateError(() =>
        checkRules(
          isObject(template.Rules ?? null) ? (template.Rules as JsonObject) : {},
          { ...parameters, 'AWS::Region': caller.region, 'AWS::AccountId': ACCOUNT_ID },
          isObject(template.Mappings ?? null) ? (template.Mappings as JsonObject) : {},
        ),
      );
      const artifacts: Artifacts = {};
      for (const [uri, zip] of Object.entries(input.artifacts ?? {})) {
        // Refused here, before anything is stored, rather than when a function is made from it.
        await checkArtifact(uri, zip);
        artifacts[uri] = { codeSha256: codeSha256(zip) };
      }
      const now = this.clock.now();
      const stack: StackDoc = existing ?? {
        name,
        stackId: `arn:aws:cloudformation:${caller.region}:${ACCOUNT_ID}:stack/${name}/${uuid()}`,
        region: caller.region,
        status: 'CREATE_IN_PROGRESS',
        createdAt: now,
        updatedAt: now,
        parameters: {},
        resources: {},
        outputs: [],
        previousAliasVersions: [],
        events: [],
      };
      const pseudo = pseudoParameters(stack);
      const conditions = templateError(() =>
        evaluateConditions(
          isObject(template.Conditions ?? null) ? (template.Conditions as JsonObject) : {},
          { ...pseudo, ...parameters },
          isObject(template.Mappings ?? null) ? (template.Mappings as JsonObject) : {},
        ),
      );
      // Every problem is gathered before any is reported, so that one answer lists them all and nothing
      // is made from a template that has any.
      const problems: string[] = [];
      const gather = <T>(work: () => T, otherwise: T): T => {
        try {
          return work();
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          problems.push(...err.problems);
          return otherwise;
        }
      };
      const serverConfigs = await this.services.codeDeploy.listDeploymentConfigs();
      const sam = expand(template, artifacts, { ...pseudo, ...parameters }, conditions, new Set(serverConfigs));
      problems.push(...sam.problems);
      // As CloudFormation counts them: in the template the transform makes.
      checkCount('Resources', sam.resources, 500);
      const operation: StackOperation = {
        kind: existing && Object.keys(existing.resources).length > 0 ? 'update' : 'create',
        phase: 'apply',
        startedAt: now,
        definitions: {},
        outputs: sam.outputs,
        conditions,
        mappings: sam.mappings,
        parameters,
        imports: await this.exportsOfOthers(name),
        before: {},
        deployments: [],
      };
      for (const [id, def] of Object.entries(sam.resources)) {
        if (def.Condition !== undefined && !own(operation.conditions, def.Condition)) {
          if (!Object.hasOwn(operation.conditions, def.Condition))
            problems.push(`Resource ${id}: Condition ${def.Condition} is not defined.`);
          continue;
        }
        operation.definitions[id] = def;
      }
      const dependencies = dependencyOrder(
        operation.definitions,
        new Set([...Object.keys(parameters), ...Object.keys(pseudo)]),
        operation.conditions,
      );
      problems.push(...dependencies.problems);
      operation.definitions = Object.fromEntries(dependencies.order.map((id) => [id, operation.definitions[id]!]));
      const facts: PlanFacts = {
        deploymentConfigs: new Set([...serverConfigs, ...declaredConfigNames(operation.definitions)]),
        pending: PLACEHOLDER,
      };
      const changes = this.plan(stack, operation, facts, dependencies.dangling, problems);
      const outputs = gather(() => resolveOutputs(stack, operation, true), []);
      if (problems.length > 0) throw validation(new TemplateError([...new Set(problems)]).message);
      if (input.capabilities) {
        checkCapabilities(requiredCapabilities(sam.resources, template.Transform !== undefined && !input.viaChangeSet), input.capabilities);
      }
      await this.checkExports(stack, outputs);

      // A parameter read from Parameter Store is kept as the name it was given; its value is shown beside it.
      const parametersText = {
        ...Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, Array.isArray(v) ? v.map(asText).join(',') : asText(v)])),
        ...stored.names,
      };
      const settings = stackSettings(input, template);
      if (input.planOnly) return { stack: existing ?? stack, changes, noEcho: settings.noEcho ?? [] };
      if (changes.length === 0 && existing && existing.status !== 'REVIEW_IN_PROGRESS') {
        const same =
          JSON.stringify(outputs) === JSON.stringify(existing.outputs) &&
          JSON.stringify(parametersText) === JSON.stringify(existing.parameters);
        if (same && input.refuseNoChange) throw validation('No updates are to be performed.');
        if (!same || input.changeSetId) {
          Object.assign(existing, settings);
          existing.outputs = outputs;
          existing.parameters = parametersText;
          existing.updatedAt = now;
          markChangeSets(existing, input.changeSetId, 'EXECUTE_COMPLETE');
          await this.write(existing);
        }
        return { stack: existing, changes };
      }
      // The template is good: its code is kept (by CodeSha256) for the functions to be made from it.
      for (const [uri, zip] of Object.entries(input.artifacts ?? {})) await this.store.code.put(artifacts[uri]!.codeSha256, zip);
      stack.status = operation.kind === 'create' ? 'CREATE_IN_PROGRESS' : 'UPDATE_IN_PROGRESS';
      stack.reason = undefined;
      if (operation.kind === 'update') operation.previous = settingsOf(stack);
      Object.assign(stack, settings);
      markChangeSets(stack, input.changeSetId, 'EXECUTE_IN_PROGRESS');
      stack.parameters = parametersText;
      stack.operation = operation;
      stack.updatedAt = now;
      this.event(stack, name, 'AWS::CloudFormation::Stack', stack.status, 'User Initiated');
      await this.write(stack);
      await this.launch(name);
      return { stack, changes };
    });
  }

  /**
   * What a deploy would do: resources to add, change in place, replace and remove. Each resource's
   * problems (intrinsics that do not resolve, properties its provisioner refuses) go to `problems`; those
   * of a resource in `dangling` that only repeat its unknown references are left out.
   */
  private plan(stack: StackDoc, op: StackOperation, facts: PlanFacts, dangling: ReadonlySet<string>, problems: string[]): Change[] {
    const changes: Change[] = [];
    const fresh = new Set<string>();
    const ctx = this.context(stack, op, fresh);
    for (const [id, def] of Object.entries(op.definitions)) {
      const current = own(stack.resources, id);
      const provisioner = PROVISIONERS[def.Type];
      if (!provisioner) continue;
      // No resource type has these; a template that gives them is refused as CloudFormation refuses it.
      for (const key of Object.keys(def.Properties ?? {}))
        if (OBJECT_MEMBERS.has(key)) problems.push(`Resource ${id}: Encountered unsupported property ${key}`);
      let props: JsonObject;
      try {
        props = resolve(def.Properties ?? {}, ctx, `Resource ${id}`) as JsonObject;
        if (def.UpdatePolicy) resolve(def.UpdatePolicy, ctx, `Resource ${id}: UpdatePolicy`);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        if (!dangling.has(id)) problems.push(...err.problems);
        // Its other properties are still checked, each on its own.
        props = resolvable(def.Properties ?? {}, ctx, `Resource ${id}`);
      }
      if (provisioner.properties)
        for (const p of propertyProblems(props, provisioner.properties, facts.pending)) problems.push(`Resource ${id}: ${p}`);
      for (const p of provisioner.check?.(props, facts) ?? []) problems.push(`Resource ${id}: ${p}`);
      if (!current) {
        fresh.add(id);
        changes.push({ action: 'Add', logicalId: id, resourceType: def.Type });
      } else if (current.type !== def.Type || needsReplacement(provisioner, current.properties, props)) {
        fresh.add(id);
        changes.push({ action: 'Replace', logicalId: id, resourceType: def.Type });
      } else if (JSON.stringify(current.properties) !== JSON.stringify(props)) {
        // Attributes of a resource changed in place stay the same; those of a new one are not known yet.
        const moved = def.Type === 'AWS::Lambda::Alias' && current.properties.FunctionVersion !== props.FunctionVersion;
        const viaCodeDeploy = moved && isObject(def.UpdatePolicy?.CodeDeployLambdaAliasUpdate ?? null);
        changes.push({
          action: 'Modify',
          logicalId: id,
          resourceType: def.Type,
          ...(viaCodeDeploy && {
            detail: `traffic moves from version ${asText(current.properties.FunctionVersion)} by a CodeDeploy deployment`,
          }),
        });
      }
    }
    for (const [id, r] of Object.entries(stack.resources)) {
      if (!Object.hasOwn(op.definitions, id))
        changes.push({ action: 'Remove', logicalId: id, resourceType: r.type, ...(r.retain && { detail: 'retained' }) });
    }
    return changes;
  }

  /** What intrinsics read while resolving: the stack's resources, or placeholders for `pending` ones. */
  /**
   * The values of `AWS::SSM::Parameter::Value<…>` parameters, read from Parameter Store by the name
   * given (or the default), as CloudFormation reads them at each deploy.
   */
  private async withStoredParameters(
    template: JsonObject,
    overrides: Record<string, string>,
  ): Promise<{ values: Record<string, string>; names: Record<string, string> }> {
    const declared = isObject(template.Parameters ?? null) ? (template.Parameters as JsonObject) : {};
    const out = { ...overrides };
    const names: Record<string, string> = {};
    const missing: string[] = [];
    for (const [key, spec] of Object.entries(declared)) {
      if (!isObject(spec) || typeof spec.Type !== 'string' || !SSM_PARAMETER_TYPE.test(spec.Type)) continue;
      const name = overrides[key] ?? (spec.Default === undefined ? undefined : asText(spec.Default));
      if (name === undefined) continue;
      const value = await this.services.parameters.get(name).then(
        (p) => p.value,
        () => undefined,
      );
      if (value === undefined) missing.push(name);
      else {
        out[key] = value;
        names[key] = name;
      }
    }
    if (missing.length > 0) throw validation(`Unable to fetch parameters [${missing.join(',')}] from parameter store for this account.`);
    return { values: out, names };
  }

  /** Every export of the other stacks, by name: what `Fn::ImportValue` reads. */
  private async exportsOfOthers(name: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const s of await this.store.stacks.list()) {
      if (s.name === name) continue;
      for (const o of s.outputs) if (o.exportName !== undefined) out[o.exportName] = o.value;
    }
    return out;
  }

  /**
   * Export names are unique across stacks, and an export another stack imports cannot go away (the
   * importers are found by the literal names their templates pass to `Fn::ImportValue`).
   */
  private async checkExports(stack: StackDoc, outputs: StackDoc['outputs']): Promise<void> {
    const names = new Set(outputs.flatMap((o) => (o.exportName === undefined ? [] : [o.exportName])));
    const removed = stack.outputs.flatMap((o) => (o.exportName !== undefined && !names.has(o.exportName) ? [o.exportName] : []));
    for (const other of await this.store.stacks.list()) {
      if (other.name === stack.name) continue;
      for (const o of other.outputs) {
        if (o.exportName !== undefined && names.has(o.exportName))
          throw validation(`Export with name ${o.exportName} is already exported by stack ${other.name}`);
      }
      const used = removed.find((n) => importedNames(other).has(n));
      if (used !== undefined) throw validation(`Cannot delete export ${used} as it is in use by ${other.name}.`);
    }
  }

  /** A stack whose exports another stack imports cannot be deleted. */
  private async checkNotImported(stack: StackDoc): Promise<void> {
    for (const other of await this.store.stacks.list()) {
      if (other.name === stack.name) continue;
      const used = stack.outputs.find((o) => o.exportName !== undefined && importedNames(other).has(o.exportName));
      if (used) throw validation(`Export ${used.exportName} cannot be deleted as it is in use by ${other.name}`);
    }
  }

  private context(stack: StackDoc, op: StackOperation, pending = new Set<string>()): ResolveContext {
    return {
      parameters: { ...pseudoParameters(stack), ...op.parameters },
      conditions: op.conditions,
      mappings: op.mappings,
      ref: (id) =>
        !Object.hasOwn(op.definitions, id)
          ? undefined
          : pending.has(id)
            ? PLACEHOLDER
            : (own(stack.resources, id)?.physicalId ?? PLACEHOLDER),
      getAtt: (id, attr) => {
        if (!Object.hasOwn(op.definitions, id)) return undefined;
        const resource = own(stack.resources, id);
        if (pending.has(id) || !resource) return PLACEHOLDER;
        return ownAttribute(resource, attr);
      },
      ...(op.imports && { imports: op.imports }),
    };
  }

  /**
   * Starts the stack's stored operation here (it runs on in the background), or hands it to the leader when
   * this node does not lead (resolved once the leader is told); once per stack at a time.
   */
  launch(name: string): Promise<void> {
    if (this.leadership && !this.leadership.leading) return this.leadership.toLeader('stack.launch', name);
    if (this.closed || this.launched.has(name)) return Promise.resolve();
    this.launched.add(name);
    const run = this.run(name)
      .catch((err: unknown) => this.logger.error('stack operation failed unexpectedly', { stack: name, err }))
      .finally(() => {
        this.running.delete(run);
        this.launched.delete(name);
      });
    this.running.add(run);
    return Promise.resolve();
  }

  /** Carries the stored operation through its phases, storing the stack after every step. */
  private async run(name: string): Promise<void> {
    const stack = await this.store.stacks.get(name);
    const op = stack?.operation;
    if (!stack || !op) return;
    const save = this.steps(stack);
    if (op.phase === 'apply') {
      try {
        await this.apply(stack, op, save);
        op.phase = 'traffic';
      } catch (err) {
        // Stopping the server interrupts the apply; the next start carries on from the stored state.
        if (this.closed) return;
        op.failure = this.reasonFor(err, name);
        this.logger.info('stack operation failed; rolling back', { stack: name, reason: op.failure });
        op.phase = 'rollback';
      }
      await save();
    }
    if (op.phase === 'traffic') {
      const failure = await this.awaitDeployments(op.deployments);
      if (this.closed) return;
      if (failure) {
        op.failure = failure;
        op.phase = 'rollback';
      } else op.phase = 'cleanup';
      await save();
    }
    if (op.phase === 'cleanup') await this.cleanup(stack, op, save);
    else if (op.phase === 'rollback') await this.rollbackOperation(stack, op, save);
  }

  /**
   * What a stack's events and status say went wrong: the message of an error Versa meant to raise (a
   * service's refusal, a template problem), and for anything else CloudFormation's "Internal Failure",
   * with the detail in the server's log: a TypeError's text says nothing to the user and shows internals.
   */
  private reasonFor(err: unknown, stack: string, resource?: string): string {
    if (err instanceof PlatformError || err instanceof TemplateError) return err.message;
    // Logged once, where it is first met (a resource's step), not again by each caller that reports it.
    if (err instanceof Object && this.reported.has(err)) return 'Internal Failure';
    if (err instanceof Object) this.reported.add(err);
    this.logger.error('stack operation failed unexpectedly', { stack, ...(resource && { resource }), err });
    return 'Internal Failure';
  }

  private provisionContext(stack: StackDoc): ProvisionContext {
    return { services: this.services, stackName: stack.name, caller: { region: stack.region } };
  }

  private async apply(stack: StackDoc, op: StackOperation, save: () => Promise<void>): Promise<void> {
    const ctx = this.context(stack, op);
    const pctx = this.provisionContext(stack);
    // Aliases CodeDeploy moves go last, once their hooks and alarms are as the template says.
    const deferred: (() => Promise<void>)[] = [];
    for (const [id, def] of Object.entries(op.definitions)) {
      if (this.closed) throw new Error('the server is stopping');
      const current = own(stack.resources, id);
      const provisioner = PROVISIONERS[def.Type]!;
      const props = resolve(def.Properties ?? {}, ctx, `Resource ${id}`) as JsonObject;
      const record = (physicalId: string, attributes: Record<string, string>): StackResource => ({
        logicalId: id,
        type: def.Type,
        physicalId,
        properties: props,
        attributes,
        ...(def.DeletionPolicy === 'Retain' && { retain: true }),
      });
      /** Runs one change with its events; `completes: false` leaves it in progress (a deployment runs on). */
      const step = async (status: string, work: () => Promise<StackResource>, reason?: string, completes = true) => {
        this.event(stack, id, def.Type, `${status}_IN_PROGRESS`, reason);
        try {
          // What the plan could not see yet (a value read from a resource made since) is checked now.
          if (provisioner.properties) requireTypes(props, provisioner.properties);
          const next = await work();
          stack.resources[id] = next;
          if (completes) this.event(stack, id, def.Type, `${status}_COMPLETE`, undefined, next.physicalId);
        } catch (err) {
          this.event(stack, id, def.Type, `${status}_FAILED`, this.reasonFor(err, stack.name, id));
          throw err;
        } finally {
          await save();
        }
      };
      if (!current) {
        op.before[id] = null;
        await step('CREATE', async () => {
          const made = await provisioner.create(pctx, id, props);
          return record(made.physicalId, made.attributes);
        });
      } else if (current.type !== def.Type || needsReplacement(provisioner, current.properties, props)) {
        op.before[id] = current;
        await step(
          'UPDATE',
          async () => {
            const made = await provisioner.create(pctx, id, props);
            return record(made.physicalId, made.attributes);
          },
          'Requested update requires the creation of a new physical resource; hence creating one.',
        );
      } else if (JSON.stringify(current.properties) !== JSON.stringify(props)) {
        op.before[id] = current;
        const policy = isObject(def.UpdatePolicy?.CodeDeployLambdaAliasUpdate ?? null);
        if (def.Type === 'AWS::Lambda::Alias' && policy && current.properties.FunctionVersion !== props.FunctionVersion) {
          deferred.push(() =>
            step(
              'UPDATE',
              async () => {
                const resolved = resolve(def.UpdatePolicy!, ctx, `Resource ${id}: UpdatePolicy`) as JsonObject;
                const d = await this.startDeployment(stack, id, current, props, resolved.CodeDeployLambdaAliasUpdate as JsonObject);
                op.deployments.push(d);
                this.event(
                  stack,
                  id,
                  def.Type,
                  'UPDATE_IN_PROGRESS',
                  `CodeDeploy deployment ${d.deploymentId} moves ${d.functionName}:${d.alias} from version ${d.fromVersion} to ${d.toVersion}`,
                );
                return record(current.physicalId, current.attributes);
              },
              undefined,
              false,
            ),
          );
        } else {
          await step('UPDATE', async () => {
            const made = await provisioner.update(pctx, current, props);
            return record(made.physicalId, made.attributes);
          });
        }
      }
    }
    for (const start of deferred) await start();
    // The outputs are resolved now, while a problem with one (an attribute the resource does not have)
    // can still roll the operation back; cleanup resolves them again for the stack.
    resolveOutputs(stack, op, false);
  }

  /** The deployment CloudFormation creates for an alias under CodeDeployLambdaAliasUpdate. */
  private async startDeployment(
    stack: StackDoc,
    id: string,
    current: StackResource,
    props: JsonObject,
    policy: JsonObject,
  ): Promise<AliasDeployment> {
    const functionName = asText(current.properties.FunctionName);
    const alias = asText(props.Name);
    const live = await this.services.functions.getAlias({ region: stack.region }, functionName, alias);
    const hooks = [
      ...(policy.BeforeAllowTrafficHook ? [{ BeforeAllowTraffic: asText(policy.BeforeAllowTrafficHook) }] : []),
      ...(policy.AfterAllowTrafficHook ? [{ AfterAllowTraffic: asText(policy.AfterAllowTrafficHook) }] : []),
    ];
    const appSpec = {
      version: 0.0,
      Resources: [
        {
          [id]: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              Name: functionName,
              Alias: alias,
              CurrentVersion: live.functionVersion,
              TargetVersion: asText(props.FunctionVersion),
            },
          },
        },
      ],
      ...(hooks.length > 0 && { Hooks: hooks }),
    };
    const deployment = await this.services.codeDeploy.createDeployment({
      applicationName: asText(policy.ApplicationName),
      deploymentGroupName: asText(policy.DeploymentGroupName),
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify(appSpec) } },
      description: `versa deploy of stack ${stack.name}`,
      creator: 'CloudFormation',
    });
    return {
      logicalId: id,
      functionName,
      alias,
      fromVersion: live.functionVersion,
      toVersion: asText(props.FunctionVersion),
      deploymentId: deployment.deploymentId,
    };
  }

  /** Waits for each deployment to end; resolves to why the update fails, or undefined when all succeeded. */
  private async awaitDeployments(deployments: AliasDeployment[]): Promise<string | undefined> {
    for (const d of deployments) {
      const end = await this.deploymentEnd(d.deploymentId);
      if (this.closed) return undefined;
      if (end.status !== 'Succeeded') {
        // The update is undone as a whole: the stack's other deployments stop and roll back too.
        for (const other of deployments) {
          if (other === d) continue;
          const state = await this.services.codeDeploy.getDeployment(other.deploymentId).catch(() => undefined);
          if (state && !TERMINAL.has(state.status))
            await this.services.codeDeploy.stopDeployment(other.deploymentId, true).catch(() => undefined);
        }
        return whyDeploymentEnded(d, end);
      }
    }
    return undefined;
  }

  private async deploymentEnd(id: string): Promise<DeploymentState> {
    const ended = new Promise<DeploymentState>((resolve) => {
      const list = this.waiters.get(id) ?? [];
      list.push(resolve);
      this.waiters.set(id, list);
    });
    const now = await this.services.codeDeploy.getDeployment(id).catch(() => undefined);
    if (!now)
      return {
        status: 'Failed',
        errorInformation: { code: 'INTERNAL_ERROR', message: `deployment ${id} no longer exists` },
      } as DeploymentState;
    if (TERMINAL.has(now.status)) {
      this.waiters.delete(id);
      return now;
    }
    return ended;
  }

  /** After a successful update: old and removed resources go, outputs are resolved, the stack settles. */
  private async cleanup(stack: StackDoc, op: StackOperation, save: (whole?: boolean) => Promise<void>): Promise<void> {
    if (op.kind === 'update') {
      stack.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
      this.event(stack, stack.name, 'AWS::CloudFormation::Stack', stack.status);
    }
    const pctx = this.provisionContext(stack);
    // Replaced resources' old selves, then resources the template no longer lists, newest first.
    for (const [id, before] of Object.entries(op.before)) {
      const now = own(stack.resources, id);
      if (before && now && before.physicalId !== now.physicalId && !before.retain) await this.remove(pctx, stack, before);
    }
    for (const id of Object.keys(stack.resources).reverse()) {
      if (Object.hasOwn(op.definitions, id)) continue;
      const r = stack.resources[id]!;
      delete stack.resources[id];
      if (!r.retain) await this.remove(pctx, stack, r);
      else this.event(stack, id, r.type, 'DELETE_SKIPPED');
      await save();
    }
    for (const d of op.deployments)
      this.event(stack, d.logicalId, 'AWS::Lambda::Alias', 'UPDATE_COMPLETE', undefined, stack.resources[d.logicalId]?.physicalId);
    const moved = op.deployments.map((d) => ({
      logicalId: d.logicalId,
      functionName: d.functionName,
      alias: d.alias,
      version: d.fromVersion,
    }));
    if (moved.length > 0) stack.previousAliasVersions = moved;
    stack.resources = Object.fromEntries(Object.keys(op.definitions).map((id) => [id, stack.resources[id]!]));
    stack.outputs = resolveOutputs(stack, op, false);
    stack.status = op.kind === 'create' ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
    stack.reason = undefined;
    finishChangeSets(stack, 'EXECUTE_COMPLETE');
    delete stack.operation;
    this.event(stack, stack.name, 'AWS::CloudFormation::Stack', stack.status);
    await save(true);
  }

  /** Puts back what the failed operation changed, deletes what it created, and says why it failed. */
  private async rollbackOperation(stack: StackDoc, op: StackOperation, save: (whole?: boolean) => Promise<void>): Promise<void> {
    stack.status = op.kind === 'create' ? 'ROLLBACK_IN_PROGRESS' : 'UPDATE_ROLLBACK_IN_PROGRESS';
    stack.reason = op.failure;
    this.event(stack, stack.name, 'AWS::CloudFormation::Stack', stack.status, op.failure);
    await save();
    const pctx = this.provisionContext(stack);
    for (const id of Object.keys(op.before).reverse()) {
      const before = op.before[id] ?? null;
      const now = own(stack.resources, id);
      try {
        if (before === null) {
          if (now) {
            delete stack.resources[id];
            if (!now.retain) await this.remove(pctx, stack, now);
          }
        } else if (!now || now.physicalId !== before.physicalId) {
          if (now && !now.retain) await this.remove(pctx, stack, now);
          stack.resources[id] = before;
        } else {
          // Put the resource's properties back; an alias goes straight back to its version.
          this.event(stack, id, before.type, 'UPDATE_IN_PROGRESS', 'Rolling back');
          const provisioner = before.type === 'AWS::Lambda::Alias' ? lambdaAlias : PROVISIONERS[before.type]!;
          await provisioner.update(pctx, now, before.properties);
          stack.resources[id] = before;
          this.event(stack, id, before.type, 'UPDATE_COMPLETE');
        }
      } catch (err) {
        this.event(stack, id, before?.type ?? now?.type ?? '?', 'UPDATE_FAILED', this.reasonFor(err, stack.name, id));
      }
      await save();
    }
    stack.status = op.kind === 'create' ? 'ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE';
    // The stack is again what its last deploy made: its parameters, template and NoEcho set with it.
    if (op.previous) Object.assign(stack, settingsOf(op.previous));
    finishChangeSets(stack, 'EXECUTE_FAILED');
    delete stack.operation;
    this.event(stack, stack.name, 'AWS::CloudFormation::Stack', stack.status, op.failure);
    await save(true);
  }

  private async remove(pctx: ProvisionContext, stack: StackDoc, r: StackResource): Promise<void> {
    this.event(stack, r.logicalId, r.type, 'DELETE_IN_PROGRESS');
    try {
      await PROVISIONERS[r.type]!.delete(pctx, r);
      this.event(stack, r.logicalId, r.type, 'DELETE_COMPLETE', undefined, r.physicalId);
    } catch (err) {
      // What is already gone (a function's aliases go with it) counts as deleted.
      const gone = err instanceof PlatformError && /NotFound|DoesNotExist/.test(err.code);
      this.event(
        stack,
        r.logicalId,
        r.type,
        gone ? 'DELETE_COMPLETE' : 'DELETE_FAILED',
        gone ? undefined : this.reasonFor(err, stack.name, r.logicalId),
        r.physicalId,
      );
    }
  }

  /**
   * The manual rollback: stops the stack's running deployments with rollback, or, when none runs, puts
   * every alias the last deploy moved back on the version it had before. Says what it did.
   */
  rollback(
    name: string,
  ): Promise<{ stopped: AliasDeployment[]; moved: { functionName: string; alias: string; from: string; to: string }[] }> {
    return this.lock(name).run(async () => {
      const stack = await this.get(name);
      const running = stack.operation?.phase === 'traffic' ? stack.operation.deployments : [];
      const stopped: AliasDeployment[] = [];
      for (const d of running) {
        const state = await this.services.codeDeploy.getDeployment(d.deploymentId);
        if (TERMINAL.has(state.status)) continue;
        await this.services.codeDeploy.stopDeployment(d.deploymentId, true);
        stopped.push(d);
      }
      if (stack.operation) {
        if (stopped.length === 0) throw validation(`Stack ${name} is in ${stack.status} state; wait for it to finish, then roll back.`);
        return { stopped, moved: [] };
      }
      if (stack.previousAliasVersions.length === 0) throw validation(`Stack ${name} has no earlier version to roll back to.`);
      const caller = { region: stack.region };
      const moved = [];
      for (const p of stack.previousAliasVersions) {
        const alias = await this.services.functions.getAlias(caller, p.functionName, p.alias);
        if (alias.functionVersion === p.version && !alias.additionalVersionWeights) continue;
        await this.services.functions.updateAlias(caller, p.functionName, p.alias, {
          functionVersion: p.version,
          additionalVersionWeights: {},
        });
        moved.push({ functionName: p.functionName, alias: p.alias, from: alias.functionVersion, to: p.version });
        // The stack now records the alias where it is, so deploying the template again releases it anew.
        const r = stack.resources[p.logicalId];
        if (r) r.properties = { ...r.properties, FunctionVersion: p.version };
        this.event(
          stack,
          p.logicalId,
          'AWS::Lambda::Alias',
          'UPDATE_COMPLETE',
          `Rolled back by hand from version ${alias.functionVersion} to ${p.version}`,
        );
      }
      stack.previousAliasVersions = [];
      stack.updatedAt = this.clock.now();
      await this.write(stack);
      return { stopped, moved };
    });
  }

  /**
   * CloudFormation's CreateChangeSet: plans the deploy and keeps it, to be executed or deleted later. A
   * CREATE change set makes the stack, empty, in REVIEW_IN_PROGRESS. One that would change nothing is
   * kept as FAILED, with AWS's reason, and cannot be executed.
   */
  async createChangeSet(
    name: string,
    changeSet: {
      name: string;
      type: 'CREATE' | 'UPDATE';
      description?: string;
      /** The stack as the request named it (name or ARN). */ stackRef?: string;
    },
    input: DeployInput,
    caller: Caller,
  ): Promise<{ stack: StackDoc; changeSet: ChangeSet }> {
    if (!CHANGE_SET_NAME.test(changeSet.name)) {
      throw validation(
        `ChangeSet name ${JSON.stringify(changeSet.name)} must start with a letter and contain only letters, digits and hyphens (at most 128).`,
      );
    }
    const before = await this.store.stacks.get(name);
    if (changeSet.type === 'CREATE' && before && before.status !== 'REVIEW_IN_PROGRESS') {
      throw validation(
        `Stack [${changeSet.stackRef ?? name}] already exists and cannot be created again with the changeSet [${changeSet.name}].`,
      );
    }
    if (changeSet.type === 'UPDATE' && (!before || before.status === 'REVIEW_IN_PROGRESS'))
      throw validation(`Stack [${name}] does not exist`);
    // Everything wrong with the template or the capabilities is refused here, before anything is stored.
    const plan = await this.deploy(name, { ...input, planOnly: true, viaChangeSet: true }, caller);
    return this.lock(name).run(async () => {
      const now = this.clock.now();
      let stack = await this.store.stacks.get(name);
      // An operation started since the plan: it writes the stack step by step, which a put here would undo.
      if (stack?.operation) throw validation(`Stack ${name} is in ${stack.status} state and can not be updated.`);
      if (!stack) {
        stack = { ...plan.stack, status: 'REVIEW_IN_PROGRESS', createdAt: now, updatedAt: now, events: [] };
        this.event(stack, name, 'AWS::CloudFormation::Stack', 'REVIEW_IN_PROGRESS', 'User Initiated');
      }
      const sets = (stack.changeSets ??= []);
      if (sets.some((c) => c.name === changeSet.name))
        throw new PlatformError('AlreadyExistsException', `ChangeSet [${changeSet.name}] already exists`);
      if (sets.length >= MAX_CHANGE_SETS)
        throw validation(`Stack ${name} has ${MAX_CHANGE_SETS} change sets; delete some before creating more.`);
      const empty = plan.changes.length === 0 && changeSet.type === 'UPDATE';
      const made: ChangeSet = {
        id: `arn:aws:cloudformation:${stack.region}:${ACCOUNT_ID}:changeSet/${changeSet.name}/${uuid()}`,
        name: changeSet.name,
        type: changeSet.type,
        ...(changeSet.description !== undefined && { description: changeSet.description }),
        createdAt: now,
        status: empty ? 'FAILED' : 'CREATE_COMPLETE',
        ...(empty && {
          statusReason: "The submitted information didn't contain changes. Submit different information to create a change set.",
        }),
        executionStatus: empty ? 'UNAVAILABLE' : 'AVAILABLE',
        template: input.template,
        parameters: input.parameters ?? {},
        ...(plan.noEcho && { noEcho: plan.noEcho }),
        capabilities: [...(input.capabilities ?? [])],
        ...(input.tags && { tags: input.tags }),
        changes: plan.changes.map((c) => ({
          action: c.action,
          logicalId: c.logicalId,
          resourceType: c.resourceType,
          ...(stack.resources[c.logicalId] && { physicalId: stack.resources[c.logicalId]!.physicalId }),
        })),
      };
      sets.push(made);
      await this.write(stack);
      return { stack, changeSet: made };
    });
  }

  /** The change set named (or with the ARN) `ref` of the stack, or of any stack when `name` is not given and `ref` is an ARN. */
  async findChangeSet(name: string | undefined, ref: string): Promise<{ stack: StackDoc; changeSet: ChangeSet }> {
    // As AWS: a change set is found by name only within a stack, and a stack named must exist.
    if (name === undefined && !ref.startsWith('arn:'))
      throw validation('StackName must be specified if ChangeSetName is not specified as an ARN.');
    const stacks = name === undefined ? await this.store.stacks.list() : [await this.store.stacks.get(name)];
    if (name !== undefined && !stacks[0]) throw validation(`Stack [${name}] does not exist`);
    for (const stack of stacks) {
      const changeSet = stack?.changeSets?.find((c) => c.name === ref || c.id === ref);
      if (stack && changeSet) return { stack, changeSet };
    }
    throw new PlatformError('ChangeSetNotFoundException', `ChangeSet [${ref}] does not exist`);
  }

  /** CloudFormation's ExecuteChangeSet: runs the planned deploy. */
  async executeChangeSet(name: string | undefined, ref: string, caller: Caller): Promise<void> {
    const { stack, changeSet } = await this.findChangeSet(name, ref);
    if (changeSet.executionStatus !== 'AVAILABLE') {
      throw new PlatformError(
        'InvalidChangeSetStatusException',
        // A change set that failed (one with no changes) is refused for its status, as AWS words it.
        changeSet.status === 'FAILED'
          ? `ChangeSet [${changeSet.id}] cannot be executed in its current status of [FAILED]`
          : `ChangeSet [${changeSet.id}] cannot be executed in its current execution status of [${changeSet.executionStatus}]`,
      );
    }
    await this.deploy(
      stack.name,
      {
        template: changeSet.template,
        parameters: changeSet.parameters,
        capabilities: changeSet.capabilities,
        viaChangeSet: true,
        changeSetId: changeSet.id,
        ...(changeSet.tags && { tags: changeSet.tags }),
      },
      caller,
    );
  }

  /** CloudFormation's DeleteChangeSet; a stack made only for its change sets stays, in REVIEW_IN_PROGRESS, as on AWS. */
  async deleteChangeSet(name: string | undefined, ref: string): Promise<void> {
    const { stack } = await this.findChangeSet(name, ref);
    await this.lock(stack.name).run(async () => {
      const current = await this.get(stack.name);
      const changeSet = current.changeSets?.find((c) => c.name === ref || c.id === ref);
      if (!changeSet) throw new PlatformError('ChangeSetNotFoundException', `ChangeSet [${ref}] does not exist`);
      if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS') {
        throw new PlatformError(
          'InvalidChangeSetStatusException',
          `Cannot delete ChangeSet [${changeSet.id}] while its execution is in progress.`,
        );
      }
      current.changeSets = current.changeSets!.filter((c) => c !== changeSet);
      await this.write(current);
    });
  }

  /**
   * CloudFormation's DeleteStack: answers at once and deletes in the background (DELETE_IN_PROGRESS,
   * then the stack is gone, or DELETE_FAILED). A stack that does not exist is no error, as on AWS.
   */
  async beginDelete(name: string): Promise<void> {
    const stack = await this.store.stacks.get(name);
    if (!stack || stack.status === 'DELETE_IN_PROGRESS') return;
    if (stack.operation) throw validation(`Stack [${name}] cannot be deleted while in status ${stack.status}`);
    await this.checkNotImported(stack);
    const run = this.delete(name)
      // A refusal is the stack's own (DELETE_FAILED, with its reason); a fault is logged once, by reasonFor.
      .catch((err: unknown) => this.logger.info('stack deletion failed', { stack: name, reason: this.reasonFor(err, name) }))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }

  /**
   * CloudFormation's CancelUpdateStack: an update whose aliases are being moved stops its deployments
   * with rollback, and the stack rolls back with them. Other states cannot be cancelled.
   */
  async cancelUpdate(name: string): Promise<void> {
    const stack = await this.get(name);
    if (stack.operation?.kind !== 'update' || stack.operation.phase !== 'traffic')
      throw validation('CancelUpdateStack cannot be called from current stack status');
    await this.rollback(name);
  }

  /** Deletes every resource of the stack (newest first), then the stack. */
  delete(name: string): Promise<void> {
    return this.lock(name).run(async () => {
      const stack = await this.get(name);
      if (stack.operation)
        throw validation(`Stack ${name} is in ${stack.status} state and can not be deleted; roll it back or wait for it to finish.`);
      await this.checkNotImported(stack);
      stack.status = 'DELETE_IN_PROGRESS';
      await this.write(stack);
      try {
        const pctx = this.provisionContext(stack);
        const failed: string[] = [];
        for (const r of Object.values(stack.resources).reverse()) {
          await this.remove(pctx, stack, r);
          if (stack.events.at(-1)?.status === 'DELETE_FAILED') failed.push(`${r.logicalId}: ${stack.events.at(-1)!.reason ?? ''}`);
        }
        if (failed.length > 0) {
          stack.status = 'DELETE_FAILED';
          await this.write(stack);
          throw validation(`Stack ${name} could not delete ${failed.join('; ')}`);
        }
        await this.store.stacks.delete(name);
        this.changed(name);
      } catch (err) {
        if (err instanceof PlatformError) throw err;
        // A fault (logged here, once): the stack is left DELETE_FAILED, to be deleted again, rather than
        // in progress for ever; the caller hears CloudFormation's "Internal Failure", not the fault's text.
        stack.status = 'DELETE_FAILED';
        stack.reason = this.reasonFor(err, name);
        this.event(stack, name, 'AWS::CloudFormation::Stack', 'DELETE_FAILED', stack.reason);
        await this.write(stack).catch(() => undefined);
        throw new PlatformError('InternalFailure', `Stack ${name} could not be deleted: Internal Failure (see the server log).`);
      }
    });
  }

  private event(stack: StackDoc, logicalId: string, resourceType: string, status: string, reason?: string, physicalId?: string): void {
    stack.events.push({
      id: uuid(),
      timestamp: this.clock.now(),
      logicalId,
      resourceType,
      status,
      ...(reason && { reason }),
      ...(physicalId && { physicalId }),
    });
    if (stack.events.length > MAX_STACK_EVENTS) stack.events.splice(0, stack.events.length - MAX_STACK_EVENTS);
  }
}

/** One plain sentence on why a stack's deployment did not succeed. */
function whyDeploymentEnded(d: AliasDeployment, end: DeploymentState): string {
  const which = `Deployment ${d.deploymentId} of ${d.functionName}:${d.alias} to version ${d.toVersion}`;
  const message = (end.errorInformation?.message ?? 'no reason was given').replace(/\.$/, '');
  const alarms = end.errorInformation?.code === 'ALARM_ACTIVE' ? /Activated alarms: <([^>]+)>/.exec(message) : null;
  if (alarms) return `${which} was stopped because alarm ${alarms[1]} went into ALARM.`;
  return `${which} ${end.status === 'Stopped' ? 'was stopped' : 'failed'}: ${message}.`;
}

async function checkArtifact(uri: string, zip: Uint8Array): Promise<void> {
  try {
    await checkCodePackage(zip);
  } catch (err) {
    if (err instanceof PlatformError) throw validation(`The package for CodeUri ${uri} was refused: ${err.message}`);
    throw err;
  }
}

/**
 * The template as JSON, parsed off the event loop within bounded memory and time (parseTemplateIsolated),
 * with no more of each section than CloudFormation takes.
 */
async function parseOrThrow(text: string): Promise<JsonObject> {
  if (typeof text !== 'string' || text.trim() === '') throw validation('A template body is required.');
  let template: JsonObject;
  try {
    template = await parseTemplateIsolated(text);
  } catch (err) {
    if (err instanceof TemplateError) throw new PlatformError('ValidationError', err.message);
    throw err;
  }
  for (const [section, max] of SECTION_LIMITS) checkCount(section, template[section], max);
  const transforms = declaredTransforms(template);
  for (const name of transforms) {
    if (TRANSFORMS.has(name)) continue;
    if (AWS_TRANSFORMS.has(name)) {
      throw validation(
        `Transform ${name} is not supported by Versa, which runs ${[...TRANSFORMS].join(' and ')}; expand it before deploying.`,
      );
    }
    // As CloudFormation names a macro it does not find: in the caller's account.
    throw validation(`No transform named ${name.includes('::') ? name : `${ACCOUNT_ID}::${name}`} found.`);
  }
  // SAM's types exist only through its transform: without it CloudFormation knows none of them.
  if (!transforms.includes(SAM_TRANSFORM)) {
    const resources = isObject(template.Resources ?? null) ? Object.values(template.Resources as JsonObject) : [];
    const types = resources.map((r) => (isObject(r) ? r.Type : undefined));
    const serverless = [...new Set(types.filter((t): t is string => typeof t === 'string' && t.startsWith('AWS::Serverless::')))];
    if (serverless.length > 0) throw validation(`Template format error: Unrecognized resource types: [${serverless.join(', ')}]`);
  }
  return template;
}

const SAM_TRANSFORM = 'AWS::Serverless-2016-10-31';

/**
 * The transforms Versa runs: SAM's (whose resource types a template may use only when it declares it),
 * and LanguageExtensions, accepted as it was before transforms were checked: a template using its
 * `Fn::ForEach`, `Fn::Length` or `Fn::ToJsonString` is refused where it uses them.
 */
const TRANSFORMS = new Set([SAM_TRANSFORM, 'AWS::LanguageExtensions']);
/** CloudFormation's own transforms that Versa does not run: refused as unsupported, not as unknown. */
const AWS_TRANSFORMS = new Set([
  'AWS::Include',
  'AWS::CodeDeployBlueGreen',
  'AWS::SecretsManager-2020-07-23',
  'AWS::ServiceCatalog',
  'AWS::CodeStar',
]);

/** The names of the template's `Transform` section: one name, a map with a Name, or a list of either. */
function declaredTransforms(template: JsonObject): string[] {
  const raw = template.Transform;
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map((t) => {
    if (typeof t === 'string') return t;
    if (isObject(t)) {
      if (t.Name === undefined) throw validation('Transforms defined as maps require Name key.');
      // As CloudFormation answers a name given by an intrinsic function (a Ref to a parameter).
      if (typeof t.Name !== 'string') throw validation('Key Name of transform definition must be a string.');
      return t.Name;
    }
    throw validation('Template format error: a Transform must be a name, a map with a Name, or a list of them.');
  });
}

/**
 * CloudFormation's limits on a template's sections. Versa keeps them too: each resource a stack makes is a
 * step of its operation, so 20,000 resources held the server for tens of minutes.
 */
const SECTION_LIMITS = [
  ['Resources', 500],
  ['Outputs', 200],
  ['Parameters', 200],
  ['Mappings', 200],
] as const;

function checkCount(section: string, value: unknown, max: number): void {
  const count = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value).length : 0;
  if (count > max) {
    throw validation(`Template format error: Number of ${section.toLowerCase()}, ${count}, is greater than maximum allowed, ${max}`);
  }
}

/** Runs a step that reports template problems, turning them into one ValidationError. */
function templateError<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof TemplateError) throw new PlatformError('ValidationError', err.message);
    throw err;
  }
}

function pseudoParameters(stack: StackDoc): Record<string, Json> {
  return {
    'AWS::Region': stack.region,
    'AWS::AccountId': ACCOUNT_ID,
    'AWS::StackName': stack.name,
    'AWS::StackId': stack.stackId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NotificationARNs': [],
  };
}

/** The properties of `props` that resolve, each on its own (to check those of a resource that has some that do not). */
function resolvable(props: JsonObject, ctx: ResolveContext, where: string): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(props)) {
    try {
      setOwn(out, key, resolve(value, ctx, where));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
    }
  }
  return out;
}

/** The names the template's AWS::CodeDeploy::DeploymentConfig resources give their configurations. */
function declaredConfigNames(definitions: Record<string, ResourceDefinition>): string[] {
  return Object.values(definitions)
    .filter((d) => d.Type === 'AWS::CodeDeploy::DeploymentConfig')
    .map((d) => d.Properties?.DeploymentConfigName)
    .filter((name): name is string => typeof name === 'string');
}

/**
 * Resources ordered so that each comes after everything it refers to. Unknown types and names are
 * problems (with the resources that name unknown ones in `dangling`); a cycle is one when there are no others.
 */
function dependencyOrder(
  definitions: Record<string, ResourceDefinition>,
  names: Set<string>,
  conditions: Record<string, boolean>,
): { order: string[]; problems: string[]; dangling: Set<string> } {
  const problems: string[] = [];
  const dangling = new Set<string>();
  const deps = new Map<string, string[]>();
  for (const [id, def] of Object.entries(definitions)) {
    if (!PROVISIONERS[def.Type]) problems.push(`Resource ${id}: type ${def.Type} is not supported by Versa.`);
    // UpdatePolicy is read only when the alias is moved, after every other resource is in place; its
    // hooks may themselves refer to the alias, which is no cycle.
    const refs = references(pruneConditions(def.Properties ?? {}, conditions));
    if (def.UpdatePolicy) {
      for (const r of references(def.UpdatePolicy)) {
        if (!Object.hasOwn(definitions, r) && !names.has(r)) {
          problems.push(`Resource ${id}: UpdatePolicy refers to ${r}, which is not a parameter or resource of the template.`);
          dangling.add(id);
        }
      }
    }
    const given: unknown = def.DependsOn;
    const dependsOn = given === undefined ? [] : Array.isArray(given) ? (given as unknown[]) : [given];
    if (!dependsOn.every((d): d is string => typeof d === 'string')) {
      problems.push(`Resource ${id}: DependsOn must be a resource name or a list of them.`);
      continue;
    }
    // A Ref to itself is left to the resource's own checks; waiting on itself can never be met.
    if (dependsOn.includes(id)) problems.push(`Circular dependency between resources: [${id}]`);
    const list: string[] = [];
    for (const r of [...refs, ...dependsOn]) {
      if (r === 'AWS::NoValue' || names.has(r)) continue;
      if (!Object.hasOwn(definitions, r)) {
        problems.push(`Resource ${id} refers to ${r}, which is not a parameter or resource of the template.`);
        dangling.add(id);
      } else if (r !== id) list.push(r);
    }
    deps.set(id, list);
  }
  if (problems.length > 0) return { order: Object.keys(definitions), problems, dangling };
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting')
      throw new TemplateError([`Circular dependency between resources: ${[...path.slice(path.indexOf(id)), id].join(' → ')}`]);
    state.set(id, 'visiting');
    for (const d of deps.get(id) ?? []) visit(d, [...path, id]);
    state.set(id, 'done');
    order.push(id);
  };
  try {
    for (const id of deps.keys()) visit(id, []);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    return { order: Object.keys(definitions), problems: err.problems, dangling };
  }
  return { order, problems, dangling };
}

function resolveOutputs(stack: StackDoc, op: StackOperation, preview: boolean): StackDoc['outputs'] {
  const ctx: ResolveContext = {
    parameters: { ...pseudoParameters(stack), ...op.parameters },
    conditions: op.conditions,
    mappings: op.mappings,
    ref: (id) =>
      Object.hasOwn(op.definitions, id) ? (own(stack.resources, id)?.physicalId ?? (preview ? PLACEHOLDER : undefined)) : undefined,
    getAtt: (id, attr) =>
      Object.hasOwn(op.definitions, id) ? (ownAttribute(own(stack.resources, id), attr) ?? (preview ? PLACEHOLDER : undefined)) : undefined,
    ...(op.imports && { imports: op.imports }),
  };
  const out: StackDoc['outputs'] = [];
  for (const [key, o] of Object.entries(op.outputs)) {
    if (o.Condition !== undefined && !own(op.conditions, o.Condition)) continue;
    const value = resolve(o.Value, ctx, `Output ${key}`);
    const description = o.Description === undefined ? undefined : resolve(o.Description, ctx, `Output ${key}`);
    const exported = isObject(o.Export ?? null) ? resolve((o.Export as JsonObject).Name ?? null, ctx, `Output ${key}: Export`) : undefined;
    if (o.Export !== undefined && (typeof exported !== 'string' || exported === '')) {
      throw new TemplateError([`Output ${key}: Export must have a Name.`]);
    }
    out.push({
      key,
      value: typeof value === 'string' ? value : JSON.stringify(value),
      ...(typeof description === 'string' && { description }),
      ...(typeof exported === 'string' && { exportName: exported }),
    });
  }
  return out;
}

/** What a deploy records about the template and the call, for CloudFormation's answers. */
function stackSettings(input: DeployInput, template: JsonObject): Partial<StackDoc> {
  const declared = isObject(template.Parameters ?? null) ? (template.Parameters as JsonObject) : {};
  const noEcho = Object.entries(declared)
    .filter(([, spec]) => isObject(spec) && (spec.NoEcho === true || spec.NoEcho === 'true'))
    .map(([key]) => key);
  return {
    template: input.template,
    description: typeof template.Description === 'string' ? template.Description : undefined,
    noEcho,
    importNames: [...literalImports(template)],
    ...(input.capabilities && { capabilities: [...input.capabilities] }),
    ...(input.tags && { tags: input.tags }),
  };
}

/**
 * The stack's settings, every key present: one the stored copy lacks (JSON drops undefined) is undefined,
 * so that assigning them clears what the failed deploy set.
 */
function settingsOf(from: StackSettings): StackSettings {
  return Object.fromEntries(STACK_SETTINGS.map((k) => [k, from[k]])) as StackSettings;
}

/** The export names a template reads with `Fn::ImportValue` of a literal name. */
function literalImports(value: Json, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) literalImports(v, into);
  else if (isObject(value)) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Fn::ImportValue' && typeof v === 'string') into.add(v);
      else literalImports(v, into);
    }
  }
  return into;
}

function importedNames(stack: StackDoc): Set<string> {
  return new Set(stack.importNames ?? []);
}

/** Marks the change set a deploy executes; the stack's other change sets no longer apply to it and go, as on AWS. */
function markChangeSets(stack: StackDoc, id: string | undefined, status: ChangeSet['executionStatus']): void {
  if (id === undefined || !stack.changeSets) return;
  stack.changeSets = stack.changeSets.filter((c) => c.id === id);
  for (const c of stack.changeSets) c.executionStatus = status;
}

/** At the end of an operation: the change set it executed completed or failed. */
function finishChangeSets(stack: StackDoc, status: 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED'): void {
  for (const c of stack.changeSets ?? []) if (c.executionStatus === 'EXECUTE_IN_PROGRESS') c.executionStatus = status;
}

/** A record's own entry: a name such as `constructor` must not find what every object inherits. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A resource's attribute, by its own name only. */
function ownAttribute<T>(resource: { attributes: Record<string, T> } | undefined, attr: string): T | undefined {
  return resource && Object.hasOwn(resource.attributes, attr) ? resource.attributes[attr] : undefined;
}
