/**
 * The Lambda control plane driven by the tools people actually type: the AWS CLI v1 (`aws --endpoint-url`)
 * and boto3, both against a real Versa server.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsToolEnv, runTool } from './tools.js';
import { ROLE, startTestServer, zipOf, type TestServer } from './harness.js';

const ARN_PREFIX = 'arn:aws:lambda:us-east-1:000000000000:function:';

const available = async (command: string, args: string[]) => {
  try {
    return (await runTool(command, args, process.env)).code === 0;
  } catch {
    return false;
  }
};
const hasAwsCli = await available('aws', ['--version']);
const hasBoto3 = await available('python3', ['-c', 'import boto3']);

/** A python3.12 package whose handler logs a line and returns `text`. */
const handlerZip = (text: string) =>
  zipOf({ 'app.py': `def handler(event, context):\n    print("handling", event)\n    return ${JSON.stringify(text)}\n` });
const sha256 = (zip: Uint8Array) => createHash('sha256').update(zip).digest('base64');

describe('AWS CLI v1 against Versa', { skip: !hasAwsCli && 'the aws CLI is not installed' }, () => {
  let t: TestServer;
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const fn = 'cli-fn';
  const zip1 = handlerZip('hello from v1');
  const zip2 = handlerZip('hello from v2');
  const aws = (...args: string[]) => runTool('aws', ['--endpoint-url', t.url, '--output', 'json', 'lambda', ...args], env);
  /** Runs a CLI command that must succeed and returns its JSON output. */
  const awsJson = async (...args: string[]) => {
    const out = await aws(...args);
    assert.equal(out.code, 0, `aws lambda ${args[0]} failed: ${out.stderr}`);
    return JSON.parse(out.stdout) as Record<string, unknown>;
  };

  before(async () => {
    t = await startTestServer();
    scratch = await mkdtemp(path.join(tmpdir(), 'versa-cli-'));
    env = awsToolEnv(scratch);
    await writeFile(path.join(scratch, 'v1.zip'), zip1);
    await writeFile(path.join(scratch, 'v2.zip'), zip2);
  });
  after(async () => {
    await t.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('create-function: creates a python3.12 function from a fileb:// zip', async () => {
    const out = await awsJson(
      'create-function',
      '--function-name',
      fn,
      '--runtime',
      'python3.12',
      '--handler',
      'app.handler',
      '--role',
      ROLE,
      '--zip-file',
      `fileb://${path.join(scratch, 'v1.zip')}`,
    );
    assert.equal(out.FunctionName, fn);
    assert.equal(out.FunctionArn, `${ARN_PREFIX}${fn}`);
    assert.equal(out.Runtime, 'python3.12');
    assert.equal(out.CodeSha256, sha256(zip1));
    assert.equal(out.Version, '$LATEST');
    const got = await awsJson('get-function', '--function-name', fn);
    assert.equal((got.Configuration as Record<string, unknown>).State, 'Active');
  });

  it('invoke --log-type Tail: writes the result to the outfile and returns the log tail', async () => {
    const outfile = path.join(scratch, 'out.json');
    const out = await awsJson('invoke', '--function-name', fn, '--payload', '{"from":"cli"}', '--log-type', 'Tail', outfile);
    assert.equal(out.StatusCode, 200);
    assert.equal(out.ExecutedVersion, '$LATEST');
    assert.equal(out.FunctionError, undefined);
    assert.equal(await readFile(outfile, 'utf8'), '"hello from v1"');
    const log = Buffer.from(String(out.LogResult), 'base64').toString('utf8');
    assert.match(log, /START RequestId: \S+ Version: \$LATEST/);
    assert.match(log, /handling \{'from': 'cli'\}/);
    assert.match(log, /END RequestId: /);
    assert.match(log, /REPORT RequestId: /);
  });

  it('publish-version: publishes version 1, then version 2 after update-function-code', async () => {
    const v1 = await awsJson('publish-version', '--function-name', fn, '--description', 'first');
    assert.equal(v1.Version, '1');
    assert.equal(v1.FunctionArn, `${ARN_PREFIX}${fn}:1`);
    assert.equal(v1.Description, 'first');
    await awsJson('update-function-code', '--function-name', fn, '--zip-file', `fileb://${path.join(scratch, 'v2.zip')}`);
    const v2 = await awsJson('publish-version', '--function-name', fn);
    assert.equal(v2.Version, '2');
    assert.equal(v2.CodeSha256, sha256(zip2));
  });

  it('create-alias --routing-config: creates a weighted alias that get-alias and invoke honour', async () => {
    const alias = await awsJson(
      'create-alias',
      '--function-name',
      fn,
      '--name',
      'live',
      '--function-version',
      '1',
      '--routing-config',
      '{"AdditionalVersionWeights":{"2":0.25}}',
    );
    assert.equal(alias.AliasArn, `${ARN_PREFIX}${fn}:live`);
    assert.equal(alias.FunctionVersion, '1');
    assert.deepEqual(alias.RoutingConfig, { AdditionalVersionWeights: { '2': 0.25 } });
    const got = await awsJson('get-alias', '--function-name', fn, '--name', 'live');
    assert.deepEqual(got.RoutingConfig, { AdditionalVersionWeights: { '2': 0.25 } });
    const outfile = path.join(scratch, 'alias-out.json');
    const out = await awsJson('invoke', '--function-name', fn, '--qualifier', 'live', outfile);
    assert.ok(out.ExecutedVersion === '1' || out.ExecutedVersion === '2', String(out.ExecutedVersion));
    assert.equal(await readFile(outfile, 'utf8'), `"hello from v${String(out.ExecutedVersion)}"`);
  });

  it('put-function-concurrency, get-function-concurrency, delete-function-concurrency: a reservation set, read and removed', async () => {
    assert.deepEqual(await awsJson('put-function-concurrency', '--function-name', fn, '--reserved-concurrent-executions', '3'), {
      ReservedConcurrentExecutions: 3,
    });
    assert.deepEqual(await awsJson('get-function-concurrency', '--function-name', fn), { ReservedConcurrentExecutions: 3 });
    assert.deepEqual((await awsJson('get-function', '--function-name', fn)).Concurrency, { ReservedConcurrentExecutions: 3 });
    const removed = await aws('delete-function-concurrency', '--function-name', fn);
    assert.equal(removed.code, 0, removed.stderr);
    // An answer of `{}`: the CLI prints nothing.
    const none = await aws('get-function-concurrency', '--function-name', fn);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout.trim(), '');
  });

  it('errors: stderr names the AWS error code and message, and the exit status is non-zero', async () => {
    const missing = await aws('get-function', '--function-name', 'no-such-fn');
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr,
      /An error occurred \(ResourceNotFoundException\) when calling the GetFunction operation: Function not found: arn:aws:lambda:us-east-1:000000000000:function:no-such-fn/,
    );
    const duplicate = await aws('create-alias', '--function-name', fn, '--name', 'live', '--function-version', '2');
    assert.notEqual(duplicate.code, 0);
    assert.match(
      duplicate.stderr,
      /An error occurred \(ResourceConflictException\) when calling the CreateAlias operation: Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:cli-fn:live/,
    );
  });
});

/** The boto3 walk: each step's answer (or error code) printed as one JSON document. */
const BOTO3_SCRIPT = `
import base64, json, sys
import boto3
from botocore.exceptions import ClientError

endpoint, zip1, zip2, role = sys.argv[1:5]
lam = boto3.client("lambda", endpoint_url=endpoint)
out = {}
created = lam.create_function(FunctionName="boto-fn", Runtime="python3.12", Handler="app.handler", Role=role,
                              Code={"ZipFile": open(zip1, "rb").read()})
out["create"] = {k: created[k] for k in ("FunctionName", "Runtime", "CodeSha256", "Version")}
inv = lam.invoke(FunctionName="boto-fn", Payload=b'{"from": "boto3"}', LogType="Tail")
out["invoke"] = {"StatusCode": inv["StatusCode"], "ExecutedVersion": inv["ExecutedVersion"],
                 "Payload": inv["Payload"].read().decode(),
                 "Log": base64.b64decode(inv["LogResult"]).decode()}
out["v1"] = lam.publish_version(FunctionName="boto-fn")["Version"]
lam.update_function_code(FunctionName="boto-fn", ZipFile=open(zip2, "rb").read())
out["v2"] = lam.publish_version(FunctionName="boto-fn")["Version"]
alias = lam.create_alias(FunctionName="boto-fn", Name="live", FunctionVersion="1",
                         RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
out["alias"] = {"AliasArn": alias["AliasArn"], "RoutingConfig": alias.get("RoutingConfig")}
try:
    lam.create_alias(FunctionName="boto-fn", Name="2024", FunctionVersion="1")
    out["error"] = None
except ClientError as e:
    out["error"] = {"Code": e.response["Error"]["Code"], "Message": e.response["Error"]["Message"],
                    "Status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
print(json.dumps(out))
`;

describe('boto3 against Versa', { skip: !hasBoto3 && 'boto3 is not installed' }, () => {
  let t: TestServer;
  let scratch: string;
  before(async () => {
    t = await startTestServer();
    scratch = await mkdtemp(path.join(tmpdir(), 'versa-boto3-'));
  });
  after(async () => {
    await t.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('boto3: create_function, invoke with LogType Tail, publish_version, create_alias with routing, and a refused alias', async () => {
    const zip1 = handlerZip('boto v1');
    const zip2 = handlerZip('boto v2');
    await writeFile(path.join(scratch, 'v1.zip'), zip1);
    await writeFile(path.join(scratch, 'v2.zip'), zip2);
    const res = await runTool(
      'python3',
      ['-c', BOTO3_SCRIPT, t.url, path.join(scratch, 'v1.zip'), path.join(scratch, 'v2.zip'), ROLE],
      awsToolEnv(scratch),
    );
    assert.equal(res.code, 0, res.stderr);
    const out = JSON.parse(res.stdout) as {
      create: Record<string, string>;
      invoke: { StatusCode: number; ExecutedVersion: string; Payload: string; Log: string };
      v1: string;
      v2: string;
      alias: { AliasArn: string; RoutingConfig: unknown };
      error: { Code: string; Message: string; Status: number } | null;
    };
    assert.deepEqual(out.create, { FunctionName: 'boto-fn', Runtime: 'python3.12', CodeSha256: sha256(zip1), Version: '$LATEST' });
    assert.equal(out.invoke.StatusCode, 200);
    assert.equal(out.invoke.ExecutedVersion, '$LATEST');
    assert.equal(out.invoke.Payload, '"boto v1"');
    assert.match(out.invoke.Log, /handling \{'from': 'boto3'\}/);
    assert.match(out.invoke.Log, /REPORT RequestId: /);
    assert.equal(out.v1, '1');
    assert.equal(out.v2, '2');
    assert.deepEqual(out.alias, { AliasArn: `${ARN_PREFIX}boto-fn:live`, RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    assert.deepEqual(out.error, {
      Code: 'ValidationException',
      Status: 400,
      Message:
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    });
  });
});
