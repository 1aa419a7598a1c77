import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

/** The server the CLI talks to: --endpoint-url, else AWS_ENDPOINT_URL, else the default local port. */
export function endpointUrl(flag: string | undefined): string {
  return flag ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
}

let resolved: Promise<AwsCredentialIdentity> | undefined;
/**
 * The caller's AWS credentials as every AWS tool finds them (variables, then profiles); a server without
 * credentials accepts any key, so with none configured a placeholder key signs.
 */
const credentials = (): Promise<AwsCredentialIdentity> =>
  (resolved ??= defaultProvider()().catch(() => ({ accessKeyId: 'test', secretAccessKey: 'test' })));

const region = () => process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';

export function lambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient({ endpoint, region: region(), credentials, maxAttempts: 1 });
}

export function apiGatewayClient(endpoint: string): APIGatewayClient {
  return new APIGatewayClient({ endpoint, region: region(), credentials, maxAttempts: 1 });
}

export function logsClient(endpoint: string): CloudWatchLogsClient {
  return new CloudWatchLogsClient({ endpoint, region: region(), credentials, maxAttempts: 1 });
}

export function cloudWatchClient(endpoint: string): CloudWatchClient {
  return new CloudWatchClient({ endpoint, region: region(), credentials, maxAttempts: 1 });
}

export function codeDeployClient(endpoint: string): CodeDeployClient {
  return new CodeDeployClient({ endpoint, region: region(), credentials, maxAttempts: 1 });
}

/** `fetch` for Versa's own endpoints (`/_versa/api/...`), signed as the AWS clients sign their calls. */
export async function signedFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
  key: AwsCredentialIdentity | (() => Promise<AwsCredentialIdentity>) = credentials,
): Promise<Response> {
  const target = new URL(url);
  const query: Record<string, string> = {};
  for (const [k, v] of target.searchParams) query[k] = v;
  const signer = new SignatureV4({ service: 'versa', region: region(), credentials: key, sha256: Sha256 });
  const signed = await signer.sign({
    method: init.method ?? 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port && { port: Number(target.port) }),
    path: target.pathname,
    query,
    headers: { ...init.headers, host: target.host },
    body: init.body,
  });
  const { host: _host, ...headers } = signed.headers;
  return fetch(url, { method: init.method ?? 'GET', headers, ...(init.body !== undefined && { body: init.body }) });
}

/** Where a stage answers on a Versa server. */
export function stageUrl(endpoint: string, apiId: string, stage: string): string {
  return `${endpoint.replace(/\/$/, '')}/restapis/${apiId}/${stage}/_user_request_/`;
}

/** A plain sentence for a failed call: the server's message, or how to reach the server. */
export function describeError(err: unknown, endpoint: string): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  if (e.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message ?? '')) {
    return `Could not reach Versa at ${endpoint}. Start it with \`versa start\` or pass --endpoint-url.`;
  }
  return `${e.message ?? String(err)}${e.name && e.name !== 'Error' ? ` (${e.name})` : ''}`;
}
