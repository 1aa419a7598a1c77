// AfterAllowTraffic: once the alias carries all traffic, check that it answers, then report.
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

const codedeploy = new CodeDeployClient({});
const lambda = new LambdaClient({});

export const handler = async (event) => {
  let status = 'Succeeded';
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: process.env.FunctionAlias, Payload: '{}' }));
    const answer = JSON.parse(Buffer.from(out.Payload).toString());
    if (out.FunctionError || answer.statusCode !== 200) status = 'Failed';
    console.log(`${process.env.FunctionAlias} answered ${JSON.stringify(answer)}`);
  } catch (err) {
    console.log(`${process.env.FunctionAlias} failed: ${err}`);
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
