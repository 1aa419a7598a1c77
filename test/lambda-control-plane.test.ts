/**
 * The Lambda control plane, end to end over the wire with the AWS SDK v3, checked against the AWS
 * semantics in the reference (§1.1–1.4): error names, HTTP statuses and messages, and that a refused
 * request changes nothing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetPolicyCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListFunctionsCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  RemovePermissionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  type AliasConfiguration,
  type CreateAliasCommandInput,
  type CreateFunctionCommandInput,
  type FunctionConfiguration,
  type LambdaClient,
  type UpdateAliasCommandInput,
} from '@aws-sdk/client-lambda';
import { ROLE, errorOf, lambdaClientFor, payloadOf, startTestServer, zipOf, type TestServer } from './harness.js';

const ACCOUNT = '000000000000';
const arnOf = (name: string, qualifier?: string, region = 'us-east-1') =>
  `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
const REVISION_MISMATCH =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

/** A python3.12 package whose handler returns `text`. */
const pythonZip = (text: string) => zipOf({ 'app.py': `def handler(event, context):\n    return ${JSON.stringify(text)}\n` });
const sha256 = (zip: Uint8Array) => createHash('sha256').update(zip).digest('base64');

function create(lambda: LambdaClient, name: string, extra: Partial<CreateFunctionCommandInput> = {}) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'python3.12',
      Handler: 'app.handler',
      Role: ROLE,
      Code: { ZipFile: pythonZip(name) },
      ...extra,
    }),
  );
}

/** Asserts that `call` fails with the AWS error `code`, HTTP `status` and (if given) exactly `message`. */
async function refused(call: () => Promise<unknown>, code: string, status: number, message?: string | RegExp): Promise<void> {
  const err = await errorOf(call);
  assert.equal(err.name, code, `expected ${code}, got ${err.name}: ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status, `status of ${code}: ${err.message}`);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
}

async function assertNoFunction(lambda: LambdaClient, name: string): Promise<void> {
  await refused(
    () => lambda.send(new GetFunctionCommand({ FunctionName: name })),
    'ResourceNotFoundException',
    404,
    `Function not found: ${arnOf(name)}`,
  );
}

const configOf = (lambda: LambdaClient, name: string, qualifier?: string) =>
  lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name, Qualifier: qualifier }));

/** An SDK answer without its response metadata, for before/after comparisons. */
function withoutMetadata<T extends { $metadata?: unknown }>(out: T): Omit<T, '$metadata'> {
  const copy: Partial<T> = { ...out };
  delete copy.$metadata;
  return copy as Omit<T, '$metadata'>;
}

async function snapshot(lambda: LambdaClient, name: string): Promise<FunctionConfiguration> {
  return withoutMetadata(await configOf(lambda, name));
}

async function aliasOf(lambda: LambdaClient, name: string, alias: string): Promise<AliasConfiguration> {
  return withoutMetadata(await lambda.send(new GetAliasCommand({ FunctionName: name, Name: alias })));
}

async function versionsOf(lambda: LambdaClient, name: string): Promise<string[]> {
  const out = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
  return (out.Versions ?? []).map((v) => v.Version ?? '?');
}

describe('CreateFunction', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('CreateFunction: answers with the AWS defaults and State Pending; GetFunction then reports Active', async () => {
    const zip = pythonZip('defaults');
    const out = await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: 'defaults',
        Runtime: 'python3.12',
        Handler: 'app.handler',
        Role: ROLE,
        Code: { ZipFile: zip },
      }),
    );
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.equal(out.FunctionName, 'defaults');
    assert.equal(out.FunctionArn, arnOf('defaults'));
    assert.equal(out.Runtime, 'python3.12');
    assert.equal(out.Handler, 'app.handler');
    assert.equal(out.Role, ROLE);
    assert.equal(out.Timeout, 3);
    assert.equal(out.MemorySize, 128);
    assert.equal(out.Description, '');
    assert.equal(out.PackageType, 'Zip');
    assert.deepEqual(out.Architectures, ['x86_64']);
    assert.equal(out.CodeSha256, sha256(zip));
    assert.equal(out.CodeSize, zip.byteLength);
    assert.equal(out.Version, '$LATEST');
    assert.equal(out.State, 'Pending');
    assert.equal(out.StateReasonCode, 'Creating');
    assert.match(out.LastModified ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.match(out.RevisionId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(out.Environment, undefined);

    const got = await t.lambda.send(new GetFunctionCommand({ FunctionName: 'defaults' }));
    assert.equal(got.Configuration?.State, 'Active');
    assert.equal(got.Configuration?.LastUpdateStatus, 'Successful');
    assert.equal(got.Configuration?.CodeSha256, sha256(zip));
    // Pending → Active is a change of its own, so the revision moves on.
    assert.notEqual(got.Configuration?.RevisionId, out.RevisionId);
  });

  it('CreateFunction: Publish=true answers with Version "1" under the function\'s unqualified ARN', async () => {
    const out = await create(t.lambda, 'published-at-birth', { Publish: true, Description: 'first' });
    assert.equal(out.Version, '1');
    assert.equal(out.FunctionArn, arnOf('published-at-birth'));
    assert.equal(out.Description, 'first');
    assert.deepEqual(await versionsOf(t.lambda, 'published-at-birth'), ['$LATEST', '1']);
    const v1 = await configOf(t.lambda, 'published-at-birth', '1');
    assert.equal(v1.CodeSha256, out.CodeSha256);
  });

  it('CreateFunction: boundary values Timeout 900, MemorySize 10240 and a 64-character name are accepted', async () => {
    const name = 'n'.repeat(64);
    const out = await create(t.lambda, name, { Timeout: 900, MemorySize: 10240 });
    assert.equal(out.Timeout, 900);
    assert.equal(out.MemorySize, 10240);
    assert.equal((await configOf(t.lambda, name)).FunctionName, name);
  });

  it('CreateFunction: a duplicate name is refused with ResourceConflictException 409 and the function is unchanged', async () => {
    const first = await create(t.lambda, 'dup');
    const before = await snapshot(t.lambda, 'dup');
    await refused(
      () => create(t.lambda, 'dup', { Code: { ZipFile: pythonZip('other') }, Timeout: 10 }),
      'ResourceConflictException',
      409,
      'Function already exist: dup',
    );
    assert.deepEqual(await snapshot(t.lambda, 'dup'), before);
    assert.equal(before.CodeSha256, first.CodeSha256);
  });

  it('CreateFunction: a bad name is refused (a malformed one with ValidationException, a 65-character one as a bad value) and nothing is created', async () => {
    await refused(
      () => create(t.lambda, 'bad name!'),
      'ValidationException',
      400,
      /^1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: /,
    );
    await refused(
      () => create(t.lambda, 'x'.repeat(65)),
      'InvalidParameterValueException',
      400,
      /^1 validation error detected: Value 'x{65}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64$/,
    );
    const all = await t.lambda.send(new ListFunctionsCommand({}));
    assert.ok(!all.Functions?.some((f) => f.FunctionName === 'bad name!' || f.FunctionName === 'x'.repeat(65)));
  });

  it('CreateFunction: Timeout 901 is refused with the AWS validation message and nothing is created', async () => {
    await refused(
      () => create(t.lambda, 'timeout-901', { Timeout: 901 }),
      'ValidationException',
      400,
      "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
    );
    await assertNoFunction(t.lambda, 'timeout-901');
  });

  it('CreateFunction: MemorySize 64 is refused with the AWS validation message and nothing is created', async () => {
    await refused(
      () => create(t.lambda, 'memory-64', { MemorySize: 64 }),
      'ValidationException',
      400,
      "1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    );
    await assertNoFunction(t.lambda, 'memory-64');
  });

  it('CreateFunction: a Timeout, MemorySize or EphemeralStorage size that is not a whole number is refused, and nothing is created', async () => {
    await refused(
      () => create(t.lambda, 'fractions', { Timeout: 2.5, MemorySize: 128.5, EphemeralStorage: { Size: 600.5 } }),
      'ValidationException',
      400,
      "3 validation errors detected: Value '2.5' at 'timeout' failed to satisfy constraint: Member must be a whole number; " +
        "Value '128.5' at 'memorySize' failed to satisfy constraint: Member must be a whole number; " +
        "Value '600.5' at 'ephemeralStorage.size' failed to satisfy constraint: Member must be a whole number",
    );
    await assertNoFunction(t.lambda, 'fractions');
  });

  it('CreateFunction: several violations are reported together as "N validation errors detected"', async () => {
    await refused(
      () => create(t.lambda, 'two-errors', { Timeout: 0, MemorySize: 20000 }),
      'ValidationException',
      400,
      "2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value '20000' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
    );
    await assertNoFunction(t.lambda, 'two-errors');
  });

  it('CreateFunction: an unsupported runtime is refused with InvalidParameterValueException and nothing is created', async () => {
    await refused(() => create(t.lambda, 'old-runtime', { Runtime: 'python2.7' }), 'InvalidParameterValueException', 400, /python2\.7/);
    await assertNoFunction(t.lambda, 'old-runtime');
  });

  it('CreateFunction: a package that is not a zip is refused with InvalidParameterValueException and nothing is created', async () => {
    await refused(
      () => create(t.lambda, 'not-a-zip', { Code: { ZipFile: Buffer.from('this is not a zip file') } }),
      'InvalidParameterValueException',
      400,
      'Could not unzip uploaded file. Please check your file, then try to upload again.',
    );
    await assertNoFunction(t.lambda, 'not-a-zip');
  });

  it('CreateFunction: a reserved environment variable (AWS_REGION) is refused with InvalidParameterValueException', async () => {
    await refused(
      () => create(t.lambda, 'reserved-env', { Environment: { Variables: { FINE: 'yes', AWS_REGION: 'eu-west-1' } } }),
      'InvalidParameterValueException',
      400,
      /reserved keys that are currently not supported for modification\. Reserved keys used in this request: AWS_REGION$/,
    );
    await assertNoFunction(t.lambda, 'reserved-env');
  });

  it('CreateFunction: environment variables over 4 KB are refused with InvalidParameterValueException', async () => {
    await refused(
      () => create(t.lambda, 'big-env', { Environment: { Variables: { BIG: 'x'.repeat(4100) } } }),
      'InvalidParameterValueException',
      400,
      /exceeded the 4KB limit/,
    );
    await assertNoFunction(t.lambda, 'big-env');
  });
});

describe('GetFunction and GetFunctionConfiguration', () => {
  let t: TestServer;
  const name = 'getter';
  const zip1 = pythonZip('one');
  const zip2 = pythonZip('two');
  before(async () => {
    t = await startTestServer();
    await create(t.lambda, name, { Code: { ZipFile: zip1 }, Publish: true });
    await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip2 }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
  });
  after(() => t.close());

  it('GetFunction: by name, partial ARN and full ARN all answer $LATEST with the unqualified ARN', async () => {
    for (const id of [name, `${ACCOUNT}:function:${name}`, arnOf(name)]) {
      const out = await t.lambda.send(new GetFunctionCommand({ FunctionName: id }));
      assert.equal(out.Configuration?.FunctionArn, arnOf(name), id);
      assert.equal(out.Configuration?.Version, '$LATEST', id);
      assert.equal(out.Configuration?.CodeSha256, sha256(zip2), id);
      assert.equal(out.Code?.RepositoryType, 'S3');
      const config = await configOf(t.lambda, id);
      assert.equal(config.FunctionArn, arnOf(name), id);
      assert.equal(config.Version, '$LATEST', id);
    }
  });

  it('GetFunction: a ":qualifier" in the name, in any form, selects the version or alias', async () => {
    for (const id of [`${name}:1`, `${ACCOUNT}:function:${name}:1`, arnOf(name, '1')]) {
      const out = await t.lambda.send(new GetFunctionCommand({ FunctionName: id }));
      assert.equal(out.Configuration?.Version, '1', id);
      assert.equal(out.Configuration?.FunctionArn, arnOf(name, '1'), id);
      assert.equal(out.Configuration?.CodeSha256, sha256(zip1), id);
      assert.equal((await configOf(t.lambda, id)).Version, '1', id);
    }
    const viaAlias = await configOf(t.lambda, `${name}:live`);
    assert.equal(viaAlias.FunctionArn, arnOf(name, 'live'));
    assert.equal(viaAlias.Version, '1');
    const latest = await configOf(t.lambda, arnOf(name, '$LATEST'));
    assert.equal(latest.FunctionArn, arnOf(name, '$LATEST'));
    assert.equal(latest.Version, '$LATEST');
  });

  it('GetFunction: the Qualifier parameter selects $LATEST, a version or an alias', async () => {
    const latest = await t.lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: '$LATEST' }));
    assert.equal(latest.Configuration?.FunctionArn, arnOf(name, '$LATEST'));
    assert.equal(latest.Configuration?.CodeSha256, sha256(zip2));
    const v1 = await t.lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: '1' }));
    assert.equal(v1.Configuration?.Version, '1');
    assert.equal(v1.Configuration?.CodeSha256, sha256(zip1));
    const live = await configOf(t.lambda, name, 'live');
    assert.equal(live.FunctionArn, arnOf(name, 'live'));
    assert.equal(live.Version, '1');
    // The same qualifier in both places is fine.
    assert.equal((await configOf(t.lambda, `${name}:1`, '1')).Version, '1');
    assert.equal((await configOf(t.lambda, arnOf(name, 'live'), 'live')).Version, '1');
  });

  it('GetFunction: a qualifier in the name that differs from Qualifier is refused with InvalidParameterValueException', async () => {
    const message = 'The derived qualifier from the function name does not match the specified qualifier.';
    await refused(
      () => t.lambda.send(new GetFunctionCommand({ FunctionName: `${name}:1`, Qualifier: '$LATEST' })),
      'InvalidParameterValueException',
      400,
      message,
    );
    await refused(() => configOf(t.lambda, arnOf(name, 'live'), '1'), 'InvalidParameterValueException', 400, message);
    await refused(() => configOf(t.lambda, `${ACCOUNT}:function:${name}:1`, 'live'), 'InvalidParameterValueException', 400, message);
  });

  it('GetFunction: a missing function, version or alias is ResourceNotFoundException 404 naming the qualified ARN', async () => {
    await assertNoFunction(t.lambda, 'no-such-function');
    await refused(() => configOf(t.lambda, name, '9'), 'ResourceNotFoundException', 404, `Function not found: ${arnOf(name, '9')}`);
    await refused(
      () => t.lambda.send(new GetFunctionCommand({ FunctionName: `${name}:ghost` })),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf(name, 'ghost')}`,
    );
  });

  it('GetFunction: Code.Location downloads the exact zip of the qualifier asked for', async () => {
    for (const [qualifier, zip] of [
      [undefined, zip2],
      ['1', zip1],
      ['live', zip1],
    ] as const) {
      const out = await t.lambda.send(new GetFunctionCommand({ FunctionName: name, Qualifier: qualifier }));
      const location = out.Code?.Location;
      assert.ok(location, 'Code.Location is set');
      const res = await fetch(location);
      assert.equal(res.status, 200);
      const body = new Uint8Array(await res.arrayBuffer());
      assert.ok(Buffer.from(body).equals(Buffer.from(zip)), `downloaded zip for ${qualifier ?? 'unqualified'} matches`);
      assert.equal(sha256(body), out.Configuration?.CodeSha256);
    }
  });

  it("GetFunction: ARNs in answers and errors follow the client's region", async () => {
    const eu = lambdaClientFor(t.url, 'eu-west-1');
    try {
      const out = await eu.send(new GetFunctionCommand({ FunctionName: name }));
      assert.equal(out.Configuration?.FunctionArn, arnOf(name, undefined, 'eu-west-1'));
      assert.equal((await configOf(eu, name, 'live')).FunctionArn, arnOf(name, 'live', 'eu-west-1'));
      const alias = await eu.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
      assert.equal(alias.AliasArn, arnOf(name, 'live', 'eu-west-1'));
      await refused(
        () => eu.send(new GetFunctionCommand({ FunctionName: 'no-such-function' })),
        'ResourceNotFoundException',
        404,
        `Function not found: ${arnOf('no-such-function', undefined, 'eu-west-1')}`,
      );
    } finally {
      eu.destroy();
    }
  });
});

describe('UpdateFunctionCode and UpdateFunctionConfiguration', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('UpdateFunctionConfiguration: a stale RevisionId is PreconditionFailedException 412 and nothing changes', async () => {
    const created = await create(t.lambda, 'cfg-precondition', { Description: 'before' });
    const before = await snapshot(t.lambda, 'cfg-precondition');
    await refused(
      () =>
        t.lambda.send(
          new UpdateFunctionConfigurationCommand({
            FunctionName: 'cfg-precondition',
            Description: 'after',
            Timeout: 9,
            RevisionId: created.RevisionId,
          }),
        ),
      'PreconditionFailedException',
      412,
      REVISION_MISMATCH,
    );
    assert.deepEqual(await snapshot(t.lambda, 'cfg-precondition'), before);

    const ok = await t.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-precondition', Description: 'after', RevisionId: before.RevisionId }),
    );
    assert.equal(ok.Description, 'after');
    assert.notEqual(ok.RevisionId, before.RevisionId);
  });

  it('UpdateFunctionCode: a stale RevisionId is PreconditionFailedException 412 and the code is unchanged', async () => {
    const created = await create(t.lambda, 'code-precondition');
    const before = await snapshot(t.lambda, 'code-precondition');
    await refused(
      () =>
        t.lambda.send(
          new UpdateFunctionCodeCommand({ FunctionName: 'code-precondition', ZipFile: pythonZip('new'), RevisionId: created.RevisionId }),
        ),
      'PreconditionFailedException',
      412,
      REVISION_MISMATCH,
    );
    assert.deepEqual(await snapshot(t.lambda, 'code-precondition'), before);
    const ok = await t.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'code-precondition', ZipFile: pythonZip('new'), RevisionId: before.RevisionId }),
    );
    assert.equal(ok.CodeSha256, sha256(pythonZip('new')));
  });

  it('UpdateFunctionConfiguration: Environment replaces the whole map', async () => {
    await create(t.lambda, 'env-replace', { Environment: { Variables: { AA: '1', BB: '2' } } });
    const out = await t.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'env-replace', Environment: { Variables: { CC: '3' } } }),
    );
    assert.deepEqual(out.Environment?.Variables, { CC: '3' });
    assert.deepEqual((await configOf(t.lambda, 'env-replace')).Environment?.Variables, { CC: '3' });
    // Updating something else leaves the environment alone.
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'env-replace', Timeout: 5 }));
    assert.deepEqual((await configOf(t.lambda, 'env-replace')).Environment?.Variables, { CC: '3' });
    // An empty map clears it.
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'env-replace', Environment: { Variables: {} } }));
    assert.equal((await configOf(t.lambda, 'env-replace')).Environment?.Variables?.CC, undefined);
  });

  it('UpdateFunctionConfiguration: a one-letter environment variable name is refused with ValidationException, as on AWS', async () => {
    await create(t.lambda, 'env-short-key');
    const before = await snapshot(t.lambda, 'env-short-key');
    await refused(
      () =>
        t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'env-short-key', Environment: { Variables: { A: '1' } } })),
      'ValidationException',
      400,
      /'environment\.variables'.*\[a-zA-Z\]\(\[a-zA-Z0-9_\]\)\+/,
    );
    assert.deepEqual(await snapshot(t.lambda, 'env-short-key'), before);
  });

  it('UpdateFunctionConfiguration: answers InProgress, then GetFunctionConfiguration reports Successful with the new values', async () => {
    await create(t.lambda, 'cfg-status');
    const out = await t.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-status', Timeout: 30, MemorySize: 256, Description: 'tuned' }),
    );
    assert.equal(out.LastUpdateStatus, 'InProgress');
    const got = await configOf(t.lambda, 'cfg-status');
    assert.equal(got.LastUpdateStatus, 'Successful');
    assert.equal(got.Timeout, 30);
    assert.equal(got.MemorySize, 256);
    assert.equal(got.Description, 'tuned');
  });

  it('UpdateFunctionConfiguration / UpdateFunctionCode: the RevisionId changes on the update and again on its completion', async () => {
    const created = await create(t.lambda, 'rev-completion');
    const active = await configOf(t.lambda, 'rev-completion');
    const cfg = await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'rev-completion', Timeout: 8 }));
    const afterCfg = await configOf(t.lambda, 'rev-completion');
    assert.equal(new Set([created.RevisionId, active.RevisionId, cfg.RevisionId, afterCfg.RevisionId]).size, 4);
    // The in-progress revision the update answered with is already stale.
    await refused(
      () =>
        t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'rev-completion', Timeout: 9, RevisionId: cfg.RevisionId })),
      'PreconditionFailedException',
      412,
      REVISION_MISMATCH,
    );
    const code = await t.lambda.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'rev-completion', ZipFile: pythonZip('v2'), RevisionId: afterCfg.RevisionId }),
    );
    assert.equal(code.LastUpdateStatus, 'InProgress');
    const afterCode = await configOf(t.lambda, 'rev-completion');
    assert.notEqual(code.RevisionId, afterCfg.RevisionId);
    assert.notEqual(afterCode.RevisionId, code.RevisionId);
    assert.equal(afterCode.LastUpdateStatus, 'Successful');
    assert.equal(afterCode.Timeout, 8);
  });

  it('UpdateFunctionConfiguration: invalid values are refused and nothing changes', async () => {
    await create(t.lambda, 'cfg-invalid', { Environment: { Variables: { KEEP: 'me' } } });
    const before = await snapshot(t.lambda, 'cfg-invalid');
    await refused(
      () => t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-invalid', Timeout: 901, Description: 'no' })),
      'ValidationException',
      400,
      "1 validation error detected: Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
    );
    await refused(
      () =>
        t.lambda.send(
          new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-invalid', Environment: { Variables: { AWS_REGION: 'x' } } }),
        ),
      'InvalidParameterValueException',
      400,
      /Reserved keys used in this request: AWS_REGION$/,
    );
    await refused(
      () => t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'cfg-invalid', Runtime: 'python2.7' })),
      'InvalidParameterValueException',
      400,
    );
    assert.deepEqual(await snapshot(t.lambda, 'cfg-invalid'), before);
  });

  it('UpdateFunctionCode: Publish=true publishes the new code as the next version', async () => {
    await create(t.lambda, 'code-publish', { Publish: true });
    const zip = pythonZip('second');
    const out = await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'code-publish', ZipFile: zip, Publish: true }));
    assert.equal(out.Version, '2');
    assert.equal(out.FunctionArn, arnOf('code-publish', '2'));
    assert.equal(out.CodeSha256, sha256(zip));
    assert.deepEqual(await versionsOf(t.lambda, 'code-publish'), ['$LATEST', '1', '2']);
    assert.equal((await configOf(t.lambda, 'code-publish')).CodeSha256, sha256(zip));
    assert.equal((await configOf(t.lambda, 'code-publish', '1')).CodeSha256, sha256(pythonZip('code-publish')));
  });

  it('UpdateFunctionCode: an invalid zip is refused with InvalidParameterValueException and the code is unchanged', async () => {
    await create(t.lambda, 'code-invalid');
    const before = await snapshot(t.lambda, 'code-invalid');
    await refused(
      () => t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'code-invalid', ZipFile: Buffer.from('garbage') })),
      'InvalidParameterValueException',
      400,
      'Could not unzip uploaded file. Please check your file, then try to upload again.',
    );
    assert.deepEqual(await snapshot(t.lambda, 'code-invalid'), before);
  });

  it('UpdateFunctionCode / UpdateFunctionConfiguration: a missing function is ResourceNotFoundException 404', async () => {
    const message = `Function not found: ${arnOf('ghost')}`;
    await refused(
      () => t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'ghost', ZipFile: pythonZip('x') })),
      'ResourceNotFoundException',
      404,
      message,
    );
    await refused(
      () => t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'ghost', Timeout: 5 })),
      'ResourceNotFoundException',
      404,
      message,
    );
    await assertNoFunction(t.lambda, 'ghost');
  });
});

describe('PublishVersion', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());
  const publish = (name: string, extra: { Description?: string; CodeSha256?: string; RevisionId?: string } = {}) =>
    t.lambda.send(new PublishVersionCommand({ FunctionName: name, ...extra }));
  const updateCode = (name: string, text: string) =>
    t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: pythonZip(text) }));

  it('PublishVersion: numbers versions 1, 2, 3 and answers 201 with a qualified ARN', async () => {
    await create(t.lambda, 'counting');
    for (const n of ['1', '2', '3']) {
      const out = await publish('counting', { Description: `v${n}` });
      assert.equal(out.$metadata.httpStatusCode, 201);
      assert.equal(out.Version, n);
      assert.equal(out.FunctionArn, arnOf('counting', n));
      assert.equal(out.Description, `v${n}`);
      await updateCode('counting', `after ${n}`);
    }
    assert.deepEqual(await versionsOf(t.lambda, 'counting'), ['$LATEST', '1', '2', '3']);
  });

  it('PublishVersion: with nothing changed it returns the existing version (same Version and RevisionId) and ignores Description', async () => {
    await create(t.lambda, 'unchanged');
    const first = await publish('unchanged', { Description: 'original' });
    const again = await publish('unchanged', { Description: 'ignored' });
    assert.equal(again.$metadata.httpStatusCode, 201);
    assert.equal(again.Version, first.Version);
    assert.equal(again.RevisionId, first.RevisionId);
    assert.equal(again.Description, 'original');
    assert.deepEqual(await versionsOf(t.lambda, 'unchanged'), ['$LATEST', '1']);
    assert.equal((await configOf(t.lambda, 'unchanged', '1')).Description, 'original');
  });

  it('PublishVersion: a configuration-only change makes a new version with the same CodeSha256', async () => {
    await create(t.lambda, 'config-only');
    const v1 = await publish('config-only');
    await t.lambda.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'config-only', Environment: { Variables: { MODE: 'fast' } } }),
    );
    const v2 = await publish('config-only');
    assert.equal(v2.Version, '2');
    assert.equal(v2.CodeSha256, v1.CodeSha256);
    assert.deepEqual(v2.Environment?.Variables, { MODE: 'fast' });
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'config-only', Description: 'described' }));
    const v3 = await publish('config-only');
    assert.equal(v3.Version, '3');
    assert.equal(v3.CodeSha256, v1.CodeSha256);
  });

  it("PublishVersion: a CodeSha256 different from $LATEST's is refused with the reference message and publishes nothing", async () => {
    const created = await create(t.lambda, 'sha-check');
    const wrong = sha256(pythonZip('something else'));
    await refused(
      () => publish('sha-check', { CodeSha256: wrong }),
      'InvalidParameterValueException',
      400,
      `CodeSHA256 (${wrong}) is different from current CodeSHA256 in $LATEST (${created.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
    );
    assert.deepEqual(await versionsOf(t.lambda, 'sha-check'), ['$LATEST']);
    const ok = await publish('sha-check', { CodeSha256: created.CodeSha256 });
    assert.equal(ok.Version, '1');
  });

  it('PublishVersion: a stale RevisionId is PreconditionFailedException 412 and publishes nothing', async () => {
    const created = await create(t.lambda, 'rev-check');
    await refused(() => publish('rev-check', { RevisionId: created.RevisionId }), 'PreconditionFailedException', 412, REVISION_MISMATCH);
    assert.deepEqual(await versionsOf(t.lambda, 'rev-check'), ['$LATEST']);
    const current = await configOf(t.lambda, 'rev-check');
    assert.equal((await publish('rev-check', { RevisionId: current.RevisionId })).Version, '1');
  });

  it("PublishVersion: changes $LATEST's RevisionId and gives the version its own", async () => {
    await create(t.lambda, 'rev-moves');
    const before = await configOf(t.lambda, 'rev-moves');
    const v1 = await publish('rev-moves');
    const after = await configOf(t.lambda, 'rev-moves');
    assert.notEqual(after.RevisionId, before.RevisionId);
    assert.notEqual(v1.RevisionId, after.RevisionId);
    assert.notEqual(v1.RevisionId, before.RevisionId);
    assert.equal((await configOf(t.lambda, 'rev-moves', '1')).RevisionId, v1.RevisionId);
  });

  it('PublishVersion: a published version is frozen while $LATEST changes', async () => {
    await create(t.lambda, 'frozen', { Timeout: 5 });
    const v1 = await publish('frozen');
    await updateCode('frozen', 'changed');
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'frozen', Timeout: 7 }));
    const now = await configOf(t.lambda, 'frozen', '1');
    assert.equal(now.CodeSha256, v1.CodeSha256);
    assert.equal(now.Timeout, 5);
    assert.equal(now.RevisionId, v1.RevisionId);
  });

  it('PublishVersion: version numbers are not reused after DeleteFunction with Qualifier', async () => {
    await create(t.lambda, 'no-reuse');
    await publish('no-reuse');
    await updateCode('no-reuse', 'two');
    assert.equal((await publish('no-reuse')).Version, '2');
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'no-reuse', Qualifier: '2' }));
    assert.deepEqual(await versionsOf(t.lambda, 'no-reuse'), ['$LATEST', '1']);
    await updateCode('no-reuse', 'three');
    assert.equal((await publish('no-reuse')).Version, '3');
    assert.deepEqual(await versionsOf(t.lambda, 'no-reuse'), ['$LATEST', '1', '3']);
  });

  it('PublishVersion: a missing function is ResourceNotFoundException 404', async () => {
    await refused(() => publish('ghost'), 'ResourceNotFoundException', 404, `Function not found: ${arnOf('ghost')}`);
  });
});

describe('ListVersionsByFunction', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    await create(t.lambda, 'many');
    // 55 versions: more than one default page, and past 10 so that string ordering would show.
    for (let i = 1; i <= 55; i++) {
      await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'many', Description: `d${i}` }));
      await t.lambda.send(new PublishVersionCommand({ FunctionName: 'many' }));
    }
  });
  after(() => t.close());

  it('ListVersionsByFunction: lists $LATEST first (ARN ending ":$LATEST"), then versions in ascending numeric order', async () => {
    const first = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', MaxItems: 20 }));
    const versions = first.Versions ?? [];
    assert.equal(versions[0]?.Version, '$LATEST');
    assert.equal(versions[0]?.FunctionArn, arnOf('many', '$LATEST'));
    assert.deepEqual(
      versions.slice(1).map((v) => v.Version),
      Array.from({ length: 19 }, (_, i) => String(i + 1)),
    );
    for (const v of versions.slice(1)) assert.equal(v.FunctionArn, arnOf('many', v.Version));
  });

  it('ListVersionsByFunction: pages with MaxItems/Marker/NextMarker, at most 50 per page by default', async () => {
    const all: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const out = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', MaxItems: 7, Marker: marker }));
      assert.ok((out.Versions?.length ?? 0) <= 7);
      all.push(...(out.Versions ?? []).map((v) => v.Version ?? '?'));
      marker = out.NextMarker;
      pages++;
    } while (marker);
    assert.equal(pages, 8);
    assert.deepEqual(all, ['$LATEST', ...Array.from({ length: 55 }, (_, i) => String(i + 1))]);

    const firstDefault = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many' }));
    assert.equal(firstDefault.Versions?.length, 50);
    assert.ok(firstDefault.NextMarker);
    const rest = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', Marker: firstDefault.NextMarker }));
    assert.deepEqual(
      rest.Versions?.map((v) => v.Version),
      ['50', '51', '52', '53', '54', '55'],
    );
    assert.equal(rest.NextMarker, undefined);

    // A page holding only $LATEST, then a version deleted between pages: the next page starts after
    // what was listed, not at a count that the deletion shifted.
    const latestOnly = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', MaxItems: 1 }));
    assert.deepEqual(
      latestOnly.Versions?.map((v) => v.Version),
      ['$LATEST'],
    );
    const upTo3 = await t.lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: 'many', MaxItems: 3, Marker: latestOnly.NextMarker }),
    );
    assert.deepEqual(
      upTo3.Versions?.map((v) => v.Version),
      ['1', '2', '3'],
    );
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'many', Qualifier: '2' }));
    const after3 = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', MaxItems: 2, Marker: upTo3.NextMarker }));
    assert.deepEqual(
      after3.Versions?.map((v) => v.Version),
      ['4', '5'],
    );
    await refused(
      () => t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', Marker: 'not-a-marker' })),
      'InvalidParameterValueException',
      400,
      'Invalid Marker: not-a-marker',
    );

    const asked100 = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'many', MaxItems: 100 }));
    assert.equal(asked100.Versions?.length, 50);
    assert.ok(asked100.NextMarker, 'more than 50 items are never answered in one page');
  });

  it('ListVersionsByFunction: a missing function is ResourceNotFoundException 404', async () => {
    await refused(
      () => t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'ghost' })),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf('ghost')}`,
    );
  });
});

describe('ListFunctions', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    for (const name of ['charlie', 'alpha', 'bravo', 'delta', 'echo']) await create(t.lambda, name);
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'bravo' }));
  });
  after(() => t.close());

  it('ListFunctions: lists every function by name with its unqualified ARN and $LATEST configuration', async () => {
    const out = await t.lambda.send(new ListFunctionsCommand({}));
    assert.deepEqual(
      out.Functions?.map((f) => f.FunctionName),
      ['alpha', 'bravo', 'charlie', 'delta', 'echo'],
    );
    for (const f of out.Functions ?? []) {
      assert.equal(f.FunctionArn, arnOf(f.FunctionName ?? '?'));
      assert.equal(f.Version, '$LATEST');
    }
    assert.equal(out.NextMarker, undefined);
  });

  it('ListFunctions: pages with MaxItems and Marker', async () => {
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const out = await t.lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: marker }));
      assert.ok((out.Functions?.length ?? 0) <= 2);
      names.push(...(out.Functions ?? []).map((f) => f.FunctionName ?? '?'));
      marker = out.NextMarker;
      pages++;
    } while (marker);
    assert.equal(pages, 3);
    assert.deepEqual(names, ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
  });

  it('ListFunctions: FunctionVersion=ALL also lists published versions, with qualified ARNs', async () => {
    const out = await t.lambda.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    const rows = (out.Functions ?? []).map((f) => [f.FunctionName, f.Version, f.FunctionArn]);
    assert.deepEqual(
      rows.filter(([name]) => name === 'bravo'),
      [
        ['bravo', '$LATEST', arnOf('bravo', '$LATEST')],
        ['bravo', '1', arnOf('bravo', '1')],
      ],
    );
    assert.equal(rows.length, 6);
  });
});

describe('ListFunctions page limit', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
    for (let i = 0; i < 52; i++) await create(t.lambda, `fn-${String(i).padStart(2, '0')}`);
  });
  after(() => t.close());

  it('ListFunctions: answers at most 50 functions per page, even when MaxItems asks for more', async () => {
    for (const maxItems of [undefined, 100]) {
      const first = await t.lambda.send(new ListFunctionsCommand({ MaxItems: maxItems }));
      assert.equal(first.Functions?.length, 50);
      assert.ok(first.NextMarker);
      const rest = await t.lambda.send(new ListFunctionsCommand({ MaxItems: maxItems, Marker: first.NextMarker }));
      assert.deepEqual(
        rest.Functions?.map((f) => f.FunctionName),
        ['fn-50', 'fn-51'],
      );
      assert.equal(rest.NextMarker, undefined);
    }
  });
});

describe('Aliases', () => {
  let t: TestServer;
  const fn = 'aliased';
  before(async () => {
    t = await startTestServer();
    await create(t.lambda, fn);
    for (const text of ['one', 'two', 'three']) {
      await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: pythonZip(text) }));
      await t.lambda.send(new PublishVersionCommand({ FunctionName: fn }));
    }
  });
  after(() => t.close());
  const createAlias = (input: Omit<CreateAliasCommandInput, 'FunctionName'>) =>
    t.lambda.send(new CreateAliasCommand({ FunctionName: fn, ...input }));
  const updateAlias = (input: Omit<UpdateAliasCommandInput, 'FunctionName'>) =>
    t.lambda.send(new UpdateAliasCommand({ FunctionName: fn, ...input }));
  const assertNoAlias = (name: string) =>
    refused(
      () => t.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: name })),
      'ResourceNotFoundException',
      404,
      `Cannot find alias arn: ${arnOf(fn, name)}`,
    );

  /** The refusals of §1.3 that apply to both CreateAlias and UpdateAlias (FunctionVersion, RoutingConfig, error, status, message). */
  const routingRefusals: [string, string, Record<string, number>, string, number, string | RegExp][] = [
    [
      '>1 weight entry',
      '1',
      { '2': 0.1, '3': 0.1 },
      'InvalidParameterValueException',
      400,
      'Number of items in AdditionalVersionWeights cannot be greater than 1',
    ],
    [
      'weight above 1',
      '1',
      { '2': 1.5 },
      'ValidationException',
      400,
      /^1 validation error detected: Value '.*' at 'routingConfig\.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: \[Member must have value less than or equal to 1\.0, /,
    ],
    [
      'weight below 0',
      '1',
      { '2': -0.1 },
      'ValidationException',
      400,
      /^1 validation error detected: Value '.*' at 'routingConfig\.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: \[Member must have value less than or equal to 1\.0, Member must have value greater than or equal to 0\.0/,
    ],
    [
      'key $LATEST',
      '1',
      { $LATEST: 0.5 },
      'ValidationException',
      400,
      /^1 validation error detected: Value '.*' at 'routingConfig\.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint/,
    ],
    [
      'key == FunctionVersion',
      '1',
      { '1': 0.5 },
      'InvalidParameterValueException',
      400,
      'Invalid function version 1. Function version 1 is already included in routing configuration.',
    ],
    [
      '$LATEST with routing',
      '$LATEST',
      { '2': 0.5 },
      'InvalidParameterValueException',
      400,
      '$LATEST is not supported for an alias pointing to more than 1 version',
    ],
    ['missing weighted version', '1', { '10': 0.5 }, 'ResourceNotFoundException', 404, `Function not found: ${arnOf(fn, '10')}`],
  ];

  it('CreateAlias: answers 201 with AliasArn, Name, FunctionVersion, Description "" and RevisionId, without RoutingConfig', async () => {
    const out = await createAlias({ Name: 'plain', FunctionVersion: '1' });
    assert.equal(out.$metadata.httpStatusCode, 201);
    assert.equal(out.AliasArn, arnOf(fn, 'plain'));
    assert.equal(out.Name, 'plain');
    assert.equal(out.FunctionVersion, '1');
    assert.equal(out.Description, '');
    assert.equal(out.RoutingConfig, undefined);
    assert.match(out.RevisionId ?? '', /^[0-9a-f-]{36}$/);
    assert.deepEqual(await aliasOf(t.lambda, fn, 'plain'), withoutMetadata(out));
  });

  it('CreateAlias: accepts a weighted second version, and $LATEST without routing', async () => {
    const routed = await createAlias({
      Name: 'routed',
      FunctionVersion: '1',
      Description: 'canary',
      RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
    });
    assert.deepEqual(routed.RoutingConfig, { AdditionalVersionWeights: { '2': 0.25 } });
    assert.equal(routed.Description, 'canary');
    const latest = await createAlias({ Name: 'head', FunctionVersion: '$LATEST' });
    assert.equal(latest.FunctionVersion, '$LATEST');
  });

  it('CreateAlias: does not change the function RevisionId', async () => {
    const before = await configOf(t.lambda, fn);
    await createAlias({ Name: 'no-rev-change', FunctionVersion: '2' });
    assert.equal((await configOf(t.lambda, fn)).RevisionId, before.RevisionId);
  });

  it('CreateAlias: an all-digit name is refused with ValidationException and nothing is created', async () => {
    await refused(
      () => createAlias({ Name: '2024', FunctionVersion: '1' }),
      'ValidationException',
      400,
      "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    );
    await assertNoAlias('2024');
    await refused(() => createAlias({ Name: 'bad.name', FunctionVersion: '1' }), 'ValidationException', 400, /Value 'bad\.name' at 'name'/);
  });

  it('CreateAlias: a missing target version is ResourceNotFoundException 404 naming the version ARN', async () => {
    await refused(
      () => createAlias({ Name: 'to-nowhere', FunctionVersion: '10' }),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf(fn, '10')}`,
    );
    await assertNoAlias('to-nowhere');
  });

  it('CreateAlias: an existing alias is ResourceConflictException 409 "Alias already exists" and stays as it was', async () => {
    await createAlias({ Name: 'taken', FunctionVersion: '1', Description: 'original' });
    const before = await aliasOf(t.lambda, fn, 'taken');
    await refused(
      () => createAlias({ Name: 'taken', FunctionVersion: '2', Description: 'replacement' }),
      'ResourceConflictException',
      409,
      `Alias already exists: ${arnOf(fn, 'taken')}`,
    );
    assert.deepEqual(await aliasOf(t.lambda, fn, 'taken'), before);
  });

  for (const [label, version, weights, code, status, message] of routingRefusals) {
    it(`CreateAlias: ${label} is refused with ${code} ${status} and nothing is created`, async () => {
      const name = `create-${label.replace(/[^a-zA-Z0-9]+/g, '-')}`.replace(/-$/, '');
      await refused(
        () => createAlias({ Name: name, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights } }),
        code,
        status,
        message,
      );
      await assertNoAlias(name);
    });

    it(`UpdateAlias: ${label} is refused with ${code} ${status} and the alias is exactly as before`, async () => {
      const name = `update-${label.replace(/[^a-zA-Z0-9]+/g, '-')}`.replace(/-$/, '');
      await createAlias({
        Name: name,
        FunctionVersion: '2',
        Description: 'keep',
        RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } },
      });
      const before = await aliasOf(t.lambda, fn, name);
      await refused(
        () => updateAlias({ Name: name, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: weights } }),
        code,
        status,
        message,
      );
      assert.deepEqual(await aliasOf(t.lambda, fn, name), before);
    });
  }

  it('UpdateAlias: a missing target version is ResourceNotFoundException 404 and the alias is exactly as before', async () => {
    await createAlias({ Name: 'retarget', FunctionVersion: '1' });
    const before = await aliasOf(t.lambda, fn, 'retarget');
    await refused(
      () => updateAlias({ Name: 'retarget', FunctionVersion: '42' }),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf(fn, '42')}`,
    );
    assert.deepEqual(await aliasOf(t.lambda, fn, 'retarget'), before);
  });

  it('GetAlias: a missing alias is ResourceNotFoundException 404 "Cannot find alias arn"', async () => {
    await assertNoAlias('ghost');
  });

  it('UpdateAlias: a missing alias is ResourceNotFoundException 404 "Alias not found"', async () => {
    await refused(
      () => updateAlias({ Name: 'ghost', FunctionVersion: '1' }),
      'ResourceNotFoundException',
      404,
      `Alias not found: ${arnOf(fn, 'ghost')}`,
    );
    await assertNoAlias('ghost');
  });

  it('UpdateAlias: a stale RevisionId is PreconditionFailedException 412 and the alias is exactly as before', async () => {
    const created = await createAlias({ Name: 'guarded', FunctionVersion: '1' });
    await updateAlias({ Name: 'guarded', Description: 'touched' });
    const before = await aliasOf(t.lambda, fn, 'guarded');
    await refused(
      () => updateAlias({ Name: 'guarded', FunctionVersion: '2', RevisionId: created.RevisionId }),
      'PreconditionFailedException',
      412,
      REVISION_MISMATCH,
    );
    assert.deepEqual(await aliasOf(t.lambda, fn, 'guarded'), before);
    const ok = await updateAlias({ Name: 'guarded', FunctionVersion: '2', RevisionId: before.RevisionId });
    assert.equal(ok.FunctionVersion, '2');
  });

  it('UpdateAlias: RoutingConfig {} clears the routing; leaving RoutingConfig out keeps it', async () => {
    await createAlias({ Name: 'shifting', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } });
    const kept = await updateAlias({ Name: 'shifting', Description: 'still routed' });
    assert.deepEqual(kept.RoutingConfig, { AdditionalVersionWeights: { '2': 0.5 } });
    const cleared = await updateAlias({ Name: 'shifting', RoutingConfig: {} });
    assert.equal(cleared.RoutingConfig, undefined);
    assert.equal((await aliasOf(t.lambda, fn, 'shifting')).RoutingConfig, undefined);
    await updateAlias({ Name: 'shifting', RoutingConfig: { AdditionalVersionWeights: { '3': 0.2 } } });
    const clearedAgain = await updateAlias({ Name: 'shifting', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } });
    assert.equal(clearedAgain.RoutingConfig, undefined);
    assert.equal(clearedAgain.FunctionVersion, '2');
    assert.equal(clearedAgain.Description, 'still routed');
  });

  it('UpdateAlias: every update changes the RevisionId, even one that changes nothing', async () => {
    const created = await createAlias({ Name: 'spinning', FunctionVersion: '1' });
    const seen = new Set([created.RevisionId]);
    for (let i = 0; i < 3; i++) {
      const out = await updateAlias({ Name: 'spinning' });
      assert.equal(out.FunctionVersion, '1');
      assert.ok(!seen.has(out.RevisionId), 'a fresh RevisionId');
      seen.add(out.RevisionId);
      assert.equal((await aliasOf(t.lambda, fn, 'spinning')).RevisionId, out.RevisionId);
    }
  });

  it('DeleteAlias: deletes the alias (204); deleting a missing alias is also 204', async () => {
    await createAlias({ Name: 'doomed', FunctionVersion: '1' });
    const out = await t.lambda.send(new DeleteAliasCommand({ FunctionName: fn, Name: 'doomed' }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await assertNoAlias('doomed');
    const again = await t.lambda.send(new DeleteAliasCommand({ FunctionName: fn, Name: 'doomed' }));
    assert.equal(again.$metadata.httpStatusCode, 204);
  });

  it('ListAliases: lists aliases by name, and FunctionVersion filters by the version they point at', async () => {
    const other = 'listed';
    await create(t.lambda, other);
    for (const text of ['a', 'b']) {
      await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: other, ZipFile: pythonZip(text) }));
      await t.lambda.send(new PublishVersionCommand({ FunctionName: other }));
    }
    for (const [name, version] of [
      ['zulu', '1'],
      ['alpha', '2'],
      ['mike', '1'],
      ['head', '$LATEST'],
    ] as const) {
      await t.lambda.send(new CreateAliasCommand({ FunctionName: other, Name: name, FunctionVersion: version }));
    }
    const names = async (functionVersion?: string) =>
      ((await t.lambda.send(new ListAliasesCommand({ FunctionName: other, FunctionVersion: functionVersion }))).Aliases ?? []).map(
        (a) => a.Name,
      );
    assert.deepEqual(await names(), ['alpha', 'head', 'mike', 'zulu']);
    assert.deepEqual(await names('1'), ['mike', 'zulu']);
    assert.deepEqual(await names('2'), ['alpha']);
    assert.deepEqual(await names('$LATEST'), ['head']);
    const all = await t.lambda.send(new ListAliasesCommand({ FunctionName: other }));
    assert.equal(all.Aliases?.[0]?.AliasArn, arnOf(other, 'alpha'));

    const paged: string[] = [];
    let marker: string | undefined;
    do {
      const out = await t.lambda.send(new ListAliasesCommand({ FunctionName: other, MaxItems: 3, Marker: marker }));
      paged.push(...(out.Aliases ?? []).map((a) => a.Name ?? '?'));
      marker = out.NextMarker;
    } while (marker);
    assert.deepEqual(paged, ['alpha', 'head', 'mike', 'zulu']);
  });
});

describe('DeleteFunction', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());
  const withVersions = async (name: string, count: number) => {
    await create(t.lambda, name);
    for (let i = 1; i <= count; i++) {
      await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: pythonZip(`${name} ${i}`) }));
      await t.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    }
  };

  it('DeleteFunction: Qualifier $LATEST is refused with 400 and the function stays', async () => {
    await withVersions('keep-latest', 1);
    await refused(
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'keep-latest', Qualifier: '$LATEST' })),
      'InvalidParameterValueException',
      400,
    );
    await refused(
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'keep-latest:$LATEST' })),
      'InvalidParameterValueException',
      400,
    );
    assert.deepEqual(await versionsOf(t.lambda, 'keep-latest'), ['$LATEST', '1']);
  });

  it('DeleteFunction: an alias as the qualifier is refused with 400 and the alias stays', async () => {
    await withVersions('keep-alias', 1);
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'keep-alias', Name: 'live', FunctionVersion: '1' }));
    await refused(
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'keep-alias', Qualifier: 'live' })),
      'InvalidParameterValueException',
      400,
    );
    assert.equal((await aliasOf(t.lambda, 'keep-alias', 'live')).FunctionVersion, '1');
  });

  it('DeleteFunction: a version an alias uses is ResourceConflictException 409 naming the alias, and the version stays', async () => {
    await withVersions('in-use', 3);
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'in-use', Name: 'prod', FunctionVersion: '1' }));
    await t.lambda.send(
      new CreateAliasCommand({
        FunctionName: 'in-use',
        Name: 'canary',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } },
      }),
    );
    await refused(
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'in-use', Qualifier: '1' })),
      'ResourceConflictException',
      409,
      'Unable to delete version because the following aliases reference it: [prod]',
    );
    // A weighted (routing) reference counts too.
    await refused(
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'in-use', Qualifier: '3' })),
      'ResourceConflictException',
      409,
      'Unable to delete version because the following aliases reference it: [canary]',
    );
    assert.deepEqual(await versionsOf(t.lambda, 'in-use'), ['$LATEST', '1', '2', '3']);
  });

  it('DeleteFunction: a missing version is 204 and changes nothing; an existing one is deleted', async () => {
    await withVersions('versions-go', 2);
    const missing = await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'versions-go', Qualifier: '9' }));
    assert.equal(missing.$metadata.httpStatusCode, 204);
    assert.deepEqual(await versionsOf(t.lambda, 'versions-go'), ['$LATEST', '1', '2']);
    const out = await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'versions-go:1' }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    assert.deepEqual(await versionsOf(t.lambda, 'versions-go'), ['$LATEST', '2']);
    await refused(
      () => configOf(t.lambda, 'versions-go', '1'),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf('versions-go', '1')}`,
    );
  });

  it('DeleteFunction: without a qualifier deletes the function, its versions, aliases and policy', async () => {
    await withVersions('gone', 2);
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'gone', Name: 'live', FunctionVersion: '2' }));
    await t.lambda.send(
      new AddPermissionCommand({
        FunctionName: 'gone',
        StatementId: 'apigw',
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
      }),
    );
    const out = await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'gone' }));
    assert.equal(out.$metadata.httpStatusCode, 204);
    await assertNoFunction(t.lambda, 'gone');
    await refused(() => configOf(t.lambda, 'gone', '1'), 'ResourceNotFoundException', 404);
    await refused(() => t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'gone' })), 'ResourceNotFoundException', 404);
    await refused(() => t.lambda.send(new ListAliasesCommand({ FunctionName: 'gone' })), 'ResourceNotFoundException', 404);

    // A new function of the same name starts from nothing.
    await create(t.lambda, 'gone');
    assert.deepEqual(await versionsOf(t.lambda, 'gone'), ['$LATEST']);
    assert.deepEqual((await t.lambda.send(new ListAliasesCommand({ FunctionName: 'gone' }))).Aliases, []);
    await refused(() => t.lambda.send(new GetPolicyCommand({ FunctionName: 'gone' })), 'ResourceNotFoundException', 404);
    assert.equal((await t.lambda.send(new PublishVersionCommand({ FunctionName: 'gone' }))).Version, '1');
  });

  it('DeleteFunction: a missing function is ResourceNotFoundException 404', async () => {
    await refused(
      () => t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'ghost' })),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf('ghost')}`,
    );
  });
});

describe('Invoke validation', () => {
  let t: TestServer;
  const fn = 'echo-hi';
  before(async () => {
    t = await startTestServer();
    await t.lambda.send(
      new CreateFunctionCommand({
        FunctionName: fn,
        Runtime: 'python3.12',
        Handler: 'app.handler',
        Role: ROLE,
        Code: { ZipFile: pythonZip('hi') },
        Publish: true,
      }),
    );
    await t.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
  });
  after(() => t.close());
  const invoke = (payload: Uint8Array | undefined, qualifier?: string, name = fn) =>
    t.lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: qualifier, Payload: payload }));

  it('Invoke: a JSON payload (or none) runs the function and answers 200 with its result', async () => {
    const out = await invoke(Buffer.from('{"a":1}'));
    assert.equal(out.StatusCode, 200);
    assert.equal(payloadOf(out), 'hi');
    assert.equal(out.ExecutedVersion, '$LATEST');
    const empty = await invoke(undefined, 'live');
    assert.equal(payloadOf(empty), 'hi');
    assert.equal(empty.ExecutedVersion, '1');
  });

  it('Invoke: a payload that is not JSON is InvalidRequestContentException 400', async () => {
    await refused(
      () => invoke(Buffer.from('{not json')),
      'InvalidRequestContentException',
      400,
      /^Could not parse request body into json: /,
    );
    await refused(() => invoke(Buffer.from('hello')), 'InvalidRequestContentException', 400, /^Could not parse request body into json: /);
  });

  it('Invoke: a payload over 6 MB is refused with 413', async () => {
    const tooBig = Buffer.from(`"${'x'.repeat(6_291_457 - 2)}"`);
    assert.equal(tooBig.byteLength, 6_291_457);
    const err = await errorOf(() => invoke(tooBig));
    assert.equal(err.$metadata?.httpStatusCode, 413);
    assert.equal(err.message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    // The reference (§1.4) says AWS sends RequestEntityTooLargeException, while the API model names the
    // shape RequestTooLargeException; Versa currently sends the latter. Either name is accepted here.
    assert.ok(['RequestEntityTooLargeException', 'RequestTooLargeException'].includes(err.name), err.name);
  });

  it('Invoke: an unknown function, alias or version is ResourceNotFoundException 404 naming the qualified ARN', async () => {
    await refused(
      () => invoke(undefined, undefined, 'ghost'),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf('ghost', '$LATEST')}`,
    );
    await refused(() => invoke(undefined, 'nope'), 'ResourceNotFoundException', 404, `Function not found: ${arnOf(fn, 'nope')}`);
    await refused(() => invoke(undefined, '7'), 'ResourceNotFoundException', 404, `Function not found: ${arnOf(fn, '7')}`);
    await refused(
      () => t.lambda.send(new InvokeCommand({ FunctionName: `${fn}:7` })),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf(fn, '7')}`,
    );
  });
});

describe('AddPermission, GetPolicy and RemovePermission', () => {
  let t: TestServer;
  const fn = 'guarded-fn';
  const sourceArn = 'arn:aws:execute-api:us-east-1:000000000000:abc123/*/GET/hello';
  before(async () => {
    t = await startTestServer();
    await create(t.lambda, fn, { Publish: true });
    await t.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }));
  });
  after(() => t.close());
  const addApiGateway = (sid: string, qualifier?: string) =>
    t.lambda.send(
      new AddPermissionCommand({
        FunctionName: fn,
        Qualifier: qualifier,
        StatementId: sid,
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: sourceArn,
      }),
    );

  it('GetPolicy: a function without a policy is ResourceNotFoundException 404', async () => {
    await refused(() => t.lambda.send(new GetPolicyCommand({ FunctionName: fn })), 'ResourceNotFoundException', 404);
  });

  it('AddPermission / GetPolicy / RemovePermission: round trip of an API Gateway statement with a SourceArn condition', async () => {
    const added = await addApiGateway('apigw-invoke');
    assert.equal(added.$metadata.httpStatusCode, 201);
    const expected = {
      Sid: 'apigw-invoke',
      Effect: 'Allow',
      Principal: { Service: 'apigateway.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: arnOf(fn),
      Condition: { ArnLike: { 'AWS:SourceArn': sourceArn } },
    };
    assert.deepEqual(JSON.parse(added.Statement ?? '{}'), expected);

    const policy = await t.lambda.send(new GetPolicyCommand({ FunctionName: fn }));
    const doc = JSON.parse(policy.Policy ?? '{}') as { Version: string; Statement: unknown[] };
    assert.equal(doc.Version, '2012-10-17');
    assert.deepEqual(doc.Statement, [expected]);
    assert.ok(policy.RevisionId);

    const removed = await t.lambda.send(new RemovePermissionCommand({ FunctionName: fn, StatementId: 'apigw-invoke' }));
    assert.equal(removed.$metadata.httpStatusCode, 204);
    await refused(() => t.lambda.send(new GetPolicyCommand({ FunctionName: fn })), 'ResourceNotFoundException', 404);
  });

  it('AddPermission: a duplicate statement id is ResourceConflictException 409 and the policy is unchanged', async () => {
    await addApiGateway('only-once');
    const before = await t.lambda.send(new GetPolicyCommand({ FunctionName: fn }));
    await refused(() => addApiGateway('only-once'), 'ResourceConflictException', 409);
    const after = await t.lambda.send(new GetPolicyCommand({ FunctionName: fn }));
    assert.equal(after.Policy, before.Policy);
    await t.lambda.send(new RemovePermissionCommand({ FunctionName: fn, StatementId: 'only-once' }));
  });

  it('AddPermission: a qualified statement names the alias ARN and lives in that qualifier’s policy only', async () => {
    const added = await addApiGateway('alias-only', 'live');
    assert.equal((JSON.parse(added.Statement ?? '{}') as { Resource: string }).Resource, arnOf(fn, 'live'));
    const aliasPolicy = await t.lambda.send(new GetPolicyCommand({ FunctionName: fn, Qualifier: 'live' }));
    assert.equal((JSON.parse(aliasPolicy.Policy ?? '{}') as { Statement: unknown[] }).Statement.length, 1);
    await refused(() => t.lambda.send(new GetPolicyCommand({ FunctionName: fn })), 'ResourceNotFoundException', 404);
    await t.lambda.send(new RemovePermissionCommand({ FunctionName: fn, Qualifier: 'live', StatementId: 'alias-only' }));
    await refused(() => t.lambda.send(new GetPolicyCommand({ FunctionName: fn, Qualifier: 'live' })), 'ResourceNotFoundException', 404);
  });

  it('RemovePermission: an unknown statement id is ResourceNotFoundException 404', async () => {
    await refused(
      () => t.lambda.send(new RemovePermissionCommand({ FunctionName: fn, StatementId: 'never-added' })),
      'ResourceNotFoundException',
      404,
    );
  });

  it('AddPermission: a missing function is ResourceNotFoundException 404', async () => {
    await refused(
      () =>
        t.lambda.send(
          new AddPermissionCommand({
            FunctionName: 'ghost',
            StatementId: 's',
            Action: 'lambda:InvokeFunction',
            Principal: 'apigateway.amazonaws.com',
          }),
        ),
      'ResourceNotFoundException',
      404,
      `Function not found: ${arnOf('ghost')}`,
    );
  });
});
