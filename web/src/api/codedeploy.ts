import { jsonRpc } from './aws';

const T = 'CodeDeploy_20141006';

export interface DeploymentInfo {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  status: string;
  description?: string;
  creator?: string;
  createTime: number;
  startTime?: number;
  completeTime?: number;
  errorInformation?: { code: string; message: string };
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  revision?: { revisionType?: string; appSpecContent?: { content?: string }; string?: { content?: string } };
}

/** What a Lambda deployment moves: the alias of a function, from one version to another. */
export interface DeploymentTarget {
  functionName: string;
  alias: string;
  currentVersion?: string;
  targetVersion?: string;
}

/**
 * The target a deployment's AppSpec names, read from the revision BatchGetDeployments already returns (so
 * a list of deployments needs no call per row). JSON AppSpecs are parsed; YAML ones are read by key.
 */
export function targetOf(d: DeploymentInfo): DeploymentTarget | undefined {
  const content = d.revision?.appSpecContent?.content ?? d.revision?.string?.content;
  if (!content) return undefined;
  let props: Record<string, unknown> | undefined;
  try {
    const spec = JSON.parse(content) as { Resources?: Record<string, { Properties?: Record<string, unknown> }>[] };
    props = Object.values(spec.Resources?.[0] ?? {})[0]?.Properties;
  } catch {
    const key = (k: string) => new RegExp(`^\\s*${k}\\s*:\\s*["']?([^"'\\s#]+)`, 'm').exec(content)?.[1];
    props = { Name: key('Name'), Alias: key('Alias'), CurrentVersion: key('CurrentVersion'), TargetVersion: key('TargetVersion') };
  }
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const functionName = text(props?.Name);
  const alias = text(props?.Alias);
  if (!functionName || !alias) return undefined;
  return { functionName, alias, currentVersion: text(props?.CurrentVersion), targetVersion: text(props?.TargetVersion) };
}

export interface LifecycleEvent {
  lifecycleEventName: string;
  status: string;
  startTime?: number;
  endTime?: number;
  diagnostics?: { errorCode: string; message: string; scriptName?: string };
}

export interface LambdaTarget {
  targetId: string;
  status: string;
  lifecycleEvents: LifecycleEvent[];
  lambdaFunctionInfo: {
    functionName: string;
    functionAlias: string;
    currentVersion: string;
    targetVersion: string;
    targetVersionWeight: number;
  };
}

export interface DeploymentGroup {
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  alarmConfiguration?: { enabled: boolean; alarms?: { name: string }[] };
  autoRollbackConfiguration?: { enabled: boolean; events?: string[] };
}

export const ACTIVE = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

export const listDeploymentIds = async (statuses: string[] = []) =>
  (await jsonRpc<{ deployments?: string[] }>(T, 'ListDeployments', statuses.length ? { includeOnlyStatuses: statuses } : {})).deployments ??
  [];

/** The deployments, newest first (BatchGetDeployments takes 25 ids at a time). */
export async function getDeployments(ids: string[]): Promise<DeploymentInfo[]> {
  const out: DeploymentInfo[] = [];
  for (let i = 0; i < ids.length; i += 25) {
    const page = await jsonRpc<{ deploymentsInfo?: DeploymentInfo[] }>(T, 'BatchGetDeployments', { deploymentIds: ids.slice(i, i + 25) });
    out.push(...(page.deploymentsInfo ?? []));
  }
  return out.sort((a, b) => b.createTime - a.createTime);
}

export const getDeployment = async (id: string) =>
  (await jsonRpc<{ deploymentInfo: DeploymentInfo }>(T, 'GetDeployment', { deploymentId: id })).deploymentInfo;

/** The deployment's one Lambda target (`function:alias`), with its lifecycle events and weights. */
export async function getTarget(id: string): Promise<LambdaTarget | undefined> {
  const { targetIds } = await jsonRpc<{ targetIds?: string[] }>(T, 'ListDeploymentTargets', { deploymentId: id });
  const targetId = targetIds?.[0];
  if (!targetId) return undefined;
  const out = await jsonRpc<{ deploymentTarget: { lambdaTarget: LambdaTarget } }>(T, 'GetDeploymentTarget', { deploymentId: id, targetId });
  return out.deploymentTarget.lambdaTarget;
}

export const getDeploymentGroup = async (app: string, group: string) =>
  (
    await jsonRpc<{ deploymentGroupInfo: DeploymentGroup }>(T, 'GetDeploymentGroup', {
      applicationName: app,
      deploymentGroupName: group,
    })
  ).deploymentGroupInfo;

export const stopDeployment = (id: string, rollback: boolean) =>
  jsonRpc<{ status?: string; statusMessage?: string }>(T, 'StopDeployment', { deploymentId: id, autoRollbackEnabled: rollback });
