import { restJson, seg } from './aws';

/** A stack as `/_versa/api/stacks` lists it (Versa's own API behind `versa deploy`). */
export interface StackSummary {
  name: string;
  status: string;
  reason?: string;
  createdAt: number;
  updatedAt: number;
  outputs: { key: string; value: string; description?: string }[];
  resources: number;
}

export async function listStacks(): Promise<StackSummary[]> {
  return (await restJson<{ stacks: StackSummary[] }>('GET', '/_versa/api/stacks')).stacks;
}

const EXECUTE_API = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)(\/.*)?$/;

/** The page-relative Versa URL of an `https://{api}.execute-api.{region}.amazonaws.com/{stage}/...` output. */
export function localUrl(value: string): string | undefined {
  const m = EXECUTE_API.exec(value);
  return m ? `/restapis/${m[1]}/${m[2]}/_user_request_${m[3] ?? '/'}` : undefined;
}

/** One thing a stack owns, as `GET /_versa/api/stacks/{name}` tells it. */
export interface StackResource {
  logicalId: string;
  type: string;
  physicalId: string;
  properties: Record<string, unknown>;
}

export interface StackEvent {
  timestamp: number;
  logicalId: string;
  resourceType: string;
  physicalId?: string;
  status: string;
  reason?: string;
}

/** An alias a CodeDeploy deployment moves while a stack update is in flight. */
export interface StackAliasDeployment {
  logicalId: string;
  functionName: string;
  alias: string;
  fromVersion: string;
  toVersion: string;
  deploymentId: string;
}

export interface Stack {
  name: string;
  status: string;
  reason?: string;
  createdAt: number;
  updatedAt: number;
  resources: Record<string, StackResource>;
  outputs: { key: string; value: string; description?: string }[];
  events: StackEvent[];
  operation?: { kind: string; phase: string; startedAt: number; deployments: StackAliasDeployment[] };
  previousAliasVersions: { logicalId: string; functionName: string; alias: string; version: string }[];
}

export async function getStack(name: string): Promise<Stack> {
  return (await restJson<{ stack: Stack }>('GET', `/_versa/api/stacks/${seg(name)}`)).stack;
}

export interface RollbackResult {
  stopped: StackAliasDeployment[];
  moved: { functionName: string; alias: string; from: string; to: string }[];
}

/** The manual rollback: stops the stack's running deployments, or puts its aliases back. */
export async function rollbackStack(name: string): Promise<RollbackResult> {
  return restJson<RollbackResult>('POST', `/_versa/api/stacks/${seg(name)}/rollback`);
}
