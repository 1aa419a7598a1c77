// BeforeAllowTraffic: invoke the new version once; report Succeeded only if it answers healthy.
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const codedeploy = new CodeDeployClient({});
const lambda = new LambdaClient({});

export const handler = async (event) => {
  let status = 'Succeeded';
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: process.env.NEW_VERSION, Payload: '{"path":"/health"}' }));
    const answer = JSON.parse(JSON.parse(Buffer.from(out.Payload).toString()).body ?? '{}');
    if (out.FunctionError || answer.healthy !== true) status = 'Failed';
  } catch (err) {
    console.log(`health check failed: ${err}`);
    status = 'Failed';
  }
  await codedeploy.send(
    new PutLifecycleEventHookExecutionStatusCommand({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status,
    }),
  );
  return status;
};
