import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';

/** The server the CLI talks to: --endpoint-url, else AWS_ENDPOINT_URL, else the default local port. */
export function endpointUrl(flag: string | undefined): string {
  return flag ?? process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
}

const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
};

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

/** Where a stage answers on a Versa server. */
export function stageUrl(endpoint: string, apiId: string, stage: string): string {
  return `${endpoint.replace(/\/$/, '')}/restapis/${apiId}/${stage}/_user_request_/`;
}

/** A plain sentence for a failed call: the server's message, or how to reach the server. */
export function describeError(err: unknown, endpoint: string): string {
  const e = err as { name?: string; message?: string; code?: string; cause?: { code?: string } };
  if (e.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(e.message ?? '')) {
    return `Could not reach Versa at ${endpoint}. Start it with \`npx versa start\` or pass --endpoint-url.`;
  }
  return `${e.message ?? String(err)}${e.name && e.name !== 'Error' ? ` (${e.name})` : ''}`;
}
