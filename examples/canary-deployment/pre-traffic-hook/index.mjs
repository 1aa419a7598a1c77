// The pre-traffic hook: CodeDeploy (here, Versa) invokes it before any traffic moves, with the
// deployment id and this hook run's execution id. It tries the new version and reports what it saw;
// a deployment whose hook reports Failed never sends a single request to the new version.
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';

// Inside Versa, AWS_ENDPOINT_URL points the SDK back at the server that runs this function.
const codeDeploy = new CodeDeployClient({});
const lambda = new LambdaClient({});

export const handler = async (event) => {
  const target = process.env.TARGET_FUNCTION ?? 'greeter';
  const version = process.env.TARGET_VERSION ?? '2';
  let status = 'Succeeded';
  try {
    const out = await lambda.send(new InvokeCommand({ FunctionName: target, Qualifier: version }));
    const answer = Buffer.from(out.Payload ?? []).toString();
    console.log(`${target}:${version} answered ${answer}`);
    if (out.FunctionError || !answer.includes(`version ${version}`)) status = 'Failed';
  } catch (err) {
    console.log(`could not invoke ${target}:${version}: ${err}`);
    status = 'Failed';
  }
  await codeDeploy.send(
    new PutLifecycleEventHookExecutionStatusCommand({
      deploymentId: event.DeploymentId,
      lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId,
      status,
    }),
  );
  return status;
};
