/**
 * CloudWatch and CloudWatch Logs answering as AWS does, where Versa once gave its own answer: each case
 * states what a response recorded against real AWS contains (LocalStack's `@markers.aws.validated` tests
 * under tests/aws/services/cloudwatch and tests/aws/services/logs, and their `*.snapshot.json`) and checks
 * that Versa answers the same, over the AWS SDK v3 or raw signed requests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  ListTagsForResourceCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsFetch, clientConfig, errorOf, startTestServer, type TestServer, refused } from './harness.js';

const NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
const STATE_ENUM =
  "1 validation error detected: Value 'INVALID' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]";

describe('CloudWatch: the errors and shapes AWS gives', () => {
  let t: TestServer;
  let cw: CloudWatchClient;
  before(async () => {
    t = await startTestServer();
    cw = new CloudWatchClient(clientConfig(t.url));
  });
  after(async () => {
    cw.destroy();
    await t.close();
  });

  const query = (body: string) =>
    awsFetch(`${t.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
  /** A JSON 1.0 request as LocalStack's raw client sends it: `x-amzn-query-mode` says whether it reads query-compatible errors. */
  const json = (operation: string, body: unknown, queryMode: boolean) =>
    awsFetch(`${t.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `GraniteServiceVersion20100801.${operation}`,
        'x-amzn-query-mode': String(queryMode),
      },
      body: JSON.stringify(body),
    });

  it('SetAlarmState of a missing alarm: ResourceNotFound with no message, 404 (400 to JSON outside query mode)', async () => {
    // test_exception_serializing_with_no_shape_in_spec[query]: HTTP 404,
    // <ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Code>ResourceNotFound</Code>
    // <Type>Sender</Type></Error><RequestId/></ErrorResponse>, with no <Message>.
    const xml = await query('Action=SetAlarmState&Version=2010-08-01&AlarmName=nope&StateValue=OK&StateReason=test');
    assert.equal(xml.status, 404);
    const text = await xml.text();
    assert.match(text, new RegExp(`^<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>ResourceNotFound</Code></Error>`));
    assert.doesNotMatch(text, /<Message>/);

    // [json]: {"__type": "com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound"} and nothing else; status 400
    // with `x-amzn-query-mode: false`, 404 with `true`.
    for (const [queryMode, status] of [
      [false, 400],
      [true, 404],
    ] as const) {
      const res = await json('SetAlarmState', { AlarmName: 'nope', StateValue: 'OK', StateReason: 'test' }, queryMode);
      assert.equal(res.status, status, `query mode ${queryMode}`);
      assert.equal(res.headers.get('x-amzn-query-error'), 'ResourceNotFound;Sender');
      assert.deepEqual(await res.json(), { __type: 'com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound' });
    }

    // test_set_alarm_invalid_input[json] (botocore): Error.Code ResourceNotFound, Message "", HTTP 404.
    const err = await errorOf(() => cw.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'test' })));
    assert.equal(err.name, 'ResourceNotFound');
    assert.equal(err.$metadata?.httpStatusCode, 404);
  });

  it("SetAlarmState with an invalid state: coral's ValidationException over JSON, an ErrorResponse in the service's namespace over query", async () => {
    // [json]: {"__type": "com.amazon.coral.validate#ValidationException", "message": STATE_ENUM}, HTTP 400.
    const res = await json('SetAlarmState', { AlarmName: 'nope', StateValue: 'INVALID', StateReason: 'test' }, false);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { __type: 'com.amazon.coral.validate#ValidationException', message: STATE_ENUM });

    // [query]: <ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"> with Code ValidationError, HTTP 400.
    const xml = await query('Action=SetAlarmState&Version=2010-08-01&AlarmName=nope&StateValue=INVALID&StateReason=test');
    assert.equal(xml.status, 400);
    assert.match(
      await xml.text(),
      new RegExp(`^<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>ValidationError</Code>`),
    );
  });

  it('ListTagsForResource of a deleted alarm: an empty list, not an error', async () => {
    // test_tagging_metric_alarm: after DeleteAlarms, list_tags_for_resource(ResourceARN=<the alarm's ARN>) is
    // {"Tags": []}, HTTP 200.
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'tagged',
        Namespace: 'Shop',
        MetricName: 'store_tags',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 30,
        ComparisonOperator: 'GreaterThanThreshold',
        Tags: [{ Key: 'Environment', Value: 'Production' }],
      }),
    );
    const arn = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['tagged'] }))).MetricAlarms?.[0]?.AlarmArn;
    assert.ok(arn);
    assert.deepEqual((await cw.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags, [
      { Key: 'Environment', Value: 'Production' },
    ]);
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['tagged'] }));
    const listed = await cw.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    assert.equal(listed.$metadata.httpStatusCode, 200);
    assert.deepEqual(listed.Tags, []);
    const xml = await query(`Action=ListTagsForResource&Version=2010-08-01&ResourceARN=${encodeURIComponent(arn)}`);
    assert.equal(xml.status, 200);
    assert.match(await xml.text(), /<ListTagsForResourceResult><Tags><\/Tags><\/ListTagsForResourceResult>/);
  });

  it("GetMetricData labels a query by its metric's name, with the statistic and period where the queries differ in them", async () => {
    // test_label_generation, with no Label given: [(Sum, 60), (Minimum, 30)] are labelled "metric1 Sum 60" and
    // "metric1 Minimum 30"; [(Sum, 60), (Minimum, 60)] "metric1 Sum" and "metric1 Minimum"; [(Sum, 60), (Sum, 30)]
    // "metric1 60" and "metric1 30"; [(Sum, 60), (Sum, 60)] "metric1" both. test_get_metric_data_for_multiple_metrics:
    // three metrics at one statistic and period are labelled "metric1", "metric2", "metric3".
    await cw.send(
      new PutMetricDataCommand({ Namespace: 'Labels', MetricData: [0, 2, 7, 100].map((Value) => ({ MetricName: 'metric1', Value })) }),
    );
    const now = Date.now();
    const labels = async (pairs: [string, number][], given?: string) =>
      (
        await cw.send(
          new GetMetricDataCommand({
            MetricDataQueries: pairs.map(([Stat, Period], i) => ({
              Id: `q${i}`,
              ...(given !== undefined && i === 0 && { Label: given }),
              MetricStat: { Metric: { Namespace: 'Labels', MetricName: 'metric1' }, Period, Stat },
            })),
            StartTime: new Date(now - 60_000),
            EndTime: new Date(now + 60_000),
          }),
        )
      ).MetricDataResults?.map((r) => r.Label);
    assert.deepEqual(
      await labels([
        ['Sum', 60],
        ['Minimum', 30],
      ]),
      ['metric1 Sum 60', 'metric1 Minimum 30'],
    );
    assert.deepEqual(
      await labels([
        ['Sum', 60],
        ['Minimum', 60],
      ]),
      ['metric1 Sum', 'metric1 Minimum'],
    );
    assert.deepEqual(
      await labels([
        ['Sum', 60],
        ['Sum', 30],
      ]),
      ['metric1 60', 'metric1 30'],
    );
    assert.deepEqual(
      await labels([
        ['Sum', 60],
        ['Sum', 60],
      ]),
      ['metric1', 'metric1'],
    );
    // A Label given is the label.
    const [given] =
      (await labels(
        [
          ['Sum', 60],
          ['Minimum', 60],
        ],
        'mine',
      )) ?? [];
    assert.equal(given, 'mine');
  });
});

describe('CloudWatch Logs: the errors and shapes AWS gives', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    t = await startTestServer();
    logs = new CloudWatchLogsClient(clientConfig(t.url));
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'test-pattern-4f2a' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'test-pattern-4f2a', logStreamName: 's1' }));
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  it('DescribeLogGroups by logGroupNamePattern leaves out storedBytes and deletionProtectionEnabled', async () => {
    // test_describe_log_groups_with_pattern: each group is {arn, creationTime, logGroupArn, logGroupClass,
    // logGroupName, metricFilterCount}; by prefix (test_describe_log_groups_with_prefix) the two are there.
    const [found] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: '4f2a' }))).logGroups ?? [];
    assert.deepEqual(Object.keys(found ?? {}).sort(), [
      'arn',
      'creationTime',
      'logGroupArn',
      'logGroupClass',
      'logGroupName',
      'metricFilterCount',
    ]);
    const [byPrefix] = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'test-pattern' }))).logGroups ?? [];
    assert.equal(byPrefix?.storedBytes, 0);
    assert.equal(byPrefix?.deletionProtectionEnabled, false);
  });

  it("the events operations' refusals, in AWS's words (all 400)", async () => {
    const group = 'test-pattern-4f2a';
    // test_resource_does_not_exist: GetLogEvents of a missing group, then of a missing stream.
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: 'missing', logStreamName: 's1' })),
      'ResourceNotFoundException',
      400,
      'The specified log group does not exist.',
    );
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 'missing' })),
      'ResourceNotFoundException',
      400,
      'The specified log stream does not exist.',
    );
    // test_put_log_events_wrong_order: the second event two days older than the first.
    const now = Date.now();
    await refused(
      () =>
        logs.send(
          new PutLogEventsCommand({
            logGroupName: group,
            logStreamName: 's1',
            logEvents: [
              { message: 'Message 0', timestamp: now },
              { message: 'Message 1', timestamp: now - 2 * 86_400_000 },
            ],
          }),
        ),
      'InvalidParameterException',
      400,
      'Log events in a single PutLogEvents request must be in chronological order.',
    );
    // test_get_log_events_invalid_token, test_filter_log_events_unknown_token: nextToken "invalid-token".
    const badToken = 'The specified nextToken is invalid.';
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 's1', nextToken: 'invalid-token' })),
      'InvalidParameterException',
      400,
      badToken,
    );
    await refused(
      () => logs.send(new FilterLogEventsCommand({ logGroupName: group, logStreamNames: ['s1'], limit: 20, nextToken: 'invalid-token' })),
      'InvalidParameterException',
      400,
      badToken,
    );
    // test_get_log_events_limit_validation, test_filter_log_events_limit_validation: limit 10001.
    const overLimit =
      "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000";
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 's1', limit: 10_001 })),
      'InvalidParameterException',
      400,
      overLimit,
    );
    await refused(
      () => logs.send(new FilterLogEventsCommand({ logGroupName: group, limit: 10_001 })),
      'InvalidParameterException',
      400,
      overLimit,
    );
    // test_create_log_group_duplicate_error, test_create_log_stream_duplicate_error: no full stop.
    await refused(
      () => logs.send(new CreateLogGroupCommand({ logGroupName: group })),
      'ResourceAlreadyExistsException',
      400,
      'The specified log group already exists',
    );
    await refused(
      () => logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's1' })),
      'ResourceAlreadyExistsException',
      400,
      'The specified log stream already exists',
    );
  });
});
