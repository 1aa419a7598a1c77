/**
 * Helpers shared by the CodeDeploy end-to-end tests: clients, a function with two versions behind an
 * alias, lifecycle-hook functions that report through the SDK from inside the runtime, AppSpecs, and
 * bounded polling.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  type CreateDeploymentGroupCommandInput,
  type DeploymentInfo,
  type LambdaTarget,
  type LifecycleEvent,
} from '@aws-sdk/client-codedeploy';
import {
  CreateAliasCommand,
  GetAliasCommand,
  PublishVersionCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { createFunction, zipOf } from './harness.js';

export const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
export const SERVICE_ROLE = 'arn:aws:iam::000000000000:role/codedeploy-role';

export function codeDeployClientFor(endpoint: string): CodeDeployClient {
  return new CodeDeployClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

export function cloudWatchClientFor(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
}

/** Polls `check` every `intervalMs` until it returns a value, failing after `ms` of real time. */
export async function eventually<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined> | T | undefined,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Creates `name` with version 1 answering "v1" and version 2 answering "v2" (or throwing, when
 * `v2Throws`), and the alias `live` on version 1.
 */
export async function functionWithTwoVersions(lambda: LambdaClient, name: string, opts: { v2Throws?: boolean } = {}): Promise<void> {
  await createFunction(lambda, name, { 'index.js': 'exports.handler = async () => "v1";' });
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  const v2 = opts.v2Throws ? 'exports.handler = async () => { throw new Error("v2 is broken"); };' : 'exports.handler = async () => "v2";';
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zipOf({ 'index.js': v2 }) }));
  await lambda.send(new PublishVersionCommand({ FunctionName: name }));
  await lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
}

/** ESM source of a hook that reports `status` for the execution it was invoked with. */
export function reportingHook(status: 'Succeeded' | 'Failed'): string {
  return [
    "import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';",
    'const client = new CodeDeployClient({});',
    'export const handler = async (event) => {',
    '  await client.send(',
    '    new PutLifecycleEventHookExecutionStatusCommand({',
    '      deploymentId: event.DeploymentId,',
    '      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,',
    `      status: '${status}',`,
    '    }),',
    '  );',
    `  return '${status}';`,
    '};',
  ].join('\n');
}

/** A hook that throws before reporting anything. */
export const THROWING_HOOK = "export const handler = async () => { throw new Error('the pre-traffic check crashed'); };";

/**
 * A hook that reports nothing: it logs the event it got as one `PARKED {...}` line, so a test can
 * report for it (or misreport) with the real execution id (parkedEvents). The log, not a file: in its
 * sandbox a function cannot write where the test reads.
 */
export const PARKING_HOOK = [
  'export const handler = async (event) => {',
  "  process.stdout.write('PARKED ' + JSON.stringify(event) + '\\n');",
  "  return 'parked';",
  '};',
].join('\n');

export interface ParkedEvent {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
  /** When the hook logged it (ms since the epoch). */
  loggedAt: number;
}

/** The events PARKING_HOOK (function `hook`) logged for `deploymentId`, oldest first. */
export async function parkedEvents(endpoint: string, deploymentId: string, hook = 'hook-parked'): Promise<ParkedEvent[]> {
  const logs = new CloudWatchLogsClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    const out = await logs.send(new FilterLogEventsCommand({ logGroupName: `/aws/lambda/${hook}`, filterPattern: `"${deploymentId}"` }));
    return (out.events ?? [])
      .filter((e) => e.message?.startsWith('PARKED '))
      .map((e) => ({ ...(JSON.parse(e.message!.slice('PARKED '.length)) as Omit<ParkedEvent, 'loggedAt'>), loggedAt: e.timestamp ?? 0 }))
      .filter((e) => e.DeploymentId === deploymentId);
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return [];
    throw err;
  } finally {
    logs.destroy();
  }
}

export async function createHookFunction(
  lambda: LambdaClient,
  name: string,
  source: string,
  environment?: Record<string, string>,
): Promise<void> {
  await createFunction(
    lambda,
    name,
    { 'index.mjs': source },
    { Timeout: 30, ...(environment && { Environment: { Variables: environment } }) },
  );
}

/** A Lambda AppSpec (YAML) moving `fn:live` from version 1 to 2, with optional hooks. */
export function appSpec(fn: string, hooks: { before?: string; after?: string } = {}, versions = { current: '1', target: '2' }): string {
  const lines = [
    'version: 0.0',
    'Resources:',
    '  - myFunction:',
    '      Type: AWS::Lambda::Function',
    '      Properties:',
    `        Name: ${fn}`,
    '        Alias: live',
    `        CurrentVersion: "${versions.current}"`,
    `        TargetVersion: "${versions.target}"`,
  ];
  if (hooks.before || hooks.after) {
    lines.push('Hooks:');
    if (hooks.before) lines.push(`  - BeforeAllowTraffic: ${hooks.before}`);
    if (hooks.after) lines.push(`  - AfterAllowTraffic: ${hooks.after}`);
  }
  return lines.join('\n') + '\n';
}

/** Creates an application and a deployment group in it. */
export async function createAppAndGroup(
  cd: CodeDeployClient,
  app: string,
  group: string,
  extra: Partial<CreateDeploymentGroupCommandInput> = {},
): Promise<void> {
  await cd.send(new CreateApplicationCommand({ applicationName: app, computePlatform: 'Lambda' }));
  await cd.send(
    new CreateDeploymentGroupCommand({
      applicationName: app,
      deploymentGroupName: group,
      serviceRoleArn: SERVICE_ROLE,
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      ...extra,
    }),
  );
}

export async function deploy(
  cd: CodeDeployClient,
  app: string,
  group: string,
  content: string,
  deploymentConfigName?: string,
): Promise<string> {
  const out = await cd.send(
    new CreateDeploymentCommand({
      applicationName: app,
      deploymentGroupName: group,
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content } },
      ...(deploymentConfigName && { deploymentConfigName }),
    }),
  );
  return out.deploymentId!;
}

export async function getDeployment(cd: CodeDeployClient, id: string): Promise<DeploymentInfo> {
  return (await cd.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!;
}

export async function getTarget(cd: CodeDeployClient, id: string, fn: string): Promise<LambdaTarget> {
  return (await cd.send(new GetDeploymentTargetCommand({ deploymentId: id, targetId: `${fn}:live` }))).deploymentTarget!.lambdaTarget!;
}

/** A target's lifecycle event by name. */
export function eventOf(target: LambdaTarget, name: string): LifecycleEvent | undefined {
  return target.lifecycleEvents?.find((e) => e.lifecycleEventName === name);
}

/** Waits until the deployment is in one of `statuses` (fails sooner if it ends in another). */
export async function waitForStatus(cd: CodeDeployClient, id: string, statuses: string[], ms: number): Promise<DeploymentInfo> {
  return eventually(`deployment ${id} to be ${statuses.join('/')}`, ms, async () => {
    const d = await getDeployment(cd, id);
    if (statuses.includes(d.status!)) return d;
    if (['Succeeded', 'Failed', 'Stopped'].includes(d.status!)) {
      throw new Error(`deployment ${id} ended ${d.status} (${JSON.stringify(d.errorInformation)}), expected ${statuses.join('/')}`);
    }
    return undefined;
  });
}

/** The alias as GetAlias shows it: its version and its additional version weights (or undefined). */
export async function aliasOf(lambda: LambdaClient, fn: string): Promise<{ version: string; weights: Record<string, number> | undefined }> {
  const a = await lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
  const weights = a.RoutingConfig?.AdditionalVersionWeights;
  return { version: a.FunctionVersion!, weights: weights && Object.keys(weights).length ? weights : undefined };
}
