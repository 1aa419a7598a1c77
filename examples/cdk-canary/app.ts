// A CDK v2 app released the way the tutorials release: a function behind the alias `live`, moved by a
// CodeDeploy canary (10% for five minutes) that a pre-traffic hook gates and an alarm on the alias's
// errors rolls back, with a REST API in front of the alias.
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';

const app = new App();
const stack = new Stack(app, 'CdkCanary', { env: { account: '000000000000', region: 'us-east-1' } });

const fn = new lambda.Function(stack, 'Hello', {
  functionName: 'cdk-hello',
  runtime: lambda.Runtime.NODEJS_20_X,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, '..', 'lambda')),
  timeout: Duration.seconds(5),
});
const live = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });

const preTraffic = new lambda.Function(stack, 'PreTraffic', {
  functionName: 'CodeDeployHook_cdkPreTraffic',
  runtime: lambda.Runtime.NODEJS_20_X,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, '..', 'hook')),
  environment: { NEW_VERSION: fn.currentVersion.functionArn },
});

const errors = new cloudwatch.Alarm(stack, 'LiveErrors', {
  metric: live.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
  threshold: 0,
  evaluationPeriods: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
});

new codedeploy.LambdaDeploymentGroup(stack, 'Release', {
  alias: live,
  deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  alarms: [errors],
  preHook: preTraffic,
});

new apigateway.LambdaRestApi(stack, 'Api', { handler: live });
