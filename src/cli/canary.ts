import { GetStageCommand, UpdateStageCommand, type PatchOperation, type Stage } from '@aws-sdk/client-api-gateway';
import { apiGatewayClient, describeError, endpointUrl, stageUrl } from './client.js';
import { parseFlags } from './flags.js';

const USAGE = `Usage:
  versa canary API_ID STAGE --percent N     send N% of the stage's requests to its canary (creates one if needed)
  versa canary promote API_ID STAGE         make the canary's deployment the stage's, at 0% canary
  versa canary remove API_ID STAGE          drop the canary settings
Options: --endpoint-url URL (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)`;

/**
 * `versa canary`: shorthands for the UpdateStage patch operations of a stage canary — the same calls
 * the AWS CLI would make, so the server applies the same rules.
 */
export async function canaryCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { percent: { type: 'string' }, 'endpoint-url': { type: 'string' } },
  });
  const action = positionals[0] === 'promote' || positionals[0] === 'remove' ? positionals[0] : 'set';
  const [apiId, stage] = action === 'set' ? positionals : positionals.slice(1);
  if (!apiId || !stage || positionals.length > (action === 'set' ? 2 : 3)) {
    process.stderr.write(`versa canary: name an API id and a stage.\n${USAGE}\n`);
    return 2;
  }
  let ops: PatchOperation[];
  if (action === 'set') {
    const percent = Number(values.percent);
    if (values.percent === undefined || !Number.isFinite(percent) || percent < 0 || percent > 100) {
      process.stderr.write(
        `versa canary: --percent must be a number from 0 to 100${values.percent === undefined ? '' : `; got ${values.percent}`}.\n`,
      );
      return 2;
    }
    ops = [{ op: 'replace', path: '/canarySettings/percentTraffic', value: String(percent) }];
  } else if (action === 'promote') {
    ops = [
      { op: 'replace', path: '/canarySettings/percentTraffic', value: '0.0' },
      { op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' },
      { op: 'copy', from: '/canarySettings/stageVariableOverrides', path: '/variables' },
    ];
  } else {
    ops = [{ op: 'remove', path: '/canarySettings' }];
  }
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = apiGatewayClient(endpoint);
  try {
    if (action === 'remove') {
      const current = await client.send(new GetStageCommand({ restApiId: apiId, stageName: stage }));
      if (!current.canarySettings) {
        process.stdout.write(`Stage ${stage} of API ${apiId} has no canary; nothing to remove.\n`);
        return 0;
      }
    }
    const updated = await client.send(new UpdateStageCommand({ restApiId: apiId, stageName: stage, patchOperations: ops }));
    process.stdout.write(`${describeStage(updated)}\n  ${stageUrl(endpoint, apiId, stage)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`versa canary: ${describeError(err, endpoint)}\n`);
    return 1;
  } finally {
    client.destroy();
  }
}

export function describeStage(stage: Stage): string {
  const canary = stage.canarySettings;
  const share = canary ? `canary ${canary.percentTraffic ?? 0}% → deployment ${canary.deploymentId ?? '?'}` : 'no canary';
  return `stage ${stage.stageName ?? '?'}: deployment ${stage.deploymentId ?? '?'}, ${share}`;
}
