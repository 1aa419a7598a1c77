/** CloudWatch end to end: real invocations make real metrics, alarms evaluate on the platform clock. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  paginateGetMetricData,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
  type Dimension,
} from '@aws-sdk/client-cloudwatch';
import {
  APIGatewayClient,
  CreateDeploymentCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
} from '@aws-sdk/client-api-gateway';
import {
  CreateAliasCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { awsFetch, createFunction, errorOf, startTestServer, zipOf, type TestServer } from './harness.js';
import { loopHolds } from './loop-holds.js';

const exec = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Polls `check` every 100 ms until it returns a value, failing after `ms` of real time. */
async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('CloudWatch with real invocations (time scale 60)', () => {
  let t: TestServer;
  let cw: CloudWatchClient;
  const fn = 'metered';
  const live = (version: string): Dimension[] => [
    { Name: 'FunctionName', Value: fn },
    { Name: 'Resource', Value: `${fn}:live` },
    { Name: 'ExecutedVersion', Value: version },
  ];
  before(async () => {
    t = await startTestServer({ timeScale: 60 });
    cw = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    await createFunction(t.lambda, fn, { 'index.js': 'exports.handler = async () => "ok";' });
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await t.lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: fn,
        ZipFile: zipOf({ 'index.js': 'exports.handler = async (e) => { if (e.fail) throw new Error("bad version"); return "v2"; };' }),
      }),
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
  });
  after(async () => {
    cw.destroy();
    await t.close();
  });

  const window = () => {
    const now = t.server.services.clock.now();
    return { StartTime: new Date(now - 3_600_000), EndTime: new Date(now + 120_000) };
  };
  const sum = async (metric: string, dims: Dimension[]) => {
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: dims,
        Period: 3600,
        Statistics: ['Sum'],
        ...window(),
      }),
    );
    return (out.Datapoints ?? []).reduce((acc, d) => acc + (d.Sum ?? 0), 0);
  };

  it('GetMetricStatistics: alias invocations publish under every dimension set CloudWatch matches on', async () => {
    for (let i = 0; i < 4; i++) await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
    await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: '2' }));
    assert.equal(await sum('Invocations', live('1')), 4);
    assert.equal(
      await sum('Invocations', [
        { Name: 'FunctionName', Value: fn },
        { Name: 'Resource', Value: `${fn}:live` },
      ]),
      4,
    );
    assert.equal(
      await sum('Invocations', [
        { Name: 'FunctionName', Value: fn },
        { Name: 'Resource', Value: `${fn}:2` },
      ]),
      1,
    );
    assert.ok((await sum('Invocations', [{ Name: 'FunctionName', Value: fn }])) >= 5);
    assert.ok((await sum('Invocations', [])) >= 5);
    // A subset of dimensions is a different metric: nothing under {FunctionName, ExecutedVersion}.
    assert.equal(
      await sum('Invocations', [
        { Name: 'FunctionName', Value: fn },
        { Name: 'ExecutedVersion', Value: '1' },
      ]),
      0,
    );
    assert.equal(await sum('Errors', live('1')), 0);
    const duration = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: live('1'),
        Period: 3600,
        Statistics: ['SampleCount', 'Maximum'],
        ExtendedStatistics: ['p99'],
        ...window(),
      }),
    );
    const d = duration.Datapoints![0]!;
    assert.equal(d.SampleCount, 4);
    assert.ok(d.Maximum! > 0 && d.ExtendedStatistics!.p99! > 0 && d.ExtendedStatistics!.p99! <= d.Maximum! * 1.02);
    assert.equal(d.Unit, 'Milliseconds');
    const listed = await cw.send(
      new ListMetricsCommand({ Namespace: 'AWS/Lambda', MetricName: 'Invocations', Dimensions: [{ Name: 'FunctionName', Value: fn }] }),
    );
    assert.ok(
      (listed.Metrics ?? []).some(
        (m) => m.Dimensions?.length === 3 && m.Dimensions.some((x) => x.Name === 'ExecutedVersion' && x.Value === '1'),
      ),
    );
  });

  it('alarm: a failing version behind an alias drives it INSUFFICIENT_DATA → ALARM → OK on the platform clock', async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'live-v2-errors',
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: live('2'),
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    const state = async () => (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['live-v2-errors'] }))).MetricAlarms![0]!;
    assert.equal((await state()).StateValue, 'INSUFFICIENT_DATA');
    await t.lambda.send(new UpdateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '2' }));
    const failed = await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live', Payload: Buffer.from('{"fail":true}') }));
    assert.equal(failed.FunctionError, 'Unhandled');
    // Two periods at 60x are two real seconds; allow a slow machine twice that.
    const alarmed = await eventually('ALARM', 4000, async () => ((await state()).StateValue === 'ALARM' ? state() : undefined));
    assert.match(alarmed.StateReason ?? '', /Threshold Crossed: 1 out of the last 1 datapoints \[1\]/);
    const reasonData = JSON.parse(alarmed.StateReasonData ?? '{}') as { statistic?: string; period?: number };
    assert.equal(reasonData.statistic, 'Sum');
    assert.equal(reasonData.period, 60);

    // The version recovers: newer periods carry Errors = 0 and the alarm returns to OK.
    const recovered = await eventually('OK', 6000, async () => {
      await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
      return (await state()).StateValue === 'OK' ? true : undefined;
    });
    assert.equal(recovered, true);
    const history = await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: 'live-v2-errors', HistoryItemType: 'StateUpdate' }));
    const summaries = (history.AlarmHistoryItems ?? []).map((h) => h.HistorySummary).reverse();
    assert.deepEqual(summaries.slice(0, 2), ['Alarm updated from INSUFFICIENT_DATA to ALARM', 'Alarm updated from ALARM to OK']);
  });

  it('SetAlarmState: lasts until the next evaluation, and transitions are published in the process at once', async () => {
    const heard: string[] = [];
    t.server.services.alarms.onTransition((tr) => heard.push(`${tr.alarm.AlarmName}:${tr.from}->${tr.to}`));
    await cw.send(new SetAlarmStateCommand({ AlarmName: 'live-v2-errors', StateValue: 'ALARM', StateReason: 'testing the pager' }));
    assert.ok(heard.includes('live-v2-errors:OK->ALARM'), heard.join(','));
    const now = (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['live-v2-errors'] }))).MetricAlarms![0]!;
    assert.equal(now.StateValue, 'ALARM');
    assert.equal(now.StateReason, 'testing the pager');
    await t.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: 'live' }));
    await eventually('re-evaluation to OK', 4000, async () =>
      (await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['live-v2-errors'] }))).MetricAlarms![0]!.StateValue === 'OK'
        ? true
        : undefined,
    );
    assert.ok(heard.includes('live-v2-errors:ALARM->OK'));
  });

  it('DescribeAlarmHistory pages with MaxRecords and NextToken in either order, and refuses a token it did not make', async () => {
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'history-pager',
        Namespace: 'Versa/Test',
        MetricName: 'Quiet',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
        // No data ever comes: evaluations keep the state, so only the changes below are history.
        TreatMissingData: 'ignore',
      }),
    );
    for (let i = 0; i < 12; i++) {
      await cw.send(
        new SetAlarmStateCommand({ AlarmName: 'history-pager', StateValue: i % 2 ? 'OK' : 'ALARM', StateReason: `change ${i}` }),
      );
    }
    const filter = { AlarmName: 'history-pager', HistoryItemType: 'StateUpdate' as const };
    const all = (await cw.send(new DescribeAlarmHistoryCommand(filter))).AlarmHistoryItems!.map((h) => h.HistorySummary);
    assert.equal(all.length, 12);
    assert.match(all[0]!, /from ALARM to OK/);
    const walk = async (ScanBy?: 'TimestampAscending') => {
      const seen: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await cw.send(new DescribeAlarmHistoryCommand({ ...filter, MaxRecords: 5, NextToken, ScanBy }));
        assert.ok(page.AlarmHistoryItems!.length <= 5);
        seen.push(...page.AlarmHistoryItems!.map((h) => h.HistorySummary!));
        NextToken = page.NextToken;
      } while (NextToken);
      return seen;
    };
    assert.deepEqual(await walk(), all);
    assert.deepEqual(await walk('TimestampAscending'), [...all].reverse());
    const bad = await errorOf(() => cw.send(new DescribeAlarmHistoryCommand({ ...filter, NextToken: 'bm90LWEtdG9rZW4' })));
    assert.equal(bad.name, 'InvalidNextToken');
    assert.equal(bad.$metadata?.httpStatusCode, 400);
    await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['history-pager'] }));
  });

  it('bad input: the AWS error, and nothing changes', async () => {
    const before = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms!.map((a) => a.AlarmName);
    const unknown = await errorOf(() => cw.send(new SetAlarmStateCommand({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' })));
    assert.equal(unknown.name, 'ResourceNotFound');
    assert.equal(unknown.$metadata?.httpStatusCode, 404);
    const badPeriod = await errorOf(() =>
      cw.send(
        new PutMetricAlarmCommand({
          AlarmName: 'bad',
          Namespace: 'x',
          MetricName: 'y',
          Statistic: 'Sum',
          Period: 45,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      ),
    );
    assert.equal(badPeriod.name, 'InvalidParameterValueException');
    assert.match(badPeriod.message, /Period must be 10, 20, 30 or a multiple of 60/);
    const longDescription = await errorOf(() =>
      cw.send(
        new PutMetricAlarmCommand({
          AlarmName: 'bad',
          AlarmDescription: 'd'.repeat(1025),
          Namespace: 'x',
          MetricName: 'y',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanThreshold',
        }),
      ),
    );
    assert.equal(longDescription.name, 'ValidationException');
    assert.match(
      longDescription.message,
      /at 'alarmDescription' failed to satisfy constraint: Member must have length less than or equal to 1024$/,
    );
    const badStat = await errorOf(() =>
      cw.send(
        new GetMetricStatisticsCommand({ Namespace: 'x', MetricName: 'y', Period: 60, Statistics: ['Median' as 'Sum'], ...window() }),
      ),
    );
    assert.equal(badStat.name, 'InvalidParameterValueException');
    const badJson = await errorOf(() =>
      cw.send(new SetAlarmStateCommand({ AlarmName: 'live-v2-errors', StateValue: 'OK', StateReason: 'x', StateReasonData: '{nope' })),
    );
    assert.equal(badJson.name, 'InvalidFormatFault');
    const deleteMissing = await errorOf(() => cw.send(new DeleteAlarmsCommand({ AlarmNames: ['live-v2-errors', 'nope'] })));
    assert.equal(deleteMissing.name, 'ResourceNotFound');
    const after = (await cw.send(new DescribeAlarmsCommand({}))).MetricAlarms!.map((a) => a.AlarmName);
    assert.deepEqual(after, before, 'no alarm was created or deleted');
  });
});

describe('CloudWatch custom metrics and both protocols', () => {
  let t: TestServer;
  let cw: CloudWatchClient;
  before(async () => {
    t = await startTestServer();
    cw = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  });
  after(async () => {
    cw.destroy();
    await t.close();
  });
  const range = () => {
    const now = t.server.services.clock.now();
    return { StartTime: new Date(now - 600_000), EndTime: new Date(now + 600_000) };
  };

  it('PutMetricData → GetMetricStatistics and GetMetricData: every statistic and a percentile', async () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Shop',
        MetricData: [{ MetricName: 'Latency', Dimensions: [{ Name: 'Route', Value: '/cart' }], Values: values, Unit: 'Milliseconds' }],
      }),
    );
    const out = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Shop',
        MetricName: 'Latency',
        Dimensions: [{ Name: 'Route', Value: '/cart' }],
        Period: 600,
        Statistics: ['Sum', 'Average', 'Minimum', 'Maximum', 'SampleCount'],
        ExtendedStatistics: ['p99', 'p50'],
        ...range(),
      }),
    );
    const d = out.Datapoints![0]!;
    assert.equal(out.Label, 'Latency');
    assert.deepEqual([d.Sum, d.Average, d.Minimum, d.Maximum, d.SampleCount], [5050, 50.5, 1, 100, 100]);
    assert.ok(Math.abs(d.ExtendedStatistics!.p99! - 99) <= 2, `p99 ${d.ExtendedStatistics!.p99}`);
    assert.ok(Math.abs(d.ExtendedStatistics!.p50! - 50) <= 1.5, `p50 ${d.ExtendedStatistics!.p50}`);
    assert.equal(d.Unit, 'Milliseconds');
    const data = await cw.send(
      new GetMetricDataCommand({
        MetricDataQueries: [
          {
            Id: 'avg',
            MetricStat: {
              Metric: { Namespace: 'Shop', MetricName: 'Latency', Dimensions: [{ Name: 'Route', Value: '/cart' }] },
              Period: 60,
              Stat: 'Average',
            },
          },
        ],
        ...range(),
      }),
    );
    assert.equal(data.MetricDataResults![0]!.StatusCode, 'Complete');
    assert.deepEqual(data.MetricDataResults![0]!.Values, [50.5]);
    const reserved = await errorOf(() =>
      cw.send(new PutMetricDataCommand({ Namespace: 'AWS/Lambda', MetricData: [{ MetricName: 'x', Value: 1 }] })),
    );
    assert.equal(reserved.name, 'InvalidParameterValueException');
  });

  it('ListMetrics pages through every series once, in id order, with its filters, flushed or not', async () => {
    // 1,200 series in one namespace (names that share a start, and one past U+FFFF), and some in a namespace after it.
    for (let b = 0; b < 2; b++) {
      const MetricData = Array.from({ length: 600 }, (_, i) => ({
        MetricName: i === 599 ? 'n-\u{1f600}' : `n-${i % 12}`,
        Dimensions: [{ Name: 'Part', Value: `${b}-${i}` }],
        Value: 1,
      }));
      await cw.send(new PutMetricDataCommand({ Namespace: 'Paged', MetricData }));
    }
    await cw.send(new PutMetricDataCommand({ Namespace: 'Paged2', MetricData: [{ MetricName: 'n-1', Value: 1 }] }));
    const all = async (input: { MetricName?: string; Dimensions?: { Name: string; Value?: string }[] }) => {
      const seen: string[] = [];
      let NextToken: string | undefined;
      let pages = 0;
      do {
        const page = await cw.send(new ListMetricsCommand({ Namespace: 'Paged', ...input, NextToken }));
        assert.ok((page.Metrics?.length ?? 0) <= 500);
        for (const m of page.Metrics ?? []) seen.push(`${m.MetricName}/${m.Dimensions?.map((d) => `${d.Name}=${d.Value}`).join(',')}`);
        NextToken = page.NextToken;
        pages++;
      } while (NextToken);
      return { seen, pages };
    };
    const every = await all({});
    assert.equal(every.seen.length, 1200);
    assert.equal(new Set(every.seen).size, 1200, 'no series twice');
    assert.equal(every.pages, 3);
    // In the byte order of the ids' UTF-8: the name past U+FFFF last.
    assert.deepEqual(every.seen.slice(-2), ['n-\u{1f600}/Part=0-599', 'n-\u{1f600}/Part=1-599']);
    // A name filter is a range of ids (`n-1` is also the start of `n-10` and `n-11`), still exact.
    const named = await all({ MetricName: 'n-1' });
    assert.equal(named.seen.length, 100);
    assert.ok(named.seen.every((s) => s.startsWith('n-1/')));
    const dimension = await all({ Dimensions: [{ Name: 'Part', Value: '1-7' }] });
    assert.deepEqual(dimension.seen, ['n-7/Part=1-7']);
    // A series this node has not flushed yet is listed at once.
    await cw.send(new PutMetricDataCommand({ Namespace: 'Paged', MetricData: [{ MetricName: 'n-0', Value: 1 }] }));
    assert.ok((await all({ MetricName: 'n-0' })).seen.includes('n-0/'));
    const e = await errorOf(() => cw.send(new ListMetricsCommand({ Namespace: 'Paged', NextToken: 'bm90LW1pbmU' })));
    assert.equal(e.name, 'InvalidNextToken');
  });

  it('query protocol: form requests get XML answers and XML errors', async () => {
    const post = (body: string) =>
      awsFetch(`${t.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body });
    const put = await post(
      'Action=PutMetricData&Version=2010-08-01&Namespace=Q&MetricData.member.1.MetricName=hits&MetricData.member.1.Value=3&MetricData.member.1.Dimensions.member.1.Name=Host&MetricData.member.1.Dimensions.member.1.Value=a',
    );
    assert.equal(put.status, 200);
    assert.match(
      await put.text(),
      /^<PutMetricDataResponse xmlns="http:\/\/monitoring\.amazonaws\.com\/doc\/2010-08-01\/"><ResponseMetadata><RequestId>/,
    );
    const json = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Q',
        MetricName: 'hits',
        Dimensions: [{ Name: 'Host', Value: 'a' }],
        Period: 600,
        Statistics: ['Sum'],
        ...range(),
      }),
    );
    assert.equal(json.Datapoints![0]!.Sum, 3, 'a datum sent in query form is read back over JSON');
    const alarm = await post(
      'Action=PutMetricAlarm&Version=2010-08-01&AlarmName=q-alarm&Namespace=Q&MetricName=hits&Statistic=Sum&Period=60&EvaluationPeriods=1&Threshold=5&ComparisonOperator=GreaterThanThreshold&Dimensions.member.1.Name=Host&Dimensions.member.1.Value=a',
    );
    assert.equal(alarm.status, 200);
    const described = await (await post('Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=q-alarm')).text();
    assert.match(described, /<MetricAlarms><member><AlarmName>q-alarm<\/AlarmName>/);
    assert.match(described, /<StateValue>INSUFFICIENT_DATA<\/StateValue>/);
    assert.match(described, /<Dimensions><member><Name>Host<\/Name><Value>a<\/Value><\/member><\/Dimensions>/);
    const missing = await post('Action=SetAlarmState&Version=2010-08-01&AlarmName=nope&StateValue=OK&StateReason=x');
    assert.equal(missing.status, 404);
    // As AWS answers it: the bare code, no <Message> (test/aws-fidelity-observability.test.ts).
    assert.match(await missing.text(), /<Error><Type>Sender<\/Type><Code>ResourceNotFound<\/Code><\/Error>/);
    const unknownAction = await post('Action=Frobnicate&Version=2010-08-01');
    assert.equal(unknownAction.status, 400);
    assert.match(
      await unknownAction.text(),
      /<Code>InvalidAction<\/Code><Message>The action Frobnicate is not valid for this web service.<\/Message>/,
    );
  });

  it('JSON protocol errors carry __type and x-amzn-query-error', async () => {
    const res = await awsFetch(`${t.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'GraniteServiceVersion20100801.SetAlarmState',
        'x-amzn-query-mode': 'true',
      },
      body: JSON.stringify({ AlarmName: 'nope', StateValue: 'OK', StateReason: 'x' }),
    });
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-amzn-query-error'), 'ResourceNotFound;Sender');
    assert.deepEqual(await res.json(), { __type: 'com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound' });
  });

  it('PutMetricData of 1,000 metrics: the SDK gzips a body past 10 KB, and every metric is recorded', async () => {
    const encodings: (string | undefined)[] = [];
    const gz = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    gz.middlewareStack.add(
      (next) => (args) => {
        encodings.push((args.request as { headers: Record<string, string> }).headers['content-encoding']);
        return next(args);
      },
      { step: 'finalizeRequest' },
    );
    const MetricData = Array.from({ length: 1000 }, (_, i) => ({
      MetricName: `gz-${i}`,
      Value: i,
      Dimensions: [{ Name: 'd', Value: 'v' }],
    }));
    await gz.send(new PutMetricDataCommand({ Namespace: 'Gzipped', MetricData }));
    gz.destroy();
    assert.deepEqual(encodings, ['gzip']);
    let listed = 0;
    let NextToken: string | undefined;
    do {
      const page = await cw.send(new ListMetricsCommand({ Namespace: 'Gzipped', NextToken }));
      listed += page.Metrics?.length ?? 0;
      NextToken = page.NextToken;
    } while (NextToken);
    assert.equal(listed, 1000);
    // A body that says gzip and is not: the protocol's error, nothing recorded.
    const res = await awsFetch(`${t.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body: 'Action=PutMetricData&Namespace=NotGzip&MetricData.member.1.MetricName=m&MetricData.member.1.Value=1',
    });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /<Code>InvalidParameterValue<\/Code>.*not valid gzip/s);
    // A few KB that inflate past what a query service reads (2 MiB) are refused, not parsed.
    const bomb = gzipSync(Buffer.from('Action=PutMetricData&Namespace=Bomb&' + 'a=&'.repeat(1_000_000)));
    assert.ok(bomb.byteLength < 20_000);
    const inflating = await awsFetch(`${t.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(inflating.status, 400);
    assert.match(await inflating.text(), /inflates to more than 2097152 bytes/);
    // And a body past it, plain, likewise: JSON as the form.
    const big = await awsFetch(`${t.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData' },
      body: JSON.stringify({ Namespace: 'Big', MetricData: [{ MetricName: 'm', Value: 1, Unit: 'x'.repeat(3_000_000) }] }),
    });
    assert.equal(big.status, 400);
    assert.match(await big.text(), /this service reads at most 2097152/);
    assert.deepEqual((await cw.send(new ListMetricsCommand({ Namespace: 'Bomb' }))).Metrics, []);
    assert.deepEqual((await cw.send(new ListMetricsCommand({ Namespace: 'Big' }))).Metrics, []);
  });

  it('PutMetricData outside AWS bounds (name, dimension, Values, Timestamp) is refused with InvalidParameterValue, and records nothing', async () => {
    const now = t.server.services.clock.now();
    const cases = [
      { MetricName: 'n'.repeat(256), Value: 1 },
      { MetricName: 'ok', Value: 1, Dimensions: [{ Name: 'd'.repeat(256), Value: 'v' }] },
      { MetricName: 'ok', Value: 1, Dimensions: [{ Name: 'd', Value: 'v'.repeat(1025) }] },
      { MetricName: 'ok', Values: Array.from({ length: 151 }, (_, i) => i) },
      { MetricName: 'ok', Value: 1, Timestamp: new Date(now + 3 * 3600_000) },
      { MetricName: 'ok', Value: 1, Timestamp: new Date(now - 15 * 86_400_000) },
    ];
    for (const bad of cases) {
      const e = await errorOf(() =>
        cw.send(new PutMetricDataCommand({ Namespace: 'Bounds', MetricData: [{ MetricName: 'fine', Value: 1 }, bad] })),
      );
      assert.equal(e.name, 'InvalidParameterValueException', JSON.stringify(bad).slice(0, 80));
      assert.equal(e.$metadata?.httpStatusCode, 400);
    }
    const long = await errorOf(() =>
      cw.send(new PutMetricDataCommand({ Namespace: 'N'.repeat(256), MetricData: [{ MetricName: 'm', Value: 1 }] })),
    );
    assert.equal(long.name, 'InvalidParameterValueException');
    assert.deepEqual((await cw.send(new ListMetricsCommand({ Namespace: 'Bounds' }))).Metrics, []);
    // GetMetricData: what the queries could ask for is bounded by MaxDatapoints (100,800) before anything is read.
    const query = (i: number, Period: number) => ({
      Id: `q${i}`,
      MetricStat: { Metric: { Namespace: 'Custom', MetricName: 'latency' }, Period, Stat: 'Sum' },
    });
    const hours = { StartTime: new Date(now - 3 * 3600_000), EndTime: new Date(now) };
    const many = await errorOf(() =>
      cw.send(new GetMetricDataCommand({ ...hours, MetricDataQueries: Array.from({ length: 500 }, (_, i) => query(i, 1)) })),
    );
    assert.equal(many.name, 'InvalidParameterValueException');
    assert.match(many.message, /ask for up to 5400000 datapoints/);
    const fewer = await errorOf(() =>
      cw.send(new GetMetricDataCommand({ ...hours, MaxDatapoints: 100, MetricDataQueries: [query(0, 60)] })),
    );
    assert.match(fewer.message, /ask for up to 180 datapoints.*at most 100\.$/);
    await cw.send(new GetMetricDataCommand({ ...hours, MetricDataQueries: Array.from({ length: 500 }, (_, i) => query(i, 60)) }));
  });

  it('values past ±2^360, a statistic set of no samples and names with control characters are refused, and nothing is recorded', async () => {
    const refused = async (datum: Record<string, unknown>, member: RegExp) => {
      const e = await errorOf(() =>
        cw.send(
          new PutMetricDataCommand({
            Namespace: 'Range',
            MetricData: [
              { MetricName: 'ok', Value: 1 },
              { MetricName: 'bad', ...datum },
            ],
          }),
        ),
      );
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.match(e.message, member);
    };
    await refused({ Value: 1e109 }, /MetricData\.member\.2\.Value is invalid/);
    await refused({ Values: [1, -1e200] }, /MetricData\.member\.2\.Values\.member\.2 is invalid/);
    await refused({ StatisticValues: { SampleCount: 1, Sum: 1.7e308, Minimum: 1, Maximum: 1 } }, /StatisticValues\.Sum is invalid/);
    await refused({ StatisticValues: { SampleCount: 0, Sum: 0, Minimum: 0, Maximum: 0 } }, /SampleCount must be at least 1/);
    // Control characters in a name: a U+0000 in one kept a PostgreSQL node's every metric out of its store.
    await refused({ MetricName: 'bad\u0000', Value: 1 }, /MetricData\.member\.2\.MetricName must not contain ASCII control characters/);
    await refused({ Value: 1, Dimensions: [{ Name: 'd', Value: 'v\u001b[31m' }] }, /Dimensions\.member\.1\.Value must not contain/);
    // Versa's own bound on a series' key (what PostgreSQL can index): 30 dimensions of 1,024 characters pass it.
    const wide = Array.from({ length: 30 }, (_, i) => ({ Name: `d${i}`, Value: 'v'.repeat(1024) }));
    await refused({ Value: 1, Dimensions: wide }, /MetricName together must be at most 2048 bytes/);
    const listed = (await cw.send(new ListMetricsCommand({ Namespace: 'Range' }))).Metrics ?? [];
    assert.deepEqual(listed, []);
    await cw.send(new PutMetricDataCommand({ Namespace: 'Range', MetricData: [{ MetricName: 'edge', Value: 2 ** 360 }] }));
  });

  it('Counts past 2^360 or not above 0, and statistic sets of under one sample or Minimum above Maximum, are refused and record nothing', async () => {
    const now = Date.now();
    const put = (datum: Record<string, unknown>) =>
      cw.send(new PutMetricDataCommand({ Namespace: 'Counted', MetricData: [{ MetricName: 'c', Timestamp: new Date(now), ...datum }] }));
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ Values: [1, 2], Counts: [1e308, 1e308] }, /Counts\.member\.1 is invalid/],
      [{ Values: [1e108], Counts: [1e109] }, /Counts\.member\.1 is invalid/],
      [{ Values: [1, 2], Counts: [1, -1] }, /Counts\.member\.2 is invalid/],
      [{ Values: [1], Counts: [0] }, /Counts\.member\.1 is invalid/],
      [{ StatisticValues: { SampleCount: 0.001, Sum: 1, Minimum: 1, Maximum: 1 } }, /SampleCount must be at least 1/],
      [{ StatisticValues: { SampleCount: 2, Sum: 0, Minimum: 1e108, Maximum: -1e108 } }, /Minimum must be less than or equal to/],
    ];
    for (const [datum, message] of refusals) {
      const e = await errorOf(() => put(datum));
      assert.equal(e.name, 'InvalidParameterValueException', JSON.stringify(datum));
      assert.equal(e.$metadata?.httpStatusCode, 400);
      assert.match(e.message, message);
    }
    await put({ Values: [1, 2], Counts: [2 ** 360, 3] });
    await put({ Value: 5 });
    const stats = await cw.send(
      new GetMetricStatisticsCommand({
        Namespace: 'Counted',
        MetricName: 'c',
        StartTime: new Date(now - 3600_000),
        EndTime: new Date(now + 3600_000),
        Period: 3600,
        Statistics: ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'],
      }),
    );
    // Only the accepted data: the refused requests wrote nothing, and the sums stay finite.
    const [point] = stats.Datapoints ?? [];
    assert.equal(stats.Datapoints?.length, 1);
    assert.equal(point!.SampleCount, 2 ** 360 + 3 + 1);
    assert.equal(point!.Sum, 2 ** 360 + 6 + 5);
    assert.ok(Number.isFinite(point!.Average));
    assert.equal(point!.Minimum, 1);
    assert.equal(point!.Maximum, 5);
  });

  it('GetMetricData over an hour of a one-second series of wide histograms lets the server answer others meanwhile', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const start = now - 3600_000;
    // Each second 150 values spread over 10^-100..10^100 of both signs: a histogram of some 2,000 bins.
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const wide = () => Array.from({ length: 150 }, () => (random() < 0.5 ? -1 : 1) * 10 ** (200 * random() - 100));
    for (let from = start; from < now; from += 250_000) {
      const MetricData = [];
      for (let ts = from; ts < Math.min(now, from + 250_000); ts += 1000) {
        MetricData.push({ MetricName: 'wide', Timestamp: new Date(ts), StorageResolution: 1, Values: wide() });
      }
      await cw.send(new PutMetricDataCommand({ Namespace: 'Wide', MetricData }));
    }
    // Written to the store (once a second) before the read, so that only the read is measured.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // The longest the event loop of this process (the server's) went without a turn during the read.
    const metric = { Namespace: 'Wide', MetricName: 'wide' };
    const { result: out, heldMs } = await loopHolds(
      () =>
        cw.send(
          new GetMetricDataCommand({
            StartTime: new Date(start),
            EndTime: new Date(now),
            MetricDataQueries: ['p99', 'p50'].map((Stat, i) => ({ Id: `q${i}`, MetricStat: { Metric: metric, Period: 1, Stat } })),
          }),
        ),
      2,
    );
    assert.equal(out.MetricDataResults?.[0]?.Values?.length, 3600);
    assert.ok(heldMs < 250, `the event loop was held for ${Math.round(heldMs)} ms`);
  });

  it('GetMetricData: a percentile over half an hour of one-second histograms of 2,000 bins holds a few of them at a time, not all', async () => {
    const metrics = t.server.services.metrics;
    const now = Math.floor(t.server.services.clock.now() / 1000) * 1000;
    const seconds = 1800;
    const start = now - seconds * 1000;
    // Each second, 1,000 values of each sign 2 % apart: a histogram of 2,000 bins (none folded).
    const series = metrics.series('Wide', 'bins', [], { resolution: 1 });
    for (let i = 0; i < seconds; i++) {
      for (let k = 0; k < 1000; k++) {
        series.record(1.02 ** k, start + i * 1000);
        series.record(-(1.02 ** k), start + i * 1000);
      }
    }
    await metrics.flush();
    // The most this process's heap grew while the query was read (sampled between the read's slices).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = process.memoryUsage().heapUsed;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 1);
    const out = await cw.send(
      new GetMetricDataCommand({
        StartTime: new Date(start),
        EndTime: new Date(now),
        MetricDataQueries: [{ Id: 'p', MetricStat: { Metric: { Namespace: 'Wide', MetricName: 'bins' }, Period: 1, Stat: 'p99' } }],
      }),
    );
    clearInterval(sampler);
    const grewMb = (Math.max(peak, process.memoryUsage().heapUsed) - base) / 1024 / 1024;
    console.log(`# p99 of 1,800 one-second periods of 2,000 bins: the heap grew ${grewMb.toFixed(0)} MB while it was read`);
    const values = out.MetricDataResults?.[0]?.Values ?? [];
    assert.equal(values.length, seconds);
    // The 99th percentile of ±1.02^k, k < 1,000: within a bin (2 %) of 1.02^979.
    assert.ok(
      values.every((v) => Math.abs(v / 1.02 ** 979 - 1) < 0.03),
      `p99 ${values[0]}`,
    );
    // Every period's histogram was held until the answer was computed: 1,800 of 2,000 bins.
    assert.ok(grewMb < 60, `the heap grew ${grewMb.toFixed(0)} MB`);
  });

  it('duplicate dimension names, query ids, more than 10 ListMetrics filters and a MaxDatapoints below 1 are refused, as CloudWatch refuses them', async () => {
    const refusedWith = async (call: () => Promise<unknown>, message: RegExp) => {
      const e = await errorOf(call);
      assert.equal(e.name, 'InvalidParameterValueException');
      assert.match(e.message, message);
    };
    await refusedWith(
      () =>
        cw.send(
          new PutMetricDataCommand({
            Namespace: 'Dupes',
            MetricData: [
              {
                MetricName: 'm',
                Value: 1,
                Dimensions: [
                  { Name: 'd', Value: 'a' },
                  { Name: 'd', Value: 'b' },
                ],
              },
            ],
          }),
        ),
      /duplicate dimension names/,
    );
    assert.deepEqual((await cw.send(new ListMetricsCommand({ Namespace: 'Dupes' }))).Metrics ?? [], []);
    const query = { Id: 'q', MetricStat: { Metric: { Namespace: 'Dupes', MetricName: 'm' }, Period: 60, Stat: 'Sum' } };
    const range = { StartTime: new Date(Date.now() - 3600_000), EndTime: new Date() };
    await refusedWith(() => cw.send(new GetMetricDataCommand({ ...range, MetricDataQueries: [query, query] })), /not unique/);
    await refusedWith(
      () => cw.send(new GetMetricDataCommand({ ...range, MaxDatapoints: -1, MetricDataQueries: [query] })),
      /MaxDatapoints/,
    );
    const filters = Array.from({ length: 11 }, (_, i) => ({ Name: `d${i}` }));
    await refusedWith(() => cw.send(new ListMetricsCommand({ Dimensions: filters })), /not have more than 10/);
  });

  it('custom series are bounded in memory: past about 12,000 the request is LimitExceeded and records nothing; known series still take data', async () => {
    let added = 0;
    let refused: Error | undefined;
    for (let r = 0; r < 20 && !refused; r++) {
      const MetricData = Array.from({ length: 1000 }, (_, i) => ({ MetricName: `s-${r}-${i}`, Value: 1 }));
      try {
        await cw.send(new PutMetricDataCommand({ Namespace: 'Flood', MetricData }));
        added += 1000;
      } catch (e) {
        refused = e as Error;
      }
    }
    assert.ok(refused, 'a request was refused');
    assert.equal(refused.name, 'LimitExceededFault');
    assert.equal((refused as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
    assert.ok(added >= 10_000 && added <= 13_000, `${added} series before the limit`);
    // The refused request's new series were not made; a series already kept takes data as before.
    const refusedRound = added / 1000;
    const names = (await cw.send(new ListMetricsCommand({ Namespace: 'Flood', MetricName: `s-${refusedRound}-0` }))).Metrics;
    assert.deepEqual(names, []);
    await cw.send(new PutMetricDataCommand({ Namespace: 'Flood', MetricData: [{ MetricName: 's-0-0', Value: 2 }] }));
  });

  it('aws CLI: put-metric-data and describe-alarms work unchanged', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
    const aws = (...args: string[]) => exec('aws', ['--endpoint-url', t.url, 'cloudwatch', ...args], { env });
    await aws('put-metric-data', '--namespace', 'Cli', '--metric-name', 'jobs', '--value', '7');
    await aws(
      'put-metric-alarm',
      '--alarm-name',
      'cli-alarm',
      '--namespace',
      'Cli',
      '--metric-name',
      'jobs',
      '--statistic',
      'Sum',
      '--period',
      '60',
      '--evaluation-periods',
      '1',
      '--threshold',
      '1',
      '--comparison-operator',
      'GreaterThanThreshold',
    );
    const { stdout } = await aws(
      'describe-alarms',
      '--alarm-names',
      'cli-alarm',
      '--query',
      'MetricAlarms[0].[AlarmName,StateValue]',
      '--output',
      'text',
    );
    // Not yet evaluated, or (the evaluator's first tick is ten real seconds after start, which a loaded machine
    // reaches by now) in ALARM for its 7 > 1: never OK.
    assert.match(stdout.trim(), /^cli-alarm\t(INSUFFICIENT_DATA|ALARM)$/);
    const bad = await aws('set-alarm-state', '--alarm-name', 'nope', '--state-value', 'OK', '--state-reason', 'x').catch(
      (e: { stderr: string }) => e,
    );
    assert.match(bad.stderr, /ResourceNotFound/);
    const list = await exec(process.execPath, [BIN, 'alarms', '--endpoint-url', t.url]);
    // The evaluator's first tick (ten real seconds after start) may have put it in ALARM by now on a loaded machine.
    assert.match(list.stdout, /cli-alarm\s+(INSUFFICIENT_DATA|ALARM)\s+Sum\(Cli jobs\) > 1 over 1×60s/);
  });
});

describe('AWS/ApiGateway metrics and the Prometheus endpoint', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('a stage publishes Count and 5XXError per API and stage; /_versa/metrics shows the same counts', async () => {
    const apigw = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const cw = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      await createFunction(t.lambda, 'pinged', { 'index.js': 'exports.handler = async () => "pong";' });
      await t.lambda.send(new InvokeCommand({ FunctionName: 'pinged' }));
      const api = await apigw.send(new CreateRestApiCommand({ name: 'metered-api' }));
      const root = (await apigw.send(new GetResourcesCommand({ restApiId: api.id }))).items![0]!.id!;
      await apigw.send(new PutMethodCommand({ restApiId: api.id, resourceId: root, httpMethod: 'GET', authorizationType: 'NONE' }));
      await apigw.send(
        new PutIntegrationCommand({
          restApiId: api.id,
          resourceId: root,
          httpMethod: 'GET',
          type: 'MOCK',
          requestTemplates: { 'application/json': '{"statusCode": 200}' },
        }),
      );
      await apigw.send(new PutMethodResponseCommand({ restApiId: api.id, resourceId: root, httpMethod: 'GET', statusCode: '200' }));
      await apigw.send(
        new PutIntegrationResponseCommand({
          restApiId: api.id,
          resourceId: root,
          httpMethod: 'GET',
          statusCode: '200',
          selectionPattern: '',
        }),
      );
      await apigw.send(new CreateDeploymentCommand({ restApiId: api.id, stageName: 'prod' }));
      const base = `${t.url}/restapis/${api.id!}/prod/_user_request_`;
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${base}/`)).status, 200);
      assert.equal((await fetch(`${base}/missing`)).status, 403);
      const now = t.server.services.clock.now();
      const stat = async (metric: string) =>
        (
          await cw.send(
            new GetMetricStatisticsCommand({
              Namespace: 'AWS/ApiGateway',
              MetricName: metric,
              Dimensions: [
                { Name: 'ApiName', Value: 'metered-api' },
                { Name: 'Stage', Value: 'prod' },
              ],
              Period: 3600,
              Statistics: ['Sum'],
              StartTime: new Date(now - 3_600_000),
              EndTime: new Date(now + 60_000),
            }),
          )
        ).Datapoints!.reduce((a, d) => a + (d.Sum ?? 0), 0);
      assert.equal(await stat('Count'), 4);
      assert.equal(await stat('4XXError'), 1);
      assert.equal(await stat('5XXError'), 0);
      const text = await (await fetch(`${t.url}/_versa/metrics`)).text();
      assert.match(text, /# TYPE versa_apigateway_requests_total counter/);
      assert.match(text, /versa_apigateway_requests_total\{api_name="metered-api",stage="prod"\} 4/);
      assert.match(text, /versa_lambda_invocations_total\{function_name="pinged",resource="pinged",executed_version="\$LATEST"\} 1/);
    } finally {
      apigw.destroy();
      cw.destroy();
    }
  });
});

describe('GetMetricData in pages', () => {
  let t: TestServer;
  let cw: CloudWatchClient;
  before(async () => {
    // A read budget of nothing: every page answers one query, as a long request would past its second.
    t = await startTestServer({ overrides: { metricQueryBudgetMs: 0 } });
    cw = new CloudWatchClient({
      endpoint: t.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    cw.destroy();
    await t.close();
  });

  it('a request that reads past its time budget answers what it has and a NextToken; the SDK’s paginator gets every query once', async () => {
    const now = new Date();
    await cw.send(
      new PutMetricDataCommand({
        Namespace: 'Paged',
        MetricData: ['a', 'b'].flatMap((name, n) => [1, 2, 3].map((v) => ({ MetricName: name, Value: v * (n + 1), Timestamp: now }))),
      }),
    );
    const stat = (id: string, name: string, Stat: string) => ({
      Id: id,
      MetricStat: { Metric: { Namespace: 'Paged', MetricName: name }, Period: 60, Stat },
    });
    const input = {
      StartTime: new Date(now.getTime() - 3_600_000),
      EndTime: new Date(now.getTime() + 60_000),
      MetricDataQueries: [stat('asum', 'a', 'Sum'), stat('amax', 'a', 'Maximum'), stat('bsum', 'b', 'Sum')],
    };
    const first = await cw.send(new GetMetricDataCommand(input));
    assert.deepEqual(
      first.MetricDataResults?.map((r) => [r.Id, r.Values]),
      [['asum', [6]]],
    );
    assert.ok(first.NextToken);
    const pages = [];
    for await (const page of paginateGetMetricData({ client: cw }, input)) pages.push(page);
    assert.equal(pages.length, 3);
    assert.deepEqual(
      pages.flatMap((p) => p.MetricDataResults ?? []).map((r) => [r.Id, r.Values, r.StatusCode]),
      [
        ['asum', [6], 'Complete'],
        ['amax', [3], 'Complete'],
        ['bsum', [12], 'Complete'],
      ],
    );
    for (const NextToken of ['bm9wZQ', Buffer.from('q3').toString('base64url')]) {
      const e = await errorOf(() => cw.send(new GetMetricDataCommand({ ...input, NextToken })));
      assert.equal(e.name, 'InvalidNextToken', NextToken);
    }
  });
});
