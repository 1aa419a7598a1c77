/**
 * CloudWatch Logs end to end: function logs persisted per group and stream, read back with the AWS SDK v3
 * client, the `aws logs` CLI and `versa logs`; retention on the platform clock; every refusal AWS-shaped.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsLogGroupCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
  TagLogGroupCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { FakeClock } from '../src/core/clock.js';
import { runTool } from './tools.js';
import { awsFetch, createFunction, errorOf, startTestServer, type TestServer } from './harness.js';
import { invoke, sleep, waitFor } from './invoke-helpers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/versa.js');

/** `versa logs FUNCTION --follow` running: what it printed so far, and stopping it as Ctrl-C does (its exit code). */
function followLogs(url: string, name: string, ...args: string[]) {
  const child = spawn(process.execPath, [BIN, 'logs', name, '--follow', ...args, '--endpoint-url', url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  return {
    out: () => out,
    stop(): Promise<number | null> {
      child.kill('SIGINT');
      return exited;
    },
  };
}
const STREAM_NAME = /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/;
const DAY = 86_400_000;

function logsClientFor(endpoint: string): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

const hasAwsCli = await runTool('aws', ['--version']).then(
  (r) => r.code === 0,
  () => false,
);

const NODE_FN = { 'index.js': 'exports.handler = async (event) => { console.log("node says " + event.marker); return "ok"; };\n' };
const PY_FN = { 'app.py': 'def handler(event, context):\n    print("python says " + event["marker"])\n    return "ok"\n' };
const PY = { Runtime: 'python3.12', Handler: 'app.handler' } as const;

describe('CloudWatch Logs: function logs and the Logs API', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    t = await startTestServer();
    logs = logsClientFor(t.url);
    await createFunction(t.lambda, 'log-node', NODE_FN);
    await createFunction(t.lambda, 'log-py', PY_FN, PY);
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  const groupsNamed = async (prefix: string) =>
    (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: prefix }))).logGroups ?? [];
  const messagesOf = async (group: string) =>
    ((await logs.send(new FilterLogEventsCommand({ logGroupName: group }))).events ?? []).map((e) => e.message ?? '');

  it('invoking writes /aws/lambda/<name>: a stream per environment with START, the output, END and REPORT', async () => {
    assert.equal((await invoke(t.lambda, 'log-node', { marker: 'n-1' })).raw, '"ok"');
    assert.equal((await invoke(t.lambda, 'log-py', { marker: 'p-1' })).raw, '"ok"');

    const groups = await groupsNamed('/aws/lambda/log-');
    assert.deepEqual(
      groups.map((g) => g.logGroupName),
      ['/aws/lambda/log-node', '/aws/lambda/log-py'],
    );
    for (const g of groups) {
      assert.equal(g.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${g.logGroupName}:*`);
      assert.equal(typeof g.creationTime, 'number');
      assert.ok((g.storedBytes ?? 0) > 0, 'storedBytes counts the messages');
      assert.equal(g.retentionInDays, undefined);
    }

    for (const [fn, line] of [
      ['log-node', /\tINFO\tnode says n-1$/],
      ['log-py', /^python says p-1$/],
    ] as const) {
      const group = `/aws/lambda/${fn}`;
      const streams = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams ?? [];
      assert.equal(streams.length, 1);
      const stream = streams[0]!;
      assert.match(stream.logStreamName ?? '', STREAM_NAME);
      assert.equal(stream.arn, `arn:aws:logs:us-east-1:000000000000:log-group:${group}:log-stream:${stream.logStreamName}`);
      assert.ok(stream.firstEventTimestamp! <= stream.lastEventTimestamp!);
      assert.ok(stream.lastIngestionTime! >= stream.firstEventTimestamp!);

      const got = await logs.send(
        new GetLogEventsCommand({ logGroupName: group, logStreamName: stream.logStreamName, startFromHead: true }),
      );
      const messages = (got.events ?? []).map((e) => e.message ?? '');
      const at = (re: RegExp) => messages.findIndex((m) => re.test(m));
      const start = at(/^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/);
      const output = at(line);
      const end = at(/^END RequestId: [0-9a-f-]{36}$/);
      const report = at(/^REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9.]+ ms\tBilled Duration: \d+ ms/);
      // START, END and REPORT come from the platform in that order; the function's own line arrives over
      // its stdout pipe, so only "after START" is certain of it.
      assert.ok(start >= 0 && start < end && end < report && start < output, `unexpected order:\n${messages.join('\n')}`);
      for (const e of got.events ?? []) {
        assert.equal(typeof e.timestamp, 'number');
        assert.equal(typeof e.ingestionTime, 'number');
      }
      assert.match(got.nextForwardToken ?? '', /^f\/\d{56}\/s$/);
      assert.match(got.nextBackwardToken ?? '', /^b\/\d{56}\/s$/);
    }

    const reports = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/log-node', filterPattern: 'REPORT' }));
    assert.equal(reports.events?.length, 1);
    const report = reports.events[0]!;
    assert.match(report.message ?? '', /^REPORT /);
    assert.match(report.logStreamName ?? '', STREAM_NAME);
    assert.match(report.eventId ?? '', /^\d{56}$/);
    // AWS answers it empty since May 2020 (its model says so).
    assert.deepEqual(reports.searchedLogStreams, []);
    const phrase = await logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/log-py', filterPattern: '"python says"' }));
    assert.deepEqual(
      phrase.events?.map((e) => e.message),
      ['python says p-1'],
    );
  });

  it('GetLogEvents: pages forward and back; the forward token stays put until something new arrives', async () => {
    const group = '/custom/paging';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 'app' }));
    const base = Date.now() - 10_000;
    const put = (from: number, n: number) =>
      logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: 'app',
          logEvents: Array.from({ length: n }, (_, i) => ({ timestamp: base + from + i, message: `line ${from + i}` })),
        }),
      );
    await put(0, 5);
    const get = (extra: { nextToken?: string; startFromHead?: boolean; limit?: number }) =>
      logs.send(new GetLogEventsCommand({ logGroupName: group, logStreamName: 'app', ...extra }));
    const texts = (out: { events?: { message?: string }[] }) => (out.events ?? []).map((e) => e.message);

    // Without a token: the newest `limit` events (or the oldest, from the head), oldest first.
    assert.deepEqual(texts(await get({ limit: 2 })), ['line 3', 'line 4']);
    const head = await get({ limit: 2, startFromHead: true });
    assert.deepEqual(texts(head), ['line 0', 'line 1']);
    const second = await get({ limit: 2, nextToken: head.nextForwardToken });
    assert.deepEqual(texts(second), ['line 2', 'line 3']);
    const third = await get({ limit: 2, nextToken: second.nextForwardToken });
    assert.deepEqual(texts(third), ['line 4']);
    const idle = await get({ limit: 2, nextToken: third.nextForwardToken });
    assert.deepEqual(texts(idle), []);
    assert.equal(idle.nextForwardToken, third.nextForwardToken, 'nothing new: the same forward token');
    await put(5, 1);
    assert.deepEqual(texts(await get({ nextToken: idle.nextForwardToken })), ['line 5']);
    // Backward from the second page.
    assert.deepEqual(texts(await get({ limit: 5, nextToken: second.nextBackwardToken })), ['line 0', 'line 1']);

    const filtered = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: group,
        startTime: base + 1,
        endTime: base + 3,
        filterPattern: '?"line 1" ?"line 3" ?"line 4"',
      }),
    );
    assert.deepEqual(texts(filtered), ['line 1', 'line 3']);
    // FilterLogEvents pages with nextToken and ends without one.
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ logGroupName: group, limit: 4, nextToken }));
      seen.push(...texts(page).map(String));
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(seen, ['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5']);
  });

  it('DescribeLogStreams orders by name or last event time and pages; DescribeLogGroups pages', async () => {
    const group = '/custom/streams';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    const now = Date.now();
    for (const [name, offset] of [
      ['b', 3],
      ['a', 1],
      ['c', 2],
    ] as const) {
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: name }));
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: name,
          logEvents: [{ timestamp: now - 100 + offset, message: name }],
        }),
      );
    }
    const names = async (input: { orderBy?: 'LogStreamName' | 'LastEventTime'; descending?: boolean }) => {
      const out: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group, limit: 2, nextToken, ...input }));
        out.push(...(page.logStreams ?? []).map((s) => s.logStreamName ?? ''));
        nextToken = page.nextToken;
      } while (nextToken);
      return out;
    };
    assert.deepEqual(await names({}), ['a', 'b', 'c']);
    assert.deepEqual(await names({ descending: true }), ['c', 'b', 'a']);
    assert.deepEqual(await names({ orderBy: 'LastEventTime', descending: true }), ['b', 'c', 'a']);

    const first = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/custom/', limit: 1 }));
    assert.deepEqual(
      first.logGroups?.map((g) => g.logGroupName),
      ['/custom/paging'],
    );
    const rest = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/custom/', nextToken: first.nextToken }));
    assert.deepEqual(
      rest.logGroups?.map((g) => g.logGroupName),
      ['/custom/streams'],
    );
    assert.equal(rest.nextToken, undefined);
  });

  it('every refusal is the AWS error, with `message`, HTTP 400, and changes nothing', async () => {
    const snapshot = async () => ({
      groups: await groupsNamed('/'),
      paging: await messagesOf('/custom/paging'),
    });
    const before = await snapshot();
    const refused = async (call: () => Promise<unknown>, name: string, message: string | RegExp) => {
      const err = await errorOf(call);
      assert.equal(err.name, name);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      assert.equal(err.$metadata?.httpStatusCode, 400);
    };
    const NOT_FOUND = 'The specified log group does not exist.';
    await refused(() => logs.send(new DeleteLogGroupCommand({ logGroupName: '/nope' })), 'ResourceNotFoundException', NOT_FOUND);
    await refused(() => logs.send(new DescribeLogStreamsCommand({ logGroupName: '/nope' })), 'ResourceNotFoundException', NOT_FOUND);
    await refused(() => logs.send(new FilterLogEventsCommand({ logGroupName: '/nope' })), 'ResourceNotFoundException', NOT_FOUND);
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: '/custom/paging', logStreamName: 'nope' })),
      'ResourceNotFoundException',
      'The specified log stream does not exist.',
    );
    await refused(
      () =>
        logs.send(
          new PutLogEventsCommand({
            logGroupName: '/custom/paging',
            logStreamName: 'nope',
            logEvents: [{ timestamp: Date.now(), message: 'x' }],
          }),
        ),
      'ResourceNotFoundException',
      'The specified log stream does not exist.',
    );
    await refused(
      () => logs.send(new PutRetentionPolicyCommand({ logGroupName: '/nope', retentionInDays: 7 })),
      'ResourceNotFoundException',
      NOT_FOUND,
    );
    await refused(
      () => logs.send(new CreateLogGroupCommand({ logGroupName: '/custom/paging' })),
      'ResourceAlreadyExistsException',
      'The specified log group already exists',
    );
    await refused(
      () => logs.send(new PutRetentionPolicyCommand({ logGroupName: '/custom/paging', retentionInDays: 4 })),
      'InvalidParameterException',
      /^1 validation error detected: Value '4' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653\]$/,
    );
    await refused(
      () => logs.send(new DescribeLogGroupsCommand({ limit: 51 })),
      'InvalidParameterException',
      "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50",
    );
    await refused(
      () => logs.send(new DescribeLogStreamsCommand({ logGroupName: '/custom/paging', limit: 0 })),
      'InvalidParameterException',
      /'limit'/,
    );
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: '/custom/paging', logStreamName: 'app', limit: 10_001 })),
      'InvalidParameterException',
      /less than or equal to 10000/,
    );
    await refused(
      () => logs.send(new GetLogEventsCommand({ logGroupName: '/custom/paging', logStreamName: 'app', nextToken: 'f/garbage' })),
      'InvalidParameterException',
      'The specified nextToken is invalid.',
    );
    await refused(() => logs.send(new CreateLogGroupCommand({ logGroupName: 'bad name!' })), 'InvalidParameterException', /'logGroupName'/);
    await refused(
      () => logs.send(new FilterLogEventsCommand({ logGroupName: '/custom/paging', filterPattern: '{ $.level = "ERROR" }' })),
      'InvalidParameterException',
      /term filter patterns only/,
    );
    assert.deepEqual(await snapshot(), before);

    // On the wire: JSON 1.1 with a lowercase `message`, unlike Lambda's `Message`.
    const res = await awsFetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.DeleteLogGroup' },
      body: JSON.stringify({ logGroupName: '/nope' }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.deepEqual(await res.json(), { __type: 'ResourceNotFoundException', message: NOT_FOUND });
  });

  it('CreateLogGroup, PutRetentionPolicy, DeleteRetentionPolicy and DeleteLogGroup, as the API shows them', async () => {
    const group = '/custom/lifecycle';
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    const described = async (): Promise<LogGroup | undefined> => (await groupsNamed(group))[0];
    assert.equal((await described())?.storedBytes, 0);
    await logs.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: 14 }));
    assert.equal((await described())?.retentionInDays, 14);
    await logs.send(new DeleteRetentionPolicyCommand({ logGroupName: group }));
    assert.equal((await described())?.retentionInDays, undefined);
    await logs.send(new DeleteLogGroupCommand({ logGroupName: group }));
    assert.equal(await described(), undefined);
  });

  it(
    'aws logs (CLI v1): describe-log-groups, filter-log-events and a refusal',
    { skip: !hasAwsCli && 'the aws CLI is not installed' },
    async () => {
      const scratch = await mkdtemp(path.join(tmpdir(), 'versa-logs-cli-'));
      try {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_CONFIG_FILE: path.join(scratch, 'no-config'),
          AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, 'no-credentials'),
          AWS_PAGER: '',
        };
        for (const key of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_ENDPOINT_URL']) delete env[key];
        const aws = (...args: string[]) => runTool('aws', ['--endpoint-url', t.url, '--output', 'json', 'logs', ...args], env);

        const groups = await aws('describe-log-groups', '--log-group-name-prefix', '/aws/lambda/log-');
        assert.equal(groups.code, 0, groups.stderr);
        assert.deepEqual(
          (JSON.parse(groups.stdout) as { logGroups: { logGroupName: string }[] }).logGroups.map((g) => g.logGroupName),
          ['/aws/lambda/log-node', '/aws/lambda/log-py'],
        );
        const filtered = await aws('filter-log-events', '--log-group-name', '/aws/lambda/log-node', '--filter-pattern', 'node says');
        assert.equal(filtered.code, 0, filtered.stderr);
        const events = (JSON.parse(filtered.stdout) as { events: { message: string }[] }).events;
        assert.ok(events.length >= 1 && events.every((e) => e.message.includes('node says')));
        const refused = await aws('delete-log-group', '--log-group-name', '/nope');
        assert.notEqual(refused.code, 0);
        assert.match(refused.stderr, /ResourceNotFoundException.*The specified log group does not exist\./);
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  );

  it('versa logs: prints the events in time order; a missing function is one sentence and exit 1', async () => {
    const out = await runTool(process.execPath, [BIN, 'logs', 'log-node', '--endpoint-url', t.url]);
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trimEnd().split('\n');
    assert.ok(lines.some((l) => /START RequestId: /.test(l)));
    assert.ok(lines.some((l) => /node says n-1$/.test(l)));
    assert.ok(lines.some((l) => /REPORT RequestId: /.test(l)));
    const times = lines.map((l) => l.slice(0, 24));
    assert.ok(times.every((x) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(x)));
    assert.deepEqual(times, [...times].sort());
    assert.ok(
      lines.every((l) => / \[\$LATEST\][0-9a-f]{8} /.test(l)),
      out.stdout,
    );

    const missing = await runTool(process.execPath, [BIN, 'logs', 'no-such-function', '--endpoint-url', t.url]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr, 'versa logs: there are no logs for function no-such-function; it does not exist or has not run yet.\n');

    const badSince = await runTool(process.execPath, [BIN, 'logs', 'log-node', '--since', 'ten', '--endpoint-url', t.url]);
    assert.equal(badSince.code, 2);
    assert.match(badSince.stderr, /--since takes a number and a unit/);
    const recent = await runTool(process.execPath, [BIN, 'logs', 'log-node', '--since', '10m', '--endpoint-url', t.url]);
    assert.equal(recent.code, 0, recent.stderr);
    assert.match(recent.stdout, /node says n-1/);
  });

  it('versa logs --follow: prints a new invocation’s lines as they arrive, until stopped', async () => {
    const follower = followLogs(t.url, 'log-node');
    try {
      await waitFor('the existing lines', () => follower.out().includes('node says n-1'), 15_000);
      assert.equal((await invoke(t.lambda, 'log-node', { marker: 'followed' })).raw, '"ok"');
      await waitFor('the new invocation’s line', () => follower.out().includes('node says followed'), 15_000);
      await sleep(50);
      assert.equal(follower.out().split('node says n-1').length - 1, 1, 'an event was printed twice');
    } finally {
      assert.equal(await follower.stop(), 0);
    }
  });

  it('restart: the logs are still there, and the next environment adds a stream', async () => {
    const nodeBefore = await messagesOf('/aws/lambda/log-node');
    const pyBefore = await messagesOf('/aws/lambda/log-py');
    assert.ok(pyBefore.includes('python says p-1'));
    await t.restart();
    logs.destroy();
    logs = logsClientFor(t.url);
    // Everything from before is still there, in order. (Stopping an environment can add a line of its
    // own, e.g. the runtime noting its API connection closed, so later lines are not ruled out.)
    assert.deepEqual((await messagesOf('/aws/lambda/log-node')).slice(0, nodeBefore.length), nodeBefore);
    assert.deepEqual((await messagesOf('/aws/lambda/log-py')).slice(0, pyBefore.length), pyBefore);
    await invoke(t.lambda, 'log-node', { marker: 'n-2' });
    const streams = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/log-node' }))).logStreams ?? [];
    assert.equal(streams.length, 2);
    assert.ok(streams.every((s) => STREAM_NAME.test(s.logStreamName ?? '')));
    assert.ok((await messagesOf('/aws/lambda/log-node')).some((m) => m.endsWith('node says n-2')));
  });

  it('versa logs --follow: a line dated ahead does not hide what comes after it, and control characters are shown escaped', async () => {
    const group = '/aws/lambda/log-node';
    const [stream] = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams ?? [];
    const follower = followLogs(t.url, 'log-node', '--since', '5m');
    const out = () => follower.out();
    try {
      await waitFor('the existing lines', () => out().includes('node says n-2'), 15_000);
      // What a function may write into its own group: a line an hour ahead, steering the terminal.
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: stream!.logStreamName!,
          logEvents: [
            { timestamp: Date.now(), message: 'one event\n2026-01-01T00:00:00.000Z [$LATEST]cafebabe a forged line' },
            { timestamp: Date.now() + 3_600_000, message: 'from ahead \x1b[2J\x1b]0;owned\x07' },
          ],
        }),
      );
      await waitFor('the line dated ahead', () => out().includes('from ahead \\x1b[2J\\x1b]0;owned\\x07'), 15_000);
      assert.equal(out().includes('\x1b'), false, 'no escape reached the terminal');
      // A line of an event's own is indented under it: it cannot pass for an event of its own.
      assert.ok(out().includes('one event\n    2026-01-01T00:00:00.000Z [$LATEST]cafebabe a forged line\n'), out().slice(-400));
      await invoke(t.lambda, 'log-node', { marker: 'after-ahead' });
      await waitFor('the line logged after it', () => out().includes('node says after-ahead'), 15_000);
    } finally {
      assert.equal(await follower.stop(), 0);
    }
  });
});

describe('CloudWatch Logs: retention on the platform clock', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  const clock = new FakeClock(Date.UTC(2024, 0, 1));
  before(async () => {
    t = await startTestServer({ clock, retentionDays: 7 });
    logs = logsClientFor(t.url);
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  const write = async (group: string, message: string, timestamp = clock.now()) => {
    const existing = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
    if (!existing.logGroups?.some((g) => g.logGroupName === group)) {
      await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: 's' }));
    }
    return logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: 's', logEvents: [{ timestamp, message }] }));
  };
  const messages = async (group: string) =>
    ((await logs.send(new FilterLogEventsCommand({ logGroupName: group }))).events ?? []).map((e) => e.message);

  it('PutRetentionPolicy drops that group’s older events at once; the server’s retention sweeps the rest', async () => {
    await write('/ret/short', 'old');
    await write('/ret/default', 'old');
    await createFunction(t.lambda, 'ret-fn', NODE_FN);
    await invoke(t.lambda, 'ret-fn', { marker: 'old' });
    clock.advance(2 * DAY);
    await write('/ret/short', 'new');
    await write('/ret/default', 'new');

    await logs.send(new PutRetentionPolicyCommand({ logGroupName: '/ret/short', retentionInDays: 1 }));
    assert.deepEqual(await messages('/ret/short'), ['new']);
    assert.deepEqual(await messages('/ret/default'), ['old', 'new']);
    assert.equal((await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ret/short' }))).logGroups?.[0]?.retentionInDays, 1);

    // Six more days: the first events are 8 days old, past the server's 7; the hourly sweep drops them.
    clock.advance(6 * DAY);
    await waitFor('the sweep to drop events past 7 days', async () => !(await messages('/ret/default')).includes('old'), 10_000);
    assert.deepEqual(await messages('/ret/default'), ['new']);
    assert.deepEqual(await messages('/ret/short'), []);
    assert.deepEqual(await messages('/aws/lambda/ret-fn'), [], 'function logs expire too');
    // The group and stream remain, empty.
    const streams = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/aws/lambda/ret-fn' }))).logStreams ?? [];
    assert.equal(streams.length, 1);
  });

  it('DescribeLogGroups with logGroupNamePattern reads a bounded stretch of groups a call, and its pages find every match once', async () => {
    const names = Array.from({ length: 5200 }, (_, i) => `/scan/g-${String(i).padStart(5, '0')}${i % 1000 === 7 ? '-hit-scan' : ''}`);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((logGroupName) => logs.send(new CreateLogGroupCommand({ logGroupName }))));
    }
    // A pattern that matches nothing answers a page without reading all 5,200: empty, with where it stopped.
    const first = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'matches-nothing-at-all' }));
    assert.deepEqual(first.logGroups, []);
    assert.ok(first.nextToken, 'a nextToken where the scan stopped');
    const found: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePattern: 'hit-scan', limit: 2, nextToken }));
      found.push(...(page.logGroups ?? []).map((g) => g.logGroupName!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken !== undefined && pages < 50);
    assert.deepEqual(
      found,
      names.filter((n) => n.includes('hit-scan')),
    );
  });

  it('U+0000 in a stream name, a tag or a nextToken is InvalidParameterException on every store, and nothing is stored', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/nul/probe' }));
    const refused = async (call: () => Promise<unknown>, message: RegExp) => {
      const e = await errorOf(call);
      assert.equal(e.name, 'InvalidParameterException');
      assert.match(e.message, message);
    };
    await refused(() => logs.send(new CreateLogStreamCommand({ logGroupName: '/nul/probe', logStreamName: 's\u0000x' })), /logStreamName/);
    await refused(() => logs.send(new TagLogGroupCommand({ logGroupName: '/nul/probe', tags: { 'k\u0000': 'v' } })), /U\+0000/);
    await refused(() => logs.send(new TagLogGroupCommand({ logGroupName: '/nul/probe', tags: { k: 'v\u0000' } })), /U\+0000/);
    const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    await refused(
      () => logs.send(new DescribeLogStreamsCommand({ logGroupName: '/nul/probe', nextToken: token([-1e308, '\u0000']) })),
      /The specified nextToken is invalid/,
    );
    await refused(() => logs.send(new DescribeLogGroupsCommand({ nextToken: token('\u0000') })), /The specified nextToken is invalid/);
    assert.deepEqual((await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/nul/probe' }))).logStreams, []);
    assert.deepEqual((await logs.send(new ListTagsLogGroupCommand({ logGroupName: '/nul/probe' }))).tags ?? {}, {});
  });

  it('PutLogEvents refuses events too new, too old or past retention, and reports their indexes', async () => {
    await write('/ret/window', 'seed');
    const now = clock.now();
    const put = (logEvents: { timestamp: number; message: string }[]) =>
      logs.send(new PutLogEventsCommand({ logGroupName: '/ret/window', logStreamName: 's', logEvents }));
    // A batch may span at most 24 hours, so the old events and the new ones go in two.
    const old = await put([
      { timestamp: now - 8 * DAY, message: 'expired' },
      { timestamp: now - 8 * DAY + 1, message: 'expired too' },
    ]);
    assert.deepEqual(old.rejectedLogEventsInfo, { expiredLogEventEndIndex: 1 });
    const ancient = await put([{ timestamp: now - 15 * DAY, message: 'too old' }]);
    assert.deepEqual(ancient.rejectedLogEventsInfo, { tooOldLogEventEndIndex: 0 });
    const out = await put([
      { timestamp: now - 1000, message: 'fine' },
      { timestamp: now + 3 * 3_600_000, message: 'future' },
    ]);
    assert.deepEqual(out.rejectedLogEventsInfo, { tooNewLogEventStartIndex: 1 });
    assert.match(out.nextSequenceToken ?? '', /^\d{56}$/);
    assert.deepEqual(await messages('/ret/window'), ['fine', 'seed']);
    const wide = await errorOf(() =>
      put([
        { timestamp: now - 2 * DAY, message: 'a' },
        { timestamp: now, message: 'b' },
      ]),
    );
    assert.equal(wide.name, 'InvalidParameterException');
    const unordered = await errorOf(() =>
      logs.send(
        new PutLogEventsCommand({
          logGroupName: '/ret/window',
          logStreamName: 's',
          logEvents: [
            { timestamp: now, message: 'b' },
            { timestamp: now - 1, message: 'a' },
          ],
        }),
      ),
    );
    assert.equal(unordered.name, 'InvalidParameterException');
    assert.deepEqual(await messages('/ret/window'), ['fine', 'seed']);
  });
});

describe('CloudWatch Logs: long lines and a full log group', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    t = await startTestServer({ logGroupLimitMb: 2 });
    logs = logsClientFor(t.url);
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  /** Every event of a group, page by page (a page holds at most 1 MB, as on AWS). */
  const allEvents = async (group: string) => {
    await t.server.services.logs.flush();
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ logGroupName: group, nextToken }));
      out.push(...(page.events ?? []).map((e) => e.message ?? ''));
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };
  /** `e.lines` lines of 100 KB: past the 200 KB or so the runtime's socket to Versa holds at once. */
  const FLOOD =
    'exports.handler = async (e) => { for (let i = 0; i < e.lines; i++) console.log(e.n + ":" + "x".repeat(100_000)); return e.n; };\n';
  const numbered = (messages: string[]) => messages.map((m) => /\t(\d+):x+$/.exec(m)?.[1]).filter((n) => n !== undefined);

  it('GetLogEvents and FilterLogEvents answer at most 1 MB of events a page, as AWS does, and page through the rest', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'big-events' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'big-events', logStreamName: 's' }));
    const now = t.server.services.clock.now();
    const logEvents = Array.from({ length: 10 }, (_, i) => ({ timestamp: now - 10 + i, message: `${i}:${'y'.repeat(200_000)}` }));
    // PutLogEvents takes 1 MB a call: five calls of two.
    for (let i = 0; i < 10; i += 2) {
      await logs.send(new PutLogEventsCommand({ logGroupName: 'big-events', logStreamName: 's', logEvents: logEvents.slice(i, i + 2) }));
    }
    const bytes = (events: { message?: string }[]) => events.reduce((n, e) => n + Buffer.byteLength(e.message ?? '') + 26, 0);
    const first = await logs.send(new GetLogEventsCommand({ logGroupName: 'big-events', logStreamName: 's', startFromHead: true }));
    assert.equal(first.events?.length, 5);
    assert.ok(bytes(first.events ?? []) <= 1_048_576);
    const second = await logs.send(
      new GetLogEventsCommand({ logGroupName: 'big-events', logStreamName: 's', nextToken: first.nextForwardToken }),
    );
    assert.deepEqual(
      second.events?.map((e) => e.message?.split(':')[0]),
      ['5', '6', '7', '8', '9'],
    );
    // From the tail (the default): the newest that fit, in time order.
    const tail = await logs.send(new GetLogEventsCommand({ logGroupName: 'big-events', logStreamName: 's' }));
    assert.deepEqual(
      tail.events?.map((e) => e.message?.split(':')[0]),
      ['5', '6', '7', '8', '9'],
    );
    const pages: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await logs.send(new FilterLogEventsCommand({ logGroupName: 'big-events', nextToken }));
      assert.ok(bytes(page.events ?? []) <= 1_048_576);
      pages.push(page.events?.length ?? 0);
      nextToken = page.nextToken;
    } while (nextToken);
    assert.deepEqual(pages, [5, 5]);
  });

  it('a function that prints more than its socket holds gets every line whole, the last invocation’s too', async () => {
    await createFunction(t.lambda, 'long-lines', { 'index.js': FLOOD });
    // 1.6 MB in all, within the group's limit.
    for (let n = 0; n < 2; n++) assert.equal((await invoke(t.lambda, 'long-lines', { n, lines: 8 })).payload, n);
    let lines: string[] = [];
    // The lines are in the socket before the answer; the server may read the last of them just after.
    await waitFor('every line', async () => {
      lines = numbered(await allEvents('/aws/lambda/long-lines'));
      return lines.length >= 16;
    });
    assert.deepEqual(lines.sort(), [...Array<string>(8).fill('0'), ...Array<string>(8).fill('1')]);
    const fragments = (await allEvents('/aws/lambda/long-lines')).filter((m) => m.startsWith('x'));
    assert.deepEqual(fragments, [], 'no line was cut in two');
  });

  it('a function that floods its log group (--log-group-limit-mb 2) keeps its newest 2 MiB or so: the oldest events go, the latest stay', async () => {
    // Twenty invocations of 300 KB: three times the limit.
    await createFunction(t.lambda, 'flood', { 'index.js': FLOOD });
    for (let n = 0; n < 20; n++) assert.equal((await invoke(t.lambda, 'flood', { n, lines: 3 })).payload, n);
    let kept = new Set<string>();
    await waitFor("the last invocation's lines", async () => {
      kept = new Set(numbered(await allEvents('/aws/lambda/flood')));
      return kept.has('19');
    });
    const group = (await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/flood' }))).logGroups![0]!;
    // A check runs after each eighth of the limit written; what came since the last one may still be there.
    assert.ok(group.storedBytes! <= 2.25 * 1024 * 1024, `the group holds ${group.storedBytes} bytes`);
    assert.ok(!kept.has('0') && !kept.has('1'), `the first invocations' lines are gone: ${[...kept].join(',')}`);
  });
});

describe('CloudWatch Logs: events crowded into one millisecond', () => {
  let t: TestServer;
  let logs: CloudWatchLogsClient;
  before(async () => {
    t = await startTestServer();
    logs = logsClientFor(t.url);
  });
  after(async () => {
    logs.destroy();
    await t.close();
  });

  it('FilterLogEvents and GetLogEvents page through 100,000 events of one millisecond: each once, in few calls, never holding the server for long', async () => {
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'crowd' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'crowd', logStreamName: 's' }));
    const at = t.server.services.clock.now() - 60_000;
    const total = 100_000;
    for (let batch = 0; batch < total / 10_000; batch++) {
      const logEvents = Array.from({ length: 10_000 }, (_, i) => ({ timestamp: at, message: `e${batch * 10_000 + i}` }));
      await logs.send(new PutLogEventsCommand({ logGroupName: 'crowd', logStreamName: 's', logEvents }));
    }
    // The longest the event loop of this process (the server's, and the client's) went without a turn.
    let longest = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      longest = Math.max(longest, performance.now() - last);
      last = performance.now();
    }, 2);
    const started = performance.now();
    try {
      const filtered: string[] = [];
      let filterCalls = 0;
      for (let nextToken: string | undefined; filterCalls === 0 || nextToken; filterCalls++) {
        // Each answer holds up to 10,000 events (1 MB): ten calls, more on a busy machine.
        assert.ok(filterCalls < 40, `FilterLogEvents had ${filtered.length} events after ${filterCalls} calls`);
        const page = await logs.send(new FilterLogEventsCommand({ logGroupName: 'crowd', nextToken }));
        filtered.push(...(page.events ?? []).map((e) => e.message ?? ''));
        nextToken = page.nextToken;
      }
      const filterMs = performance.now() - started;
      const read: string[] = [];
      let getCalls = 0;
      for (let nextToken: string | undefined, previous: string | undefined; ; getCalls++) {
        assert.ok(getCalls < 40, `GetLogEvents had ${read.length} events after ${getCalls} calls`);
        const page = await logs.send(
          new GetLogEventsCommand({ logGroupName: 'crowd', logStreamName: 's', startFromHead: true, nextToken }),
        );
        read.push(...(page.events ?? []).map((e) => e.message ?? ''));
        if (page.nextForwardToken === previous) break;
        previous = nextToken = page.nextForwardToken;
      }
      console.log(
        `# 100,000 events of one millisecond: FilterLogEvents ${filterCalls} calls in ${filterMs.toFixed(0)} ms, GetLogEvents ${getCalls} calls in ` +
          `${(performance.now() - started - filterMs).toFixed(0)} ms; the event loop held ${longest.toFixed(0)} ms at most`,
      );
      const expected = Array.from({ length: total }, (_, i) => `e${i}`);
      assert.deepEqual(filtered, expected, 'FilterLogEvents gives every event once, in order');
      assert.deepEqual(read, expected, 'GetLogEvents gives every event once, in order');
      // Each read of a hundred events took in every chunk of the millisecond: 61 and 66 calls of half a
      // second's reading, 34 and 36 s (600,000 events: 2,600 of them in 30 s, the event loop held for 7 s).
      assert.ok(filterMs < 20_000, `FilterLogEvents took ${filterMs.toFixed(0)} ms`);
      assert.ok(performance.now() - started - filterMs < 20_000, 'GetLogEvents took over 20 s');
      assert.ok(longest < 1000, `the event loop was held ${longest.toFixed(0)} ms`);
    } finally {
      clearInterval(ticker);
    }
  });
});
