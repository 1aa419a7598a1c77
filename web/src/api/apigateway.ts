import { restJson, seg } from './aws';

export interface RestApi {
  id: string;
  name: string;
  description?: string;
  createdDate: number;
}

export interface Integration {
  type: string;
  httpMethod?: string;
  uri?: string;
}

export interface Method {
  httpMethod: string;
  authorizationType: string;
  methodIntegration?: Integration;
}

export interface Resource {
  id: string;
  path: string;
  resourceMethods?: Record<string, Method>;
}

export interface CanarySettings {
  deploymentId?: string;
  percentTraffic?: number;
  stageVariableOverrides?: Record<string, string>;
}

export interface Stage {
  stageName: string;
  deploymentId: string;
  description?: string;
  variables?: Record<string, string>;
  canarySettings?: CanarySettings;
  lastUpdatedDate?: number;
}

export interface Deployment {
  id: string;
  description?: string;
  createdDate: number;
}

export interface PatchOperation {
  op: string;
  path: string;
  value?: string;
  from?: string;
}

const A = '/restapis';
export const getRestApis = async () => (await restJson<{ item?: RestApi[] }>('GET', A)).item ?? [];
export const getRestApi = (id: string) => restJson<RestApi>('GET', `${A}/${seg(id)}`);
export const getResources = async (id: string) => (await restJson<{ item?: Resource[] }>('GET', `${A}/${seg(id)}/resources`)).item ?? [];
export const getStages = async (id: string) => (await restJson<{ item?: Stage[] }>('GET', `${A}/${seg(id)}/stages`)).item ?? [];
export const getDeployments = async (id: string) =>
  (await restJson<{ item?: Deployment[] }>('GET', `${A}/${seg(id)}/deployments`)).item ?? [];
export const updateStage = (id: string, stage: string, patchOperations: PatchOperation[]) =>
  restJson<Stage>('PATCH', `${A}/${seg(id)}/stages/${seg(stage)}`, { patchOperations });

/** CreateDeployment to a stage, optionally as its canary with `percent` of the traffic. */
export const createDeployment = (id: string, stageName: string, description: string, canaryPercent?: number) =>
  restJson<Deployment>('POST', `${A}/${seg(id)}/deployments`, {
    stageName,
    ...(description && { description }),
    ...(canaryPercent !== undefined && { canarySettings: { percentTraffic: canaryPercent } }),
  });

/** Replaces a method's integration, keeping its type and method, with a new URI. */
export const putIntegration = (id: string, resourceId: string, method: string, integration: Integration) =>
  restJson<Integration>('PUT', `${A}/${seg(id)}/resources/${seg(resourceId)}/methods/${seg(method)}/integration`, integration);

/** The same patch operations `versa canary` and the AWS CLI send. */
export const canaryPatches = {
  share: (percent: number): PatchOperation[] => [{ op: 'replace', path: '/canarySettings/percentTraffic', value: String(percent) }],
  promote: (): PatchOperation[] => [
    { op: 'replace', path: '/canarySettings/percentTraffic', value: '0.0' },
    { op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' },
    { op: 'copy', from: '/canarySettings/stageVariableOverrides', path: '/variables' },
  ],
  remove: (): PatchOperation[] => [{ op: 'remove', path: '/canarySettings' }],
};

/** Where a stage answers on this server, in its two forms. */
export function stageUrls(apiId: string, stage: string): { path: string; host: string } {
  const { protocol, port, origin } = window.location;
  return {
    path: `${origin}/restapis/${apiId}/${encodeURIComponent(stage)}/_user_request_/`,
    host: `${protocol}//${apiId}.execute-api.localhost${port ? `:${port}` : ''}/${encodeURIComponent(stage)}/`,
  };
}

/** The function a Lambda integration URI names, if it names one. */
export function integrationFunction(uri: string | undefined): string | undefined {
  const m = /:function:([^/:]+)(?::([^/]+))?\/invocations$/.exec(uri ?? '');
  return m ? (m[2] ? `${m[1]}:${m[2]}` : m[1]) : undefined;
}
