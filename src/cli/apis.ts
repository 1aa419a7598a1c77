import { GetRestApisCommand, GetStagesCommand } from '@aws-sdk/client-api-gateway';
import { describeStage } from './canary.js';
import { apiGatewayClient, describeError, endpointUrl, stageUrl } from './client.js';
import { parseFlags } from './flags.js';

/** `versa apis`: each REST API with its stages, their URLs, deployments and canary shares. */
export async function apisCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({ args, strict: true, options: { 'endpoint-url': { type: 'string' } } });
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = apiGatewayClient(endpoint);
  try {
    const apis = (await client.send(new GetRestApisCommand({}))).items ?? [];
    if (apis.length === 0) {
      process.stdout.write('No REST APIs yet.\n');
      return 0;
    }
    for (const api of apis) {
      process.stdout.write(`${api.name ?? '?'} (${api.id ?? '?'})\n`);
      const stages = (await client.send(new GetStagesCommand({ restApiId: api.id }))).item ?? [];
      if (stages.length === 0) process.stdout.write('  no stages; deploy with `aws apigateway create-deployment --stage-name ...`\n');
      for (const stage of stages) {
        process.stdout.write(`  ${describeStage(stage)}\n    ${stageUrl(endpoint, api.id ?? '', stage.stageName ?? '')}\n`);
      }
    }
    return 0;
  } catch (err) {
    process.stderr.write(`versa apis: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}
