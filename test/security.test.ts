/**
 * Who may change what, tried as an attacker and as a user would: signatures checked with the SDK, boto3
 * and the AWS CLI when credentials are configured; unsigned and foreign-origin requests refused in
 * both modes with nothing changed; foreign Host names refused; functions calling back into Versa with
 * credentials of their own; and a server that answers every request from its first moment.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CloudWatchLogsClient, CreateLogGroupCommand, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CodeDeployClient, ListApplicationsCommand } from '@aws-sdk/client-codedeploy';
import { GetFunctionCommand, InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { s3ClientFor } from './s3-helpers.js';
import { awsToolEnv, runTool } from './tools.js';
import { createFunction, errorOf, payloadOf, ROLE, startTestServer, zipOf, type TestServer } from './harness.js';
import { resolveOptions } from '../src/config/options.js';
import { startServer } from '../src/server/server.js';

const OPS = { accessKeyId: 'AKIDVERSAOPS', secretAccessKey: 'operator-secret' };
const WRONG = { ...OPS, secretAccessKey: 'not-the-secret' };
const OTHER = { accessKeyId: 'AKIDVERSAOTHER', secretAccessKey: 'another-operator-secret' };
const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * A function that calls back into Versa with the SDK, and says what credentials it was given and what it
 * was answered: its own key is recognised as a function's, which may not list functions (function-scope.ts).
 */
const CALLER = {
  'index.mjs': `import { LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
export const handler = async () => {
  const names = await new LambdaClient({}).send(new ListFunctionsCommand({})).then((out) => out.Functions.map((f) => f.FunctionName), (e) => e.name);
  return { names, key: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
};
`,
};

function lambda(url: string, credentials = OPS, extra: Record<string, unknown> = {}): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1, ...extra });
}

function logsClient(url: string): CloudWatchLogsClient {
  return new CloudWatchLogsClient({ endpoint: url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
}

async function names(client: LambdaClient): Promise<string[]> {
  return ((await client.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName!).sort();
}

describe('security: with credentials configured', () => {
  let t: TestServer;
  let scratch: string;
  before(async () => {
    t = await startTestServer({ credentials: [OPS] });
    scratch = await mkdtemp(path.join(tmpdir(), 'versa-security-'));
    await createFunction(lambda(t.url), 'caller', CALLER, { Runtime: 'nodejs20.x', Handler: 'index.handler', Timeout: 30 });
  });
  after(async () => {
    await t?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('SDK v3: the right secret passes; a wrong secret, an unknown key and an expired date each answer as AWS does', async () => {
    assert.deepEqual(await names(lambda(t.url)), ['caller']);
    const wrong = await errorOf(() => lambda(t.url, WRONG).send(new ListFunctionsCommand({})));
    assert.equal(wrong.name, 'InvalidSignatureException');
    assert.equal(wrong.$metadata?.httpStatusCode, 403);
    const unknown = await errorOf(() =>
      lambda(t.url, { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'x' }).send(new ListFunctionsCommand({})),
    );
    assert.equal(unknown.name, 'UnrecognizedClientException');
    assert.equal(unknown.message, 'The security token included in the request is invalid.');
    const late = await errorOf(() => lambda(t.url, OPS, { systemClockOffset: -20 * 60_000 }).send(new ListFunctionsCommand({})));
    assert.equal(late.name, 'InvalidSignatureException');
    assert.match(late.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
  });

  it('SDK v3: JSON-RPC services (CodeDeploy, Logs) refuse a wrong secret with 400 and accept the right one', async () => {
    const codeDeploy = (credentials: typeof OPS) =>
      new CodeDeployClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    assert.deepEqual((await codeDeploy(OPS).send(new ListApplicationsCommand({}))).applications, []);
    const err = await errorOf(() => codeDeploy(WRONG).send(new ListApplicationsCommand({})));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.$metadata?.httpStatusCode, 400);
    const logs = (credentials: typeof OPS) =>
      new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    await logs(OPS).send(new DescribeLogGroupsCommand({}));
    assert.equal((await errorOf(() => logs(WRONG).send(new DescribeLogGroupsCommand({})))).name, 'InvalidSignatureException');
  });

  it('a captured request cannot be made another: an X-Amz-Target its signature does not cover is refused', async () => {
    // Signed over host and x-amz-date only (the body's hash is in the signature), then re-targeted.
    await logsClient(t.url).send(new CreateLogGroupCommand({ logGroupName: 'kept' }));
    const signer = new SignatureV4({ service: 'logs', region: 'us-east-1', credentials: OPS, sha256: Sha256 });
    const { hostname, port, host } = new URL(t.url);
    const body = JSON.stringify({ logGroupName: 'kept' });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: '/',
      query: {},
      headers: { host },
      body,
    });
    const send = (target: string) =>
      fetch(`${t.url}/`, {
        method: 'POST',
        headers: { ...signed.headers, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
        body,
      });
    const retargeted = await send('Logs_20140328.DeleteLogGroup');
    assert.equal(retargeted.status, 400);
    const error = (await retargeted.json()) as { __type: string; message: string };
    assert.equal(error.__type, 'InvalidSignatureException');
    assert.equal(error.message, 'There were headers present in the request which were not signed: x-amz-target.');
    const groups = await logsClient(t.url).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'kept' }));
    assert.deepEqual(
      groups.logGroups?.map((g) => g.logGroupName),
      ['kept'],
    );
  });

  it('S3: a presigned PUT URL uploads its one object, and cannot be made a copy of another with an unsigned x-amz-copy-source', async () => {
    const s3 = s3ClientFor(t.url, 'path', OPS);
    await s3.send(new CreateBucketCommand({ Bucket: 'private' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
    await s3.send(new PutObjectCommand({ Bucket: 'private', Key: 'secret.txt', Body: 'TOP SECRET' }));
    const script = [
      'import sys, boto3',
      'from botocore.config import Config',
      "s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],",
      "  region_name='us-east-1', config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))",
      "print(s3.generate_presigned_url('put_object', Params={'Bucket': 'shared', 'Key': 'upload.txt'}, ExpiresIn=300))",
    ].join('\n');
    const run = await runTool('python3', ['-c', script, t.url, OPS.accessKeyId, OPS.secretAccessKey]);
    assert.equal(run.code, 0, run.stderr);
    const url = run.stdout.trim();
    const copy = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': '/private/secret.txt' }, body: '' });
    assert.equal(copy.status, 403);
    const text = await copy.text();
    assert.match(
      text,
      /<Code>AccessDenied<\/Code><Message>There were headers present in the request which were not signed<\/Message><HeadersNotSigned>x-amz-copy-source<\/HeadersNotSigned>/,
    );
    assert.equal((await errorOf(() => s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'upload.txt' })))).name, 'NoSuchKey');
    const upload = await fetch(url, { method: 'PUT', body: 'uploaded' });
    assert.equal(upload.status, 200, await upload.text());
    const got = await s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'upload.txt' }));
    assert.equal(await got.Body!.transformToString(), 'uploaded');
    s3.destroy();
  });

  it('boto3: the right secret passes and a wrong one fails with InvalidSignatureException', async () => {
    const script = `
import boto3, json, sys
from botocore.config import Config
out = {}
for label, secret in (("right", "${OPS.secretAccessKey}"), ("wrong", "${WRONG.secretAccessKey}")):
    c = boto3.client("lambda", endpoint_url=sys.argv[1], aws_access_key_id="${OPS.accessKeyId}", aws_secret_access_key=secret,
                     region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    try:
        out[label] = [f["FunctionName"] for f in c.list_functions()["Functions"]]
    except c.exceptions.ClientError as e:
        out[label] = e.response["Error"]["Code"]
print(json.dumps(out))
`;
    const r = await runTool('python3', ['-c', script, t.url], awsToolEnv(scratch, OPS));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { right: ['caller'], wrong: 'InvalidSignatureException' });
  });

  it('AWS CLI: the right secret passes; a wrong one exits non-zero saying why', async () => {
    const right = await runTool(
      'aws',
      ['--endpoint-url', t.url, 'lambda', 'list-functions', '--query', 'Functions[].FunctionName', '--output', 'text'],
      awsToolEnv(scratch, OPS),
    );
    assert.equal(right.code, 0, right.stderr);
    assert.equal(right.stdout.trim(), 'caller');
    const wrong = await runTool('aws', ['--endpoint-url', t.url, 'logs', 'describe-log-groups'], awsToolEnv(scratch, WRONG));
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /InvalidSignatureException.*signature we calculated does not match/);
  });

  it('unsigned requests change nothing: a text/plain create and a form-encoded call are refused', async () => {
    const create = await fetch(`${t.url}/2015-03-31/functions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({
        FunctionName: 'planted',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: Buffer.from(zipOf({ 'index.js': '' })).toString('base64') },
      }),
    });
    assert.equal(create.status, 403);
    assert.equal(create.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    const query = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=ListMetrics',
    });
    assert.equal(query.status, 403);
    assert.match(await query.text(), /<Code>MissingAuthenticationToken<\/Code>/);
    assert.deepEqual(await names(lambda(t.url)), ['caller']);
  });

  it("a function calls back into Versa with its own credentials, never the operator's", async () => {
    const out = await lambda(t.url).send(new InvokeCommand({ FunctionName: 'caller' }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    const result = payloadOf(out) as { names: string[] | string; key: string; secret: string };
    // Not UnrecognizedClientException: the server knows the key, as the function's, and scopes it.
    assert.equal(result.names, 'AccessDeniedException');
    assert.match(result.key, /^ASIA[0-9A-F]{16}$/);
    assert.notEqual(result.secret, OPS.secretAccessKey);
  });

  it("Versa's own endpoints: the code download and the change feed need a signature; the page and health do not", async () => {
    const fn = await lambda(t.url).send(new GetFunctionCommand({ FunctionName: 'caller' }));
    const location = new URL(fn.Code!.Location!);
    assert.equal((await fetch(`${t.url}${location.pathname}`)).status, 403);
    assert.equal((await fetch(`${t.url}/_versa/api/events?after=0&wait=0`)).status, 403);
    const signer = new SignatureV4({ service: 'versa', region: 'us-east-1', credentials: OPS, sha256: Sha256 });
    const host = new URL(t.url).host;
    const presigned = await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: location.pathname, query: {}, headers: { host } },
      { expiresIn: 60 },
    );
    const zip = await fetch(`${t.url}${location.pathname}?${new URLSearchParams(presigned.query as Record<string, string>).toString()}`);
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    assert.equal((await fetch(`${t.url}/_versa/`)).status, 200);
    assert.equal((await fetch(`${t.url}/_versa/health`)).status, 200);
    assert.deepEqual(await (await fetch(`${t.url}/_versa/auth`)).json(), { credentials: 'required' });
    assert.equal((await fetch(`${t.url}/_versa/metrics`)).status, 200, 'loopback scrapers need no token');
  });

  it("GetFunction's Code.Location works on its own, as AWS's presigned link does; a changed link does not", async () => {
    const fn = await lambda(t.url).send(new GetFunctionCommand({ FunctionName: 'caller' }));
    const location = new URL(fn.Code!.Location!);
    assert.match(location.search, /^\?versa-expires=\d+&versa-signature=[0-9a-f]{64}$/);
    const zip = await fetch(location);
    assert.equal(zip.status, 200);
    assert.equal(
      Buffer.from(await zip.arrayBuffer())
        .subarray(0, 2)
        .toString(),
      'PK',
    );
    const forged = new URL(location);
    forged.searchParams.set('versa-expires', String(Number(location.searchParams.get('versa-expires')) + 3600));
    assert.equal((await fetch(forged)).status, 403);
    const other = new URL(location.href.replace(/code\/[0-9a-f]{64}/, `code/${'0'.repeat(64)}`));
    assert.equal((await fetch(other)).status, 403);
  });
});

describe('security: without credentials (a loopback developer tool)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ corsOrigins: 'http://app.example:8080' });
    await createFunction(lambda(t.url, { accessKeyId: 'any', secretAccessKey: 'thing' }), 'caller', CALLER, { Timeout: 30 });
  });
  after(() => t?.close());

  it('any key is accepted, but an unsigned or half-signed request is not, and changes nothing', async () => {
    assert.deepEqual(await names(lambda(t.url, { accessKeyId: 'whoever', secretAccessKey: 'whatever' })), ['caller']);
    const alias = await fetch(`${t.url}/2015-03-31/functions/caller/aliases`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ Name: 'live', FunctionVersion: '$LATEST' }),
    });
    assert.equal(alias.status, 403);
    const garbage = await fetch(`${t.url}/2015-03-31/functions/caller/invocations`, {
      method: 'POST',
      headers: { authorization: 'garbage' },
      body: '{}',
    });
    assert.equal(garbage.status, 403);
    assert.equal(garbage.headers.get('x-amzn-errortype'), 'IncompleteSignatureException');
    // A signature that does not cover the host could be replayed at any other server that takes the key.
    const hostless = await fetch(`${t.url}/2015-03-31/functions/caller/invocations`, {
      method: 'POST',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=whoever/20261207/us-east-1/lambda/aws4_request, SignedHeaders=x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': '20261207T000000Z',
      },
      body: '{}',
    });
    assert.equal(hostless.status, 403);
    assert.equal(hostless.headers.get('x-amzn-errortype'), 'IncompleteSignatureException');
    assert.match(await hostless.text(), /'Host' or ':authority' must be a 'SignedHeader'/);
    const logs = await fetch(t.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Logs_20140328.CreateLogGroup', 'content-type': 'application/x-amz-json-1.1' },
      body: '{"logGroupName":"planted"}',
    });
    assert.equal(logs.status, 400);
    assert.equal(((await logs.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
    const groups = await new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials: OPS }).send(
      new DescribeLogGroupsCommand({}),
    );
    assert.equal(
      groups.logGroups?.some((g) => g.logGroupName === 'planted'),
      false,
    );
  });

  it("a function calls back into Versa with the SDK, and its key is still known as a function's", async () => {
    const out = await lambda(t.url).send(new InvokeCommand({ FunctionName: 'caller' }));
    assert.equal((payloadOf(out) as { names: string[] | string }).names, 'AccessDeniedException');
  });

  it('a foreign Host is refused before any work; loopback names and execute-api hosts are served', async () => {
    const port = new URL(t.url).port;
    const ask = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () =>
          socket.write(`GET /_versa/health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`),
        );
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1])));
        socket.on('error', reject);
      });
    assert.equal(await ask('attacker.example'), 403);
    assert.equal(await ask(`attacker.example:${port}`), 403);
    assert.equal(await ask(`localhost:${port}`), 200);
    assert.equal(await ask(`127.0.0.1:${port}`), 200);
  });

  it('CORS: an allowed origin gets its preflight answered and can read answers; any other origin is refused', async () => {
    const preflight = await fetch(`${t.url}/2015-03-31/functions/`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example:8080',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,x-amz-date',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://app.example:8080');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization,x-amz-date');
    const other = await fetch(`${t.url}/2015-03-31/functions/`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: OPS, sha256: Sha256 });
    const host = new URL(t.url).host;
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: '/2015-03-31/functions/',
      query: {},
      headers: { host },
    });
    const { host: _h, ...headers } = signed.headers;
    const read = await fetch(`${t.url}/2015-03-31/functions/`, { headers: { ...headers, origin: 'http://app.example:8080' } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), 'http://app.example:8080');
    const foreign = await fetch(`${t.url}/2015-03-31/functions/`, { headers: { ...headers, origin: 'http://evil.example' } });
    assert.equal(foreign.status, 403);
  });

  it("Versa's own endpoints answer only Versa's own pages", async () => {
    const foreign = await fetch(`${t.url}/_versa/api/stacks/planted`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    assert.equal(foreign.status, 403);
    const crossSite = await fetch(`${t.url}/_versa/api/events?after=0&wait=0`, { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(crossSite.status, 403);
    const same = await fetch(`${t.url}/_versa/api/events?after=0&wait=0`, { headers: { origin: t.url, 'sec-fetch-site': 'same-origin' } });
    assert.equal(same.status, 200);
    const page = await fetch(`${t.url}/_versa/`);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    // Its own build's scripts only (not anything else of its origin, where functions may put bytes).
    const policy = page.headers.get('content-security-policy') ?? '';
    const assets = `${t.url}/_versa/assets/`;
    for (const directive of [
      `script-src ${assets}`,
      `style-src ${assets}`,
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
    ]) {
      assert.ok(policy.split('; ').includes(directive), `${directive} in ${policy}`);
    }
    const list = (await (await fetch(`${t.url}/_versa/api/stacks`)).json()) as { stacks: unknown[] };
    assert.deepEqual(list.stacks, []);
  });
});

describe('security: versa start', () => {
  it('refuses to listen on every interface without credentials, in a plain sentence', async () => {
    const r = await runTool(process.execPath, [path.join(ROOT, 'bin/versa.js'), 'start', '--host', '0.0.0.0', '--port', '0'], {
      ...process.env,
      VERSA_ACCESS_KEY_ID: '',
      VERSA_SECRET_ACCESS_KEY: '',
    });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^versa: refusing to listen on 0\.0\.0\.0 without credentials.*VERSA_ACCESS_KEY_ID.*--credentials FILE/);
  });

  it('with credentials it listens on every interface and says so; a request during start-up never hangs', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-start-'));
    const credentials = path.join(dataDir, 'credentials');
    await writeFile(credentials, `[ops]\naws_access_key_id = ${OPS.accessKeyId}\naws_secret_access_key = ${OPS.secretAccessKey}\n`);
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin/versa.js'),
        'start',
        '--host',
        '0.0.0.0',
        '--port',
        String(port),
        '--data-dir',
        dataDir,
        '--credentials',
        credentials,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let banner = '';
    child.stdout.on('data', (d: Buffer) => (banner += d.toString()));
    try {
      // Knock from the moment the process starts: every connection that is accepted must be answered.
      const answers: number[] = [];
      const until = Date.now() + 15_000;
      while (Date.now() < until && !banner.includes('ready')) {
        const status = await fetch(`http://127.0.0.1:${port}/_versa/health`, { signal: AbortSignal.timeout(5_000) }).then(
          (res) => res.status,
          (err: Error) => (err.name === 'TimeoutError' ? -1 : 0),
        );
        if (status !== 0) answers.push(status);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.match(banner, /listening on: 0\.0\.0\.0:\d+ \(every interface\)/);
      assert.match(banner, /credentials: 1 access key; every request must be signed/);
      assert.match(banner, /WARNING: the secret of AKIDVERSAOPS has only 15 characters; whoever can reach this server may guess at it/);
      assert.equal(answers.includes(-1), false, 'a request accepted during start-up was never answered');
      assert.equal((await fetch(`http://127.0.0.1:${port}/_versa/health`)).status, 200);
      assert.deepEqual(await names(lambda(`http://127.0.0.1:${port}`)), []);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('security: guessing a secret', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ credentials: [OPS, OTHER] });
  });
  after(() => t?.close());

  /** A client whose connections come from another loopback address (which any process on the machine may bind). */
  const from = (address: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = OPS) =>
    lambda(t.url, credentials, { requestHandler: { httpAgent: new Agent({ localAddress: address }) } });

  it('past 30 wrong signatures for a key in a minute, this machine (any loopback address) is refused that key unchecked, the right secret too; other keys and keys Versa minted are not', async () => {
    // A temporary key, minted before the guessing: its secret is Versa's random one, and it stays usable.
    const sts = new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    const { Credentials } = await sts.send(new GetSessionTokenCommand({}));
    const temporary = {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    };
    // Unknown keys are answered as ever, and shut nothing out (as on AWS, a key id is not a secret).
    const unknown = from('127.0.0.3', { accessKeyId: 'AKIDMADEUP', secretAccessKey: 'x' });
    for (let i = 0; i < 40; i++) assert.equal((await errorOf(() => names(unknown))).name, 'UnrecognizedClientException');
    assert.deepEqual(await names(from('127.0.0.3')), []);
    const guesser = from('127.0.0.2', WRONG);
    for (let i = 0; i < 30; i++) assert.equal((await errorOf(() => names(guesser))).name, 'InvalidSignatureException');
    for (const address of ['127.0.0.2', '127.0.0.9', '127.0.0.1']) {
      const e = await errorOf(() => names(from(address)));
      assert.deepEqual([e.name, e.$metadata?.httpStatusCode], ['ThrottlingException', 429], address);
      assert.match(
        e.message,
        /^Too many requests with a wrong signature for this access key came from this address: its requests with this key are refused for \d+ more seconds\.$/,
      );
    }
    // Each protocol says so in its words.
    const codedeploy = new CodeDeployClient({ endpoint: t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    const json = await errorOf(() => codedeploy.send(new ListApplicationsCommand({})));
    assert.deepEqual([json.name, json.$metadata?.httpStatusCode], ['ThrottlingException', 400]);
    const s3 = new S3Client({ endpoint: t.url, region: 'us-east-1', credentials: OPS, forcePathStyle: true, maxAttempts: 1 });
    const xml = await errorOf(() => s3.send(new ListBucketsCommand({})));
    assert.deepEqual([xml.name, xml.$metadata?.httpStatusCode], ['SlowDown', 503]);
    // Another operator key, and a minted one, are checked and answered.
    assert.deepEqual(await names(from('127.0.0.2', OTHER)), []);
    assert.deepEqual(await names(from('127.0.0.2', temporary)), []);
    for (const c of [sts, guesser, unknown, codedeploy, s3]) c.destroy();
  });
});

describe('security: the data directory', () => {
  it("is made, or closed if it was open, to everyone but the server's user: it holds every function's variables", async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'versa-datadir-'));
    try {
      const made = path.join(parent, 'new', 'data');
      const existing = path.join(parent, 'existing');
      await mkdir(existing, { mode: 0o755 });
      await chmod(existing, 0o755);
      for (const dataDir of [made, existing]) {
        const server = await startServer(resolveOptions({ logLevel: 'error', port: 0, dataDir, sandbox: 'off' }, {}, {}));
        await server.close();
        assert.equal((await stat(dataDir)).mode & 0o777, 0o700, dataDir);
      }
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
