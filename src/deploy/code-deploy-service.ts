import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { uuid } from '../core/ids.js';
import {
  DEFAULT_CONFIG,
  isActive,
  LIFECYCLE,
  parseAppSpec,
  PREDEFINED_CONFIGS,
  validateRouting,
  type DeploymentState,
  type Observation,
  type TrafficRouting,
} from '../domain/deployment.js';
import { parseFunctionRef } from '../domain/arn.js';
import { LATEST } from '../domain/lambda-function.js';
import type { Store } from '../store/store.js';
import { deploymentNotFound, newDeploymentId, type DeploymentController } from './deployment-controller.js';
import type { ApplicationDoc, DeploymentConfigDoc, DeploymentGroupDoc } from '../domain/code-deploy.js';
import {
  alarmConfigOf,
  blueGreenOf,
  checkDescription,
  checkName,
  checkRole,
  rollbackConfigOf,
  shown,
  styleOf,
  triggersOf,
  type AlarmInput,
} from './code-deploy-checks.js';

const err = (code: ConstructorParameters<typeof PlatformError>[0], message: string) => new PlatformError(code, message);

export interface GroupInput {
  applicationName?: string;
  deploymentGroupName?: string;
  deploymentConfigName?: string;
  serviceRoleArn?: string;
  alarmConfiguration?: AlarmInput;
  autoRollbackConfiguration?: { enabled?: boolean; events?: string[] };
  deploymentStyle?: { deploymentType?: string; deploymentOption?: string };
  blueGreenDeploymentConfiguration?: DeploymentGroupDoc['blueGreenDeploymentConfiguration'];
  outdatedInstancesStrategy?: string;
  triggerConfigurations?: { triggerName?: string; triggerTargetArn?: string; triggerEvents?: string[] }[];
  terminationHookEnabled?: boolean;
}

export interface CreateDeploymentInput {
  applicationName?: string;
  deploymentGroupName?: string;
  deploymentConfigName?: string;
  description?: string;
  revision?: {
    revisionType?: string;
    appSpecContent?: { content?: string; sha256?: string };
    string?: { content?: string; sha256?: string };
  };
  autoRollbackConfiguration?: { enabled?: boolean; events?: string[] };
  overrideAlarmConfiguration?: AlarmInput;
  /** Who asked: a user through the API, or a stack update (`versa deploy`), as AWS says CloudFormation. */
  creator?: 'user' | 'CloudFormation';
}

/**
 * The CodeDeploy control plane for Lambda: applications, deployment groups, deployment configs, and
 * creating, stopping and reporting on deployments, which the DeploymentController then runs.
 */
export class CodeDeployService {
  constructor(
    private readonly store: Store,
    private readonly controller: DeploymentController,
    private readonly clock: Clock,
  ) {}

  // ---- Applications ----

  async createApplication(name: string | undefined, computePlatform: string | undefined): Promise<ApplicationDoc> {
    if (!name) throw err('ApplicationNameRequiredException', 'The minimum number of required application names was not specified.');
    checkName('application', name);
    checkComputePlatform(computePlatform);
    return this.store.transaction(async (tx) => {
      if (await tx.codeDeploy.getApplication(name))
        throw err('ApplicationAlreadyExistsException', `An application with the name ${name} already exists.`);
      const app: ApplicationDoc = { applicationId: uuid(), applicationName: name, computePlatform: 'Lambda', createTime: this.clock.now() };
      await tx.codeDeploy.putApplication(app);
      return app;
    });
  }

  async getApplication(name: string | undefined): Promise<ApplicationDoc> {
    if (!name) throw err('ApplicationNameRequiredException', 'The minimum number of required application names was not specified.');
    checkName('application', name);
    const app = await this.store.codeDeploy.getApplication(name);
    if (!app) throw err('ApplicationDoesNotExistException', `No application found for name: ${name}`);
    return app;
  }

  listApplications(): Promise<ApplicationDoc[]> {
    return this.store.codeDeploy.listApplications();
  }

  /** Deletes the application, its groups and every record of their deployments, as CodeDeploy does. */
  async deleteApplication(name: string | undefined): Promise<void> {
    const app = await this.getApplication(name);
    await this.deleteWithDeployments({ application: app.applicationName }, 'application', (tx) =>
      tx.codeDeploy.deleteApplication(app.applicationName),
    );
  }

  // ---- Deployment groups ----

  async createDeploymentGroup(input: GroupInput): Promise<DeploymentGroupDoc> {
    const app = await this.getApplication(input.applicationName);
    if (!input.deploymentGroupName) throw err('DeploymentGroupNameRequiredException', 'The deployment group name was not specified.');
    const group = await this.groupFrom(input, undefined);
    return this.store.transaction(async (tx) => {
      if (await tx.codeDeploy.getGroup(app.applicationName, group.deploymentGroupName)) {
        throw err(
          'DeploymentGroupAlreadyExistsException',
          `A deployment group with the name ${group.deploymentGroupName} already exists for this application.`,
        );
      }
      await tx.codeDeploy.putGroup(group);
      return group;
    });
  }

  async getDeploymentGroup(application: string | undefined, name: string | undefined): Promise<DeploymentGroupDoc> {
    const app = await this.getApplication(application);
    if (!name) throw err('DeploymentGroupNameRequiredException', 'The deployment group name was not specified.');
    checkName('deploymentGroup', name);
    const group = await this.store.codeDeploy.getGroup(app.applicationName, name);
    if (!group)
      throw err(
        'DeploymentGroupDoesNotExistException',
        `The deployment group ${name} does not exist for application ${app.applicationName}.`,
      );
    return group;
  }

  async listDeploymentGroups(application: string | undefined): Promise<string[]> {
    const app = await this.getApplication(application);
    return this.store.codeDeploy.groupNames(app.applicationName);
  }

  async updateDeploymentGroup(input: GroupInput & { currentDeploymentGroupName?: string; newDeploymentGroupName?: string }): Promise<void> {
    const current = await this.getDeploymentGroup(input.applicationName, input.currentDeploymentGroupName);
    const next = await this.groupFrom(
      {
        applicationName: current.applicationName,
        deploymentGroupName: input.newDeploymentGroupName ?? current.deploymentGroupName,
        deploymentConfigName: input.deploymentConfigName ?? current.deploymentConfigName,
        serviceRoleArn: input.serviceRoleArn ?? current.serviceRoleArn,
        alarmConfiguration: input.alarmConfiguration ?? current.alarmConfiguration,
        autoRollbackConfiguration: input.autoRollbackConfiguration ?? current.autoRollbackConfiguration,
        deploymentStyle: input.deploymentStyle ?? current.deploymentStyle,
        ...((input.blueGreenDeploymentConfiguration ?? current.blueGreenDeploymentConfiguration) && {
          blueGreenDeploymentConfiguration: input.blueGreenDeploymentConfiguration ?? current.blueGreenDeploymentConfiguration,
        }),
        outdatedInstancesStrategy: input.outdatedInstancesStrategy ?? current.outdatedInstancesStrategy,
        triggerConfigurations: input.triggerConfigurations ?? current.triggerConfigurations,
        terminationHookEnabled: input.terminationHookEnabled ?? current.terminationHookEnabled,
      },
      current,
    );
    await this.store.transaction(async (tx) => {
      if (next.deploymentGroupName !== current.deploymentGroupName) {
        if (await tx.codeDeploy.getGroup(current.applicationName, next.deploymentGroupName)) {
          throw err(
            'DeploymentGroupAlreadyExistsException',
            `A deployment group with the name ${next.deploymentGroupName} already exists for this application.`,
          );
        }
        // A renamed group keeps its tags: deleting the old name would drop them.
        const tags = await tx.tags.get({
          kind: 'deployment-group',
          application: current.applicationName,
          name: current.deploymentGroupName,
        });
        await tx.codeDeploy.deleteGroup(current.applicationName, current.deploymentGroupName);
        await tx.tags.put({ kind: 'deployment-group', application: current.applicationName, name: next.deploymentGroupName }, tags);
      }
      await tx.codeDeploy.putGroup(next);
    });
  }

  /** Deletes the group and every record of its deployments, as CodeDeploy does. */
  async deleteDeploymentGroup(application: string | undefined, name: string | undefined): Promise<void> {
    const group = await this.getDeploymentGroup(application, name);
    await this.deleteWithDeployments({ application: group.applicationName, group: group.deploymentGroupName }, 'deploymentGroup', (tx) =>
      tx.codeDeploy.deleteGroup(group.applicationName, group.deploymentGroupName),
    );
  }

  /**
   * Ends the running deployments in `scope` (Failed, APPLICATION_MISSING or DEPLOYMENT_GROUP_MISSING,
   * rolled back if the deployment rolls back on failure), then deletes their records with what owns
   * them in one transaction. Ending them through the controller first means no step of theirs is left
   * to write a record back after the delete. One that appears in between (a CreateDeployment that had
   * already passed its group check) is ended on the next round.
   */
  private async deleteWithDeployments(
    scope: { application: string; group?: string },
    what: 'application' | 'deploymentGroup',
    remove: (tx: Store) => Promise<void>,
  ): Promise<void> {
    for (let round = 0; round < 3; round++) {
      for (const d of await this.store.codeDeploy.listDeployments(scope)) {
        if (isActive(d.status)) await this.controller.kick(d.deploymentId, [{ kind: 'deleted', what }]);
      }
      const deleted = await this.store.transaction(async (tx) => {
        if ((await tx.codeDeploy.listDeployments(scope)).some((d) => isActive(d.status))) return false;
        await tx.codeDeploy.deleteDeployments(scope);
        await remove(tx);
        return true;
      });
      if (deleted) return;
    }
    throw err('InternalFailure', 'A deployment of this group could not be ended, so nothing was deleted; try again.');
  }

  private async groupFrom(input: GroupInput, existing: DeploymentGroupDoc | undefined): Promise<DeploymentGroupDoc> {
    if (!input.serviceRoleArn) throw err('RoleRequiredException', 'Role ARN is required for a deployment group.');
    checkName('deploymentGroup', input.deploymentGroupName!);
    checkRole(input.serviceRoleArn);
    const configName = input.deploymentConfigName ?? DEFAULT_CONFIG;
    await this.routingOf(configName);
    const alarmConfiguration = alarmConfigOf(input.alarmConfiguration);
    const autoRollbackConfiguration = rollbackConfigOf(input.autoRollbackConfiguration);
    const deploymentStyle = styleOf(input.deploymentStyle);
    const blueGreen = blueGreenOf(input.blueGreenDeploymentConfiguration);
    const outdated = input.outdatedInstancesStrategy ?? 'UPDATE';
    if (outdated !== 'UPDATE' && outdated !== 'IGNORE') {
      throw err(
        'ValidationException',
        `1 validation error detected: Value '${outdated}' at 'outdatedInstancesStrategy' failed to satisfy constraint: Member must satisfy enum value set: [UPDATE, IGNORE]`,
      );
    }
    const triggers = triggersOf(input.triggerConfigurations);
    return {
      applicationName: input.applicationName!,
      deploymentGroupId: existing?.deploymentGroupId ?? uuid(),
      deploymentGroupName: input.deploymentGroupName!,
      deploymentConfigName: configName,
      serviceRoleArn: input.serviceRoleArn,
      alarmConfiguration,
      autoRollbackConfiguration,
      deploymentStyle,
      ...(blueGreen && { blueGreenDeploymentConfiguration: blueGreen }),
      outdatedInstancesStrategy: outdated,
      triggerConfigurations: triggers,
      terminationHookEnabled: input.terminationHookEnabled ?? false,
      ...(existing?.lastAttemptedDeployment && { lastAttemptedDeployment: existing.lastAttemptedDeployment }),
      ...(existing?.lastSuccessfulDeployment && { lastSuccessfulDeployment: existing.lastSuccessfulDeployment }),
    };
  }

  // ---- Deployment configs ----

  async createDeploymentConfig(
    name: string | undefined,
    computePlatform: string | undefined,
    routing: Parameters<typeof validateRouting>[0],
  ): Promise<DeploymentConfigDoc> {
    if (!name) throw err('DeploymentConfigNameRequiredException', 'The deployment configuration name was not specified.');
    checkName('deploymentConfig', name);
    if (name.startsWith('CodeDeployDefault.'))
      throw err('InvalidDeploymentConfigNameException', 'A deployment configuration name cannot start with CodeDeployDefault.');
    checkComputePlatform(computePlatform);
    const config: DeploymentConfigDoc = {
      deploymentConfigId: uuid(),
      deploymentConfigName: name,
      computePlatform: 'Lambda',
      createTime: this.clock.now(),
      routing: validateRouting(routing),
    };
    return this.store.transaction(async (tx) => {
      if (await tx.codeDeploy.getConfig(name))
        throw err('DeploymentConfigAlreadyExistsException', `A deployment configuration with the name ${name} already exists.`);
      await tx.codeDeploy.putConfig(config);
      return config;
    });
  }

  async getDeploymentConfig(name: string | undefined): Promise<DeploymentConfigDoc> {
    if (!name) throw err('DeploymentConfigNameRequiredException', 'The deployment configuration name was not specified.');
    checkName('deploymentConfig', name);
    const predefined = PREDEFINED_CONFIGS[name];
    if (predefined)
      return { deploymentConfigId: name, deploymentConfigName: name, computePlatform: 'Lambda', createTime: 0, routing: predefined };
    const config = await this.store.codeDeploy.getConfig(name);
    if (!config) throw err('DeploymentConfigDoesNotExistException', `The deployment configuration ${name} does not exist.`);
    return config;
  }

  async listDeploymentConfigs(): Promise<string[]> {
    return [...Object.keys(PREDEFINED_CONFIGS), ...(await this.store.codeDeploy.listConfigs()).map((c) => c.deploymentConfigName)];
  }

  async deleteDeploymentConfig(name: string | undefined): Promise<void> {
    if (name?.startsWith('CodeDeployDefault.'))
      throw err('InvalidDeploymentConfigNameException', 'Predefined deployment configurations cannot be deleted.');
    const config = await this.getDeploymentConfig(name);
    for (const app of await this.store.codeDeploy.listApplications()) {
      // One group's record at a time: each may hold megabytes.
      for (const name of await this.store.codeDeploy.groupNames(app.applicationName)) {
        const g = await this.store.codeDeploy.getGroup(app.applicationName, name);
        if (g?.deploymentConfigName === config.deploymentConfigName)
          throw err('DeploymentConfigInUseException', `The deployment configuration is in use by ${g.deploymentGroupName}.`);
      }
    }
    await this.store.codeDeploy.deleteConfig(config.deploymentConfigName);
  }

  private async routingOf(name: string): Promise<TrafficRouting> {
    return (await this.getDeploymentConfig(name)).routing;
  }

  // ---- Deployments ----

  async createDeployment(input: CreateDeploymentInput): Promise<DeploymentState> {
    const group = await this.getDeploymentGroup(input.applicationName, input.deploymentGroupName);
    checkDescription(input.description);
    const revision = input.revision;
    if (!revision) throw err('RevisionRequiredException', 'The revision ID was not specified.');
    const content =
      revision.revisionType === 'AppSpecContent'
        ? revision.appSpecContent?.content
        : revision.revisionType === 'String'
          ? revision.string?.content
          : undefined;
    if (content === undefined) {
      throw err(
        'InvalidRevisionException',
        'A Lambda deployment needs revisionType AppSpecContent (or String) with the AppSpec content; S3 revisions are not supported.',
      );
    }
    const target = parseAppSpec(content);
    const sha256 = createHash('sha256').update(content).digest('hex');
    // A hash the caller sends is checked, not kept as sent: it is returned with every GetDeployment.
    const given = revision.revisionType === 'AppSpecContent' ? revision.appSpecContent?.sha256 : revision.string?.sha256;
    if (given !== undefined && given.toLowerCase() !== sha256) {
      throw err(
        'InvalidRevisionException',
        'The revision was specified in an invalid format: its sha256 is not the SHA-256 hash of its content.',
      );
    }
    const configName = input.deploymentConfigName ?? group.deploymentConfigName;
    const routing = await this.routingOf(configName);
    // What the deployment sends overrides the group's, member by member, and is checked as the group's is.
    const autoRollback = input.autoRollbackConfiguration
      ? rollbackConfigOf({
          enabled: input.autoRollbackConfiguration.enabled ?? group.autoRollbackConfiguration.enabled,
          events: input.autoRollbackConfiguration.events ?? group.autoRollbackConfiguration.events,
        })
      : group.autoRollbackConfiguration;
    const alarmConfig = input.overrideAlarmConfiguration ? alarmConfigOf(input.overrideAlarmConfiguration) : group.alarmConfiguration;
    const alarms = {
      enabled: alarmConfig.enabled,
      ignorePollAlarmFailure: alarmConfig.ignorePollAlarmFailure,
      names: alarmConfig.alarms.map((a) => a.name),
    };
    const now = this.clock.now();
    const deployment = await this.store.transaction(async (tx) => {
      // The function, alias and versions must exist before anything moves.
      if (!(await tx.functions.get(target.functionName)))
        throw err('InvalidRevisionException', `The AppSpec names function ${target.functionName}, which does not exist.`);
      const alias = await tx.aliases.get(target.functionName, target.alias);
      if (!alias)
        throw err('InvalidRevisionException', `The AppSpec names alias ${target.alias} of ${target.functionName}, which does not exist.`);
      for (const v of [target.currentVersion, target.targetVersion]) {
        if (v !== LATEST && !(await tx.versions.get(target.functionName, v))) {
          throw err('InvalidRevisionException', `The AppSpec names version ${v} of ${target.functionName}, which does not exist.`);
        }
      }
      for (const hook of [target.beforeAllowTraffic, target.afterAllowTraffic]) {
        if (hook && !(await tx.functions.get(hook.split(':')[0] ?? hook))) {
          throw err('InvalidRevisionException', `The AppSpec names hook function ${hook}, which does not exist.`);
        }
      }
      // Checked again here: a DeleteDeploymentGroup may have run since the group was read.
      if (!(await tx.codeDeploy.getGroup(group.applicationName, group.deploymentGroupName))) {
        throw err(
          'DeploymentGroupDoesNotExistException',
          `The deployment group ${group.deploymentGroupName} does not exist for application ${group.applicationName}.`,
        );
      }
      const active = (await tx.codeDeploy.listDeployments({ application: group.applicationName, group: group.deploymentGroupName })).find(
        (d) => isActive(d.status),
      );
      if (active) {
        throw err(
          'DeploymentLimitExceededException',
          `The Deployment Group '${group.deploymentGroupName}' already has an active Deployment '${active.deploymentId}'`,
        );
      }
      // Another active deployment, of any group or application, moving the same alias: CodeDeploy takes
      // this one and fails it at its start, as it does one whose alias already shifts traffic between two
      // versions. Decided here, in the transaction that creates it, so that of two created at once on
      // two nodes the second sees the first (one that is itself failing for this reason does not count).
      const busy = (await tx.codeDeploy.activeDeployments()).find(
        (d) => d.functionName === target.functionName && d.alias === target.alias && !d.inbox?.some((o) => o.kind === 'aliasBusy'),
      );
      const state: DeploymentState = {
        deploymentId: newDeploymentId(),
        applicationName: group.applicationName,
        deploymentGroupName: group.deploymentGroupName,
        deploymentConfigName: configName,
        routing,
        ...(input.description !== undefined && { description: input.description }),
        creator: input.creator ?? 'user',
        status: 'Created',
        createTime: now,
        revision: {
          revisionType: revision.revisionType ?? 'AppSpecContent',
          appSpecContent: { content, sha256 },
        },
        functionName: target.functionName,
        alias: target.alias,
        currentVersion: target.currentVersion,
        targetVersion: target.targetVersion,
        events: LIFECYCLE.map((name) => ({
          lifecycleEventName: name,
          status: 'Pending',
          ...(name === 'BeforeAllowTraffic' &&
            target.beforeAllowTraffic && { hookFunction: target.beforeAllowTraffic, hookExecutionId: uuid() }),
          ...(name === 'AfterAllowTraffic' &&
            target.afterAllowTraffic && { hookFunction: target.afterAllowTraffic, hookExecutionId: uuid() }),
        })),
        targetWeight: 0,
        bakeMinutes: group.blueGreenDeploymentConfiguration?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes ?? 0,
        alarms: alarms.names,
        alarmsEnabled: alarms.enabled,
        ignorePollAlarmFailure: alarms.ignorePollAlarmFailure,
        autoRollback,
        ...(busy && { inbox: [{ kind: 'aliasBusy', deploymentId: busy.deploymentId }] }),
      };
      await tx.codeDeploy.putDeployment(state);
      await tx.codeDeploy.putGroup({
        ...group,
        lastAttemptedDeployment: { deploymentId: state.deploymentId, status: 'Created', createTime: now },
      });
      return state;
    });
    void this.controller.kick(deployment.deploymentId, []);
    return deployment;
  }

  async getDeployment(id: string | undefined): Promise<DeploymentState> {
    if (!id) throw err('DeploymentIdRequiredException', 'At least one deployment ID must be specified.');
    if (!/^d-[A-Z0-9]{9}$/.test(id))
      throw err('InvalidDeploymentIdException', `The deployment ID ${shown(id)} is not valid: it must look like d-ABCDEF123.`);
    const d = await this.store.codeDeploy.getDeployment(id);
    if (!d) throw deploymentNotFound(id);
    return d;
  }

  /**
   * One page of deployment ids, newest first (ListDeployments): those created before the deployment
   * numbered `before`, and the number the next page starts before when there are more.
   */
  async deploymentPage(
    filter: { application?: string; group?: string; statuses?: readonly string[] },
    before: number | undefined,
    limit: number,
  ): Promise<{ ids: string[]; next: number | undefined }> {
    const rows = await this.store.codeDeploy.deploymentIds(filter, { ...(before !== undefined && { before }), limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { ids: page.map((r) => r.id), next: rows.length > limit ? page.at(-1)!.seq : undefined };
  }

  async stopDeployment(
    id: string | undefined,
    autoRollbackEnabled: boolean | undefined,
  ): Promise<{ status: string; statusMessage: string }> {
    const d = await this.getDeployment(id);
    if (!isActive(d.status)) throw err('DeploymentAlreadyCompletedException', `The deployment ${d.deploymentId} has already completed.`);
    await this.report(d.deploymentId, { kind: 'stop', autoRollbackEnabled });
    const after = await this.getDeployment(id);
    return {
      status: isActive(after.status) ? 'Pending' : 'Succeeded',
      statusMessage: `Deployment ${d.deploymentId} stopped${after.rollbackInfo?.rollbackDeploymentId ? ` and rolled back by ${after.rollbackInfo.rollbackDeploymentId}` : ''}.`,
    };
  }

  /** The name of the function a hook execution of a deployment invokes; undefined when there is none such. */
  async hookFunction(id: string | undefined, executionId: string | undefined): Promise<string | undefined> {
    const d = await this.store.codeDeploy.getDeployment(id ?? '');
    const hook = d?.events.find((e) => e.hookExecutionId !== undefined && e.hookExecutionId === executionId)?.hookFunction;
    if (hook === undefined) return undefined;
    try {
      return parseFunctionRef(hook).name;
    } catch {
      return hook;
    }
  }

  async putHookStatus(id: string | undefined, executionId: string | undefined, status: string | undefined): Promise<string> {
    const d = await this.getDeployment(id);
    if (status !== 'Succeeded' && status !== 'Failed') {
      throw err(
        'InvalidLifecycleEventHookExecutionStatusException',
        `The status ${shown(status)} is not valid: report Succeeded or Failed.`,
      );
    }
    const hook = d.events.find((e) => e.hookExecutionId !== undefined && e.hookExecutionId === executionId);
    if (!hook || !executionId)
      throw err(
        'InvalidLifecycleEventHookExecutionIdException',
        `The lifecycle event hook execution ID ${shown(executionId)} is not valid for ${d.deploymentId}.`,
      );
    const completed = () =>
      err(
        'LifecycleEventAlreadyCompletedException',
        `The lifecycle event ${hook.lifecycleEventName} of ${d.deploymentId} has already completed.`,
      );
    if (hook.status !== 'InProgress') throw completed();
    // One report per execution, as CodeDeploy takes: a second, while the first waits in the inbox for
    // the controller, is refused, not accepted and then ignored.
    await this.report(d.deploymentId, { kind: 'hookStatus', executionId, status }, (current) => {
      const waiting = current.inbox?.some((o) => o.kind === 'hookStatus' && o.executionId === executionId);
      if (waiting || current.events.find((e) => e.hookExecutionId === executionId)?.status !== 'InProgress') throw completed();
    });
    return executionId;
  }

  /**
   * Stores a report in the deployment's inbox, then has the controller step it (here, or on the leader):
   * a report accepted is never lost, even if the node that would act on it dies first.
   */
  private async report(deploymentId: string, observation: Observation, check?: (d: DeploymentState) => void): Promise<void> {
    await this.store.transaction(async (tx) => {
      const d = await tx.codeDeploy.getDeployment(deploymentId);
      if (!d || !isActive(d.status)) return;
      check?.(d);
      await tx.codeDeploy.putDeployment({ ...d, inbox: [...(d.inbox ?? []), observation] });
    });
    await this.controller.kick(deploymentId, []);
  }
}

/** CodeDeploy's three compute platforms are known; Versa runs the Lambda one only. */
function checkComputePlatform(computePlatform: string | undefined): void {
  if (computePlatform === undefined || computePlatform === 'Lambda') return;
  if (computePlatform !== 'Server' && computePlatform !== 'ECS') {
    throw err('InvalidComputePlatformException', 'The computePlatform is invalid. The computePlatform should be Lambda, Server, or ECS.');
  }
  throw err('InvalidComputePlatformException', `Versa deploys Lambda functions only; computePlatform ${computePlatform} is not supported.`);
}
