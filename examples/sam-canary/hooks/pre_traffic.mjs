// BeforeAllowTraffic: health-check the new version before CodeDeploy sends it any traffic, then report.
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const codedeploy = new CodeDeployClient({});
const lambda = new LambdaClient({});

export const handler = async (event) => {
  let status = 'Succeeded';
  try {
    const out = await lambda.send(
      new InvokeCommand({ FunctionName: process.env.NewVersion, Payload: JSON.stringify({ healthCheck: true }) }),
    );
    const answer = JSON.parse(Buffer.from(out.Payload).toString());
    if (out.FunctionError || answer.healthy !== true) status = 'Failed';
    console.log(`health check of ${process.env.NewVersion}: ${JSON.stringify(answer)}`);
  } catch (err) {
    console.log(`health check of ${process.env.NewVersion} failed: ${err}`);
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
