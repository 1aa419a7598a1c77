import { ACCOUNT_ID, functionArn } from '../../domain/arn.js';
import type { Caller, FunctionScope } from '../aws/protocol/http.js';

/**
 * What a function's own key may call (`--function-access scoped`, the default): the data plane its code
 * uses, the reads a deployment's hooks need, and the hook that reports a validation's outcome. On AWS
 * the function's execution role decides; Versa has no IAM, so this fixed scope stands in for one, and
 * keeps a compromised function from changing the platform or reading what describes other functions
 * (configurations, templates, stack outputs, integrations: they carry other functions' secrets).
 *
 * Every operation of every service's table is named here, allowed or denied, or its service is wholly
 * open: function-scope.test.ts fails on an operation nobody classified.
 */
export type ScopeRule =
  /** Every operation: the service holds data, not the platform (S3, SSM parameters, logs, STS). */
  { all: true } | { allow: readonly string[]; deny: readonly string[] };

export const FUNCTION_SCOPE = {
  lambda: {
    // Invoke any function; nothing of the control plane, not even reads: configurations carry secrets.
    allow: ['Invoke'],
    deny: [
      'CreateFunction',
      'ListFunctions',
      'GetFunction',
      'GetFunctionConfiguration',
      'UpdateFunctionCode',
      'UpdateFunctionConfiguration',
      'DeleteFunction',
      'PublishVersion',
      'ListVersionsByFunction',
      'CreateAlias',
      'ListAliases',
      'GetAlias',
      'UpdateAlias',
      'DeleteAlias',
      'AddPermission',
      'RemovePermission',
      'GetPolicy',
      'PutFunctionEventInvokeConfig',
      'UpdateFunctionEventInvokeConfig',
      'GetFunctionEventInvokeConfig',
      'DeleteFunctionEventInvokeConfig',
      'ListFunctionEventInvokeConfigs',
      'GetFunctionCodeSigningConfig',
      'ListTags',
      'TagResource',
      'UntagResource',
      'PutFunctionConcurrency',
      'GetFunctionConcurrency',
      'DeleteFunctionConcurrency',
      'GetAccountSettings',
    ],
  },
  // Which APIs there are, to call their stages (the public data plane). Nothing of how they are built: an
  // integration's request parameters and a stage's variables may carry a backend's keys.
  apigateway: {
    allow: ['GetRestApis', 'GetRestApi'],
    deny: [
      'GetResources',
      'GetResource',
      'GetMethod',
      'GetIntegration',
      'GetMethodResponse',
      'GetIntegrationResponse',
      'GetDeployments',
      'GetDeployment',
      'GetStages',
      'GetStage',
      'GetTags',
      'CreateRestApi',
      'UpdateRestApi',
      'DeleteRestApi',
      'CreateResource',
      'DeleteResource',
      'PutMethod',
      'DeleteMethod',
      'TestInvokeMethod',
      'PutIntegration',
      'UpdateIntegration',
      'DeleteIntegration',
      'PutMethodResponse',
      'DeleteMethodResponse',
      'PutIntegrationResponse',
      'DeleteIntegrationResponse',
      'CreateDeployment',
      'DeleteDeployment',
      'CreateStage',
      'UpdateStage',
      'DeleteStage',
      'TagResource',
      'UntagResource',
    ],
  },
  // Metrics in, and reads; no alarm changes: an alarm's state decides a deployment's rollback.
  cloudwatch: {
    allow: [
      'PutMetricData',
      'GetMetricStatistics',
      'GetMetricData',
      'ListMetrics',
      'DescribeAlarms',
      'DescribeAlarmsForMetric',
      'DescribeAlarmHistory',
      'ListTagsForResource',
    ],
    deny: ['PutMetricAlarm', 'SetAlarmState', 'DeleteAlarms', 'EnableAlarmActions', 'DisableAlarmActions', 'TagResource', 'UntagResource'],
  },
  // A validation hook reports its outcome; reads let it see the deployment it validates. Nothing that starts, steers or stops one.
  codedeploy: {
    allow: [
      'PutLifecycleEventHookExecutionStatus',
      'GetApplication',
      'BatchGetApplications',
      'ListApplications',
      'GetDeploymentGroup',
      'ListDeploymentGroups',
      'GetDeploymentConfig',
      'ListDeploymentConfigs',
      'GetDeployment',
      'BatchGetDeployments',
      'ListDeployments',
      'ListDeploymentTargets',
      'GetDeploymentTarget',
      'BatchGetDeploymentTargets',
      'ListTagsForResource',
    ],
    deny: [
      'CreateApplication',
      'DeleteApplication',
      'CreateDeploymentGroup',
      'UpdateDeploymentGroup',
      'DeleteDeploymentGroup',
      'CreateDeploymentConfig',
      'DeleteDeploymentConfig',
      'CreateDeployment',
      'StopDeployment',
      'TagResource',
      'UntagResource',
    ],
  },
  // Which stacks there are, and checking a template of its own. Nothing that shows a stack's template,
  // parameters or outputs: they carry functions' environment variables and NoEcho values in clear.
  // ValidateTemplate too: parses take turns server-wide, and a function that kept them busy held every
  // operator's stack operation at Throttling.
  cloudformation: {
    allow: ['ListStacks'],
    deny: [
      'ValidateTemplate',
      'DescribeStacks',
      'DescribeStackEvents',
      'DescribeStackResource',
      'DescribeStackResources',
      'ListStackResources',
      'GetTemplate',
      'GetTemplateSummary',
      'DescribeChangeSet',
      'ListChangeSets',
      'ListExports',
      'CreateStack',
      'UpdateStack',
      'DeleteStack',
      'CreateChangeSet',
      'ExecuteChangeSet',
      'DeleteChangeSet',
      'CancelUpdateStack',
      'ContinueUpdateRollback',
    ],
  },
  // Its own lines and reading, as AWSLambdaBasicExecutionRole writes; never erasing or shortening a group's
  // history (another function's audit trail), nor its tags.
  logs: {
    allow: [
      'CreateLogGroup',
      'CreateLogStream',
      'PutLogEvents',
      'DescribeLogGroups',
      'DescribeLogStreams',
      'GetLogEvents',
      'FilterLogEvents',
      'ListTagsForResource',
      'ListTagsLogGroup',
    ],
    deny: ['DeleteLogGroup', 'PutRetentionPolicy', 'DeleteRetentionPolicy', 'TagResource', 'UntagResource', 'TagLogGroup', 'UntagLogGroup'],
  },
  ssm: { all: true },
  // Keys it mints with a function's key stay that function's, and stay scoped (keyring.ts).
  sts: { all: true },
  // Objects, read and written; a bucket's creation, deletion and settings are refused, and so are writes
  // to a bucket Versa deploys code from (both in s3/operations.ts, whose routes are not by operation).
  s3: { all: true },
} as const satisfies Record<string, ScopeRule>;

export type ScopedService = keyof typeof FUNCTION_SCOPE;

/** IAM names a few actions differently from the operation. */
const LAMBDA_ACTIONS: Readonly<Record<string, string>> = { Invoke: 'InvokeFunction' };

const anyResource = (prefix: string) => (operation: string) => ({ action: `${prefix}:${operation}`, resource: '*' });

const DESCRIBE: Record<ScopedService, FunctionScope['describe']> = {
  lambda: (operation, req, params) => {
    const name = params?.FunctionName;
    const resource = name === undefined ? '*' : name.startsWith('arn:') ? name : functionArn(req.region, name);
    return { action: `lambda:${LAMBDA_ACTIONS[operation] ?? operation}`, resource };
  },
  // API Gateway's IAM actions are HTTP methods on a path.
  apigateway: (_operation, req) => ({ action: `apigateway:${req.method}`, resource: `arn:aws:apigateway:${req.region}::${req.path}` }),
  cloudwatch: anyResource('cloudwatch'),
  codedeploy: anyResource('codedeploy'),
  cloudformation: anyResource('cloudformation'),
  logs: anyResource('logs'),
  ssm: anyResource('ssm'),
  sts: anyResource('sts'),
  s3: anyResource('s3'),
};

/** A service's scope as its codec checks it: the allowed operations as a set, or none to check. */
export function functionScope(service: ScopedService): FunctionScope {
  const rule: ScopeRule = FUNCTION_SCOPE[service];
  return 'all' in rule ? { describe: DESCRIBE[service] } : { allowed: new Set(rule.allow), describe: DESCRIBE[service] };
}

/** Who a function's own key is, named as AWS names a function's execution role session. */
export function functionCaller(functionName: string, roleArn: string | undefined): Caller {
  const role = /^arn:aws[\w-]*:iam::\d{12}:role\/(?:.*\/)?([\w+=,.@-]{1,64})$/.exec(roleArn ?? '')?.[1] ?? 'versa-function';
  return { function: functionName, arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/${role}/${functionName}` };
}
