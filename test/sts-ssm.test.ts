/**
 * STS and SSM Parameter Store through the AWS SDK v3 and boto3: who the caller is, temporary
 * credentials and their bounds, and parameters with versions, selectors, paths and a restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { errorOf, startTestServer, type TestServer } from './harness.js';
import { awsToolEnv, runTool } from './tools.js';

const KEY = { accessKeyId: 'test', secretAccessKey: 'test' };
let t: TestServer;
let sts: STSClient;
let ssm: SSMClient;

before(async () => {
  t = await startTestServer();
  sts = new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
  ssm = new SSMClient({ endpoint: t.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
});
after(async () => {
  sts.destroy();
  ssm.destroy();
  await t.close();
});

describe('STS', () => {
  it('GetCallerIdentity names the account root for an operator key', async () => {
    const me = await sts.send(new GetCallerIdentityCommand({}));
    assert.deepEqual([me.Account, me.Arn, me.UserId], ['000000000000', 'arn:aws:iam::000000000000:root', '000000000000']);
  });

  it('AssumeRole: credentials for the asked duration (default one hour), and the bounds of DurationSeconds and RoleArn', async () => {
    const role = 'arn:aws:iam::000000000000:role/cdk-hnb659fds-file-publishing-role-000000000000-us-east-1';
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'aws-cdk-user' }));
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(ttl > 3_500_000 && ttl <= 3_600_000, `${ttl}`);
    assert.match(out.Credentials!.SecretAccessKey!, /\S{20,}/);
    assert.match(out.Credentials!.SessionToken!, /\S{20,}/);
    assert.equal(out.AssumedRoleUser!.Arn, `arn:aws:sts::000000000000:assumed-role/${role.split('/')[1]}/aws-cdk-user`);
    const long = await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 's1', DurationSeconds: 43_200 }));
    assert.ok(long.Credentials!.Expiration!.getTime() - Date.now() > 43_000_000);
    for (const [duration, pattern] of [
      [899, /greater than or equal to 900/],
      [43_201, /less than or equal to 43200/],
    ] as const) {
      const err = await errorOf(() => sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 's1', DurationSeconds: duration })));
      assert.equal(err.name, 'ValidationError');
      assert.match(err.message, pattern);
    }
    const badArn = await errorOf(() =>
      sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:s3:::not-a-role-at-all', RoleSessionName: 's1' })),
    );
    assert.equal(badArn.name, 'ValidationError');
  });

  it("AssumeRole: its other inputs within STS's bounds, and a session policy a JSON document of at most 2,048 characters", async () => {
    const assume = (extra: Partial<AssumeRoleCommandInput>) =>
      sts.send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::000000000000:role/r', RoleSessionName: 'ss', ...extra }));
    const policy = (sid: string) =>
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: sid, Effect: 'Allow', Action: '*', Resource: '*' }] });
    const refused: [Partial<AssumeRoleCommandInput>, RegExp][] = [
      [{ Policy: 'x' }, /JSON policy document/],
      [{ Policy: policy('s'.repeat(2048)) }, /'policy'.*2048/],
      [{ PolicyArns: Array.from({ length: 11 }, (_, i) => ({ arn: `arn:aws:iam::aws:policy/p${i}` })) }, /'policyArns'/],
      [{ Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }, /'tags'/],
      [{ TransitiveTagKeys: Array.from({ length: 51 }, (_, i) => `k${i}`) }, /'transitiveTagKeys'/],
      [{ ExternalId: 'x'.repeat(1225) }, /'externalId'/],
      [{ ExternalId: 'a b' }, /'externalId'/],
      [{ SerialNumber: 'x'.repeat(257) }, /'serialNumber'/],
      [{ TokenCode: '12345a' }, /'tokenCode'/],
      [{ SourceIdentity: 'x'.repeat(65) }, /'sourceIdentity'/],
    ];
    for (const [extra, message] of refused) {
      const err = await errorOf(() => assume(extra));
      assert.equal(err.name, 'ValidationError', JSON.stringify(extra).slice(0, 80));
      assert.match(err.message, message);
    }
    const out = await assume({
      Policy: policy('s'),
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      Tags: [{ Key: 'team', Value: 'a' }],
      ExternalId: 'ext-1',
      SourceIdentity: 'ci',
    });
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA/);
  });

  it('GetSessionToken: temporary credentials of the caller', async () => {
    const out = await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
    assert.match(out.Credentials!.AccessKeyId!, /^ASIA/);
    const ttl = out.Credentials!.Expiration!.getTime() - Date.now();
    assert.ok(ttl > 880_000 && ttl <= 900_000, `${ttl}`);
  });

  it('session credentials cannot call GetSessionToken, and chain roles for an hour at most, as on AWS', async () => {
    const first = (await sts.send(new GetSessionTokenCommand({ DurationSeconds: 900 }))).Credentials!;
    const asSession = new STSClient({
      endpoint: t.url,
      region: 'us-east-1',
      credentials: { accessKeyId: first.AccessKeyId!, secretAccessKey: first.SecretAccessKey!, sessionToken: first.SessionToken! },
      maxAttempts: 1,
    });
    try {
      const denied = await errorOf(() => asSession.send(new GetSessionTokenCommand({})));
      assert.equal(denied.name, 'AccessDenied');
      assert.equal(denied.$metadata?.httpStatusCode, 403);
      assert.equal(denied.message, 'Cannot call GetSessionToken with session credentials');
      const role = 'arn:aws:iam::000000000000:role/chained';
      const long = await errorOf(() =>
        asSession.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'chain', DurationSeconds: 7200 })),
      );
      assert.equal(long.name, 'ValidationError');
      assert.match(long.message, /1 hour session limit for roles assumed by role chaining/);
      const chained = await asSession.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'chain' }));
      assert.match(chained.Credentials!.AccessKeyId!, /^ASIA/);
    } finally {
      asSession.destroy();
    }
  });

  it('a temporary key of the shape Versa mints that it no longer knows is refused, not served as the root; a foreign one is "any key"', async () => {
    const as = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
      new STSClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const role = 'arn:aws:iam::000000000000:role/deployer';
    const issued = (await sts.send(new AssumeRoleCommand({ RoleArn: role, RoleSessionName: 'cdk' }))).Credentials!;
    const live = as({ accessKeyId: issued.AccessKeyId!, secretAccessKey: issued.SecretAccessKey!, sessionToken: issued.SessionToken! });
    assert.equal((await live.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:sts::000000000000:assumed-role/deployer/cdk');
    // One that ended (expired, or evicted by others' sessions) is, to Versa, one it does not know.
    const ended = as({ accessKeyId: 'ASIA0123456789ABCDEF', secretAccessKey: 'x', sessionToken: Buffer.alloc(48, 7).toString('base64') });
    const refused = await errorOf(() => ended.send(new GetCallerIdentityCommand({})));
    assert.equal(refused.name, 'InvalidClientTokenId');
    assert.equal(refused.$metadata?.httpStatusCode, 403);
    // A developer's AWS session credentials (a base32 id, a long token) still pass as any key does.
    const foreign = as({ accessKeyId: 'ASIAZ2X7QW3ERTY4UIOP', secretAccessKey: 'x', sessionToken: `IQoJb3JpZ2luX2Vj${'A'.repeat(600)}` });
    assert.equal((await foreign.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:iam::000000000000:root');
    for (const client of [live, ended, foreign]) client.destroy();
  });

  it('the AWS CLI reads the same identity', async () => {
    const out = await runTool(
      'aws',
      ['--endpoint-url', t.url, '--output', 'json', 'sts', 'get-caller-identity'],
      awsToolEnv('/nonexistent'),
    );
    assert.equal(out.code, 0, out.stderr);
    assert.equal((JSON.parse(out.stdout) as { Account: string }).Account, '000000000000');
  });
});

describe('SSM Parameter Store', () => {
  it('PutParameter versions a parameter; Overwrite is needed to change it; GetParameter reads a version by selector', async () => {
    const name = '/cdk-bootstrap/hnb659fds/version';
    assert.equal((await ssm.send(new PutParameterCommand({ Name: name, Value: '20', Type: 'String' }))).Version, 1);
    const again = await errorOf(() => ssm.send(new PutParameterCommand({ Name: name, Value: '21', Type: 'String' })));
    assert.equal(again.name, 'ParameterAlreadyExists');
    assert.equal((await ssm.send(new PutParameterCommand({ Name: name, Value: '21', Overwrite: true }))).Version, 2);
    const current = (await ssm.send(new GetParameterCommand({ Name: name }))).Parameter!;
    assert.deepEqual([current.Value, current.Version, current.Type], ['21', 2, 'String']);
    assert.equal(current.ARN, 'arn:aws:ssm:us-east-1:000000000000:parameter/cdk-bootstrap/hnb659fds/version');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: `${name}:1` }))).Parameter!.Value, '20');
    assert.equal((await errorOf(() => ssm.send(new GetParameterCommand({ Name: `${name}:9` })))).name, 'ParameterVersionNotFound');
    assert.equal((await errorOf(() => ssm.send(new GetParameterCommand({ Name: '/missing' })))).name, 'ParameterNotFound');
    const noType = await errorOf(() => ssm.send(new PutParameterCommand({ Name: '/typeless', Value: 'x' })));
    assert.equal(noType.name, 'ValidationException');
    const reserved = await errorOf(() => ssm.send(new PutParameterCommand({ Name: '/aws/reserved', Value: 'x', Type: 'String' })));
    assert.equal(reserved.name, 'ValidationException');
  });

  it('StringList and SecureString: a SecureString shows its value only WithDecryption', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/app/list', Value: 'a,b,c', Type: 'StringList' }));
    await ssm.send(new PutParameterCommand({ Name: '/app/secret', Value: 'hunter2', Type: 'SecureString' }));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/app/list' }))).Parameter!.Type, 'StringList');
    const hidden = (await ssm.send(new GetParameterCommand({ Name: '/app/secret' }))).Parameter!;
    assert.equal(hidden.Type, 'SecureString');
    assert.notEqual(hidden.Value, 'hunter2');
    assert.ok(!hidden.Value!.includes('hunter2'));
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/app/secret', WithDecryption: true }))).Parameter!.Value, 'hunter2');
  });

  it('GetParameters lists what it did not find; GetParametersByPath pages one level or all; DeleteParameter', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/tree/a', Value: '1', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/tree/b', Value: '2', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/tree/deep/c', Value: '3', Type: 'String' }));
    const some = await ssm.send(new GetParametersCommand({ Names: ['/tree/a', '/tree/nope', '/tree/b'] }));
    assert.deepEqual(some.Parameters!.map((p) => p.Name).sort(), ['/tree/a', '/tree/b']);
    assert.deepEqual(some.InvalidParameters, ['/tree/nope']);
    const level = await ssm.send(new GetParametersByPathCommand({ Path: '/tree' }));
    assert.deepEqual(
      level.Parameters!.map((p) => p.Name),
      ['/tree/a', '/tree/b'],
    );
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await ssm.send(new GetParametersByPathCommand({ Path: '/tree/', Recursive: true, MaxResults: 2, NextToken: token }));
      names.push(...page.Parameters!.map((p) => p.Name!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(names, ['/tree/a', '/tree/b', '/tree/deep/c']);
    // One level, a page at a time, with the deeper one between them skipped.
    const first = await ssm.send(new GetParametersByPathCommand({ Path: '/tree', MaxResults: 1 }));
    const second = await ssm.send(new GetParametersByPathCommand({ Path: '/tree', MaxResults: 1, NextToken: first.NextToken }));
    assert.deepEqual([first.Parameters?.[0]?.Name, second.Parameters?.[0]?.Name, second.NextToken], ['/tree/a', '/tree/b', undefined]);
    const bad = await errorOf(() => ssm.send(new GetParametersByPathCommand({ Path: '/tree', NextToken: '!!' })));
    assert.equal(bad.name, 'InvalidNextToken');
    await ssm.send(new DeleteParameterCommand({ Name: '/tree/a' }));
    assert.equal((await errorOf(() => ssm.send(new DeleteParameterCommand({ Name: '/tree/a' })))).name, 'ParameterNotFound');
  });

  it('parameters survive a restart', async () => {
    await ssm.send(new PutParameterCommand({ Name: 'durable', Value: 'kept', Type: 'String' }));
    await t.restart();
    const again = new SSMClient({ endpoint: t.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
    try {
      assert.equal((await again.send(new GetParameterCommand({ Name: 'durable' }))).Parameter!.Value, 'kept');
    } finally {
      again.destroy();
    }
    ssm.destroy();
    sts.destroy();
    ssm = new SSMClient({ endpoint: t.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
    sts = new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: KEY, maxAttempts: 1 });
  });

  it('boto3 reads a parameter the SDK wrote', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/boto/p', Value: 'from-sdk', Type: 'String' }));
    const script = `import boto3, sys\nprint(boto3.client('ssm', endpoint_url=sys.argv[1], region_name='us-east-1').get_parameter(Name='/boto/p')['Parameter']['Value'])`;
    const out = await runTool('python3', ['-c', script, t.url], awsToolEnv('/nonexistent'));
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'from-sdk');
  });

  it('GetParametersByPath applies a Type filter, and refuses a filter it would not apply instead of answering every parameter', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/filtered/plain', Value: 'p', Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: '/filtered/secret', Value: 's', Type: 'SecureString' }));
    const byType = await ssm.send(
      new GetParametersByPathCommand({ Path: '/filtered', ParameterFilters: [{ Key: 'Type', Option: 'Equals', Values: ['String'] }] }),
    );
    assert.deepEqual(
      byType.Parameters?.map((p) => p.Name),
      ['/filtered/plain'],
    );
    const other = await errorOf(() =>
      ssm.send(new GetParametersByPathCommand({ Path: '/filtered', ParameterFilters: [{ Key: 'KeyId', Values: ['alias/aws/ssm'] }] })),
    );
    assert.equal(other.name, 'ValidationException');
  });

  it('AllowedPattern: a value it does not match whole is ParameterPatternMismatchException and is not stored; a non-pattern is refused', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/pattern/n', Value: '42', Type: 'String', AllowedPattern: '^\\d+$' }));
    const refused = async (Value: string, AllowedPattern: string, name: string) => {
      const e = await errorOf(() =>
        ssm.send(new PutParameterCommand({ Name: '/pattern/n', Value, Type: 'String', Overwrite: true, AllowedPattern })),
      );
      assert.equal(e.name, name, `${AllowedPattern} against ${Value.slice(0, 20)}`);
      assert.equal(e.$metadata?.httpStatusCode, 400);
    };
    await refused('4x2', '^\\d+$', 'ParameterPatternMismatchException');
    // A pattern that backtracks for hours on V8's usual engine answers at once.
    await refused(`${'a'.repeat(4000)}!`, '^(a+)+$', 'ParameterPatternMismatchException');
    await refused('1', '((', 'ValidationException');
    assert.equal((await ssm.send(new GetParameterCommand({ Name: '/pattern/n' }))).Parameter?.Value, '42');
  });

  it('a Description past 1,024 characters or an unknown DataType is refused, and the parameter is as it was', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/bounded', Value: 'v1', Type: 'String', Description: 'first' }));
    for (const over of [{ Description: 'd'.repeat(1025) }, { DataType: 'TEXT' }]) {
      const e = await errorOf(() => ssm.send(new PutParameterCommand({ Name: '/bounded', Value: 'v2', Overwrite: true, ...over })));
      assert.equal(e.name, 'ValidationException');
      assert.equal(e.$metadata?.httpStatusCode, 400);
    }
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/bounded' }));
    assert.deepEqual([Parameter?.Value, Parameter?.Version, Parameter?.DataType], ['v1', 1, 'text']);
    await ssm.send(
      new PutParameterCommand({ Name: '/bounded', Value: 'v2', Overwrite: true, DataType: 'aws:ec2:image', Description: 'd'.repeat(1024) }),
    );
  });

  it('at most 10,000 parameters: the next is ParameterLimitExceeded, one deleted makes room, and an existing one can still change', async () => {
    // The file's earlier tests made a few; this makes the rest, until the limit answers.
    let made = 0;
    let named = 0;
    let full = false;
    const worker = async () => {
      while (!full && named < 10_050) {
        const name = `/many/p${++named}`;
        try {
          await ssm.send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'String' }));
          made++;
        } catch (e) {
          assert.equal((e as Error).name, 'ParameterLimitExceeded');
          assert.equal((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 400);
          full = true;
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.ok(made > 9_950 && made < 10_000, `made ${made}`);
    const refused = () => errorOf(() => ssm.send(new PutParameterCommand({ Name: '/one-more', Value: 'x', Type: 'String' })));
    assert.equal((await refused()).name, 'ParameterLimitExceeded');
    assert.equal((await errorOf(() => ssm.send(new GetParameterCommand({ Name: '/one-more' })))).name, 'ParameterNotFound');
    await ssm.send(new PutParameterCommand({ Name: '/many/p1', Value: 'changed', Overwrite: true }));
    await ssm.send(new DeleteParameterCommand({ Name: '/many/p2' }));
    await ssm.send(new PutParameterCommand({ Name: '/one-more', Value: 'x', Type: 'String' }));
    assert.equal((await refused()).name, 'ParameterAlreadyExists');
  });
});
