/** Invoke against Python functions and custom runtimes (provided.al2023). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PublishVersionCommand, CreateAliasCommand } from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke } from './invoke-helpers.js';

const python = (code: string) => ({ 'lambda_function.py': code });
const PY = { Runtime: 'python3.12', Handler: 'lambda_function.lambda_handler' } as const;

describe('Invoke: Python functions', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('Invoke: python3.12 and python3.9 both answer with the json.dumps of the return value', async () => {
    const code = [
      'def lambda_handler(event, context):',
      '    kind = event.get("kind")',
      '    if kind == "none":',
      '        return None',
      '    if kind == "text":',
      '        return "hi"',
      '    return {"got": event, "list": [1, 2.5, True, None], "text": "h\\u00e9llo"}',
      '',
    ].join('\n');
    for (const runtime of ['python3.12', 'python3.9'] as const) {
      const name = `py-values-${runtime.replace('.', '-')}`;
      await createFunction(t.lambda, name, python(code), { ...PY, Runtime: runtime });
      const dict = await invoke(t.lambda, name, { kind: 'dict', n: 1 });
      assert.equal(dict.functionError, undefined, dict.raw);
      assert.deepEqual(dict.payload, { got: { kind: 'dict', n: 1 }, list: [1, 2.5, true, null], text: 'héllo' });
      assert.equal((await invoke(t.lambda, name, { kind: 'text' })).raw, '"hi"');
      assert.equal((await invoke(t.lambda, name, { kind: 'none' })).raw, 'null');
    }
  });

  it('Invoke: the Python context carries the function identity, the alias ARN, memory, request id and remaining time', async () => {
    const name = 'py-context';
    await createFunction(
      t.lambda,
      name,
      python(
        [
          'import os',
          'def lambda_handler(event, context):',
          '    return {',
          '        "function_name": context.function_name,',
          '        "function_version": context.function_version,',
          '        "invoked_function_arn": context.invoked_function_arn,',
          '        "memory_limit_in_mb": context.memory_limit_in_mb,',
          '        "aws_request_id": context.aws_request_id,',
          '        "log_group_name": context.log_group_name,',
          '        "log_stream_name": context.log_stream_name,',
          '        "remaining": context.get_remaining_time_in_millis(),',
          '        "env_stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],',
          '        "handler": os.environ["_HANDLER"],',
          '        "user": os.environ.get("STAGE"),',
          '    }',
          '',
        ].join('\n'),
      ),
      { ...PY, MemorySize: 512, Timeout: 5, Environment: { Variables: { STAGE: 'beta' } } },
    );
    await t.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'blue', FunctionVersion: '1' }));
    const out = await invoke(t.lambda, name, {}, { Qualifier: 'blue', LogType: 'Tail' });
    const ctx = out.payload as Record<string, unknown>;
    assert.equal(ctx.function_name, name);
    assert.equal(ctx.function_version, '1');
    assert.equal(ctx.invoked_function_arn, `arn:aws:lambda:us-east-1:000000000000:function:${name}:blue`);
    assert.equal(ctx.memory_limit_in_mb, '512');
    assert.equal(ctx.log_group_name, `/aws/lambda/${name}`);
    assert.match(String(ctx.log_stream_name), /^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]{32}$/);
    assert.equal(ctx.env_stream, ctx.log_stream_name);
    assert.equal(ctx.handler, 'lambda_function.lambda_handler');
    assert.equal(ctx.user, 'beta');
    assert.ok(out.log.startsWith(`START RequestId: ${String(ctx.aws_request_id)} Version: 1\n`), out.log);
    const remaining = ctx.remaining as number;
    assert.ok(remaining > 0 && remaining <= 5000, `remaining ${remaining}`);
  });

  it('Invoke: print() output appears in the Tail log between START and END, and the tail is the last 4 KB', async () => {
    const name = 'py-print';
    await createFunction(
      t.lambda,
      name,
      python(
        'def lambda_handler(event, context):\n    for i in range(event["lines"]):\n        print("line %04d %s" % (i, "x" * 40))\n    return context.aws_request_id\n',
      ),
      PY,
    );
    const small = await invoke(t.lambda, name, { lines: 2 }, { LogType: 'Tail' });
    const id = small.payload as string;
    const lines = small.log.trimEnd().split('\n');
    assert.equal(lines[0], `START RequestId: ${id} Version: $LATEST`);
    assert.equal(lines[1], `line 0000 ${'x'.repeat(40)}`);
    assert.equal(lines[2], `line 0001 ${'x'.repeat(40)}`);
    assert.equal(lines[3], `END RequestId: ${id}`);
    assert.match(
      lines[4] ?? '',
      new RegExp(
        `^REPORT RequestId: ${id}\\tDuration: [0-9.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 128 MB\\tMax Memory Used: \\d+ MB`,
      ),
    );

    // 200 lines of 50 bytes are ~10 KB: only the last 4096 bytes come back, ending with the REPORT line.
    const big = await invoke(t.lambda, name, { lines: 200 }, { LogType: 'Tail' });
    assert.equal(Buffer.byteLength(big.log), 4096);
    assert.ok(!big.log.includes('START RequestId'));
    assert.ok(
      big.log.includes(`line 0199 ${'x'.repeat(40)}\nEND RequestId: ${String(big.payload)}\nREPORT RequestId: ${String(big.payload)}\t`),
      big.log,
    );
    assert.ok(big.log.endsWith('\n'));

    const none = await invoke(t.lambda, name, { lines: 1 });
    assert.equal(none.log, '', 'no log comes back without LogType Tail');
  });

  it('Invoke: a Python exception is an Unhandled function error with errorMessage, errorType, requestId and stackTrace', async () => {
    const name = 'py-raises';
    await createFunction(
      t.lambda,
      name,
      python(
        'import os\n\ndef fail(n):\n    raise ValueError("bad value %d" % n)\n\ndef lambda_handler(event, context):\n    if event.get("ok"):\n        return os.getpid()\n    fail(7)\n',
      ),
      PY,
    );
    const pid = (await invoke(t.lambda, name, { ok: true })).payload as number;
    const out = await invoke(t.lambda, name, {}, { LogType: 'Tail' });
    assert.equal(out.statusCode, 200);
    assert.equal(out.functionError, 'Unhandled');
    const err = out.payload as { errorMessage: string; errorType: string; requestId: string; stackTrace: string[] };
    assert.deepEqual(Object.keys(err).sort(), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);
    assert.equal(err.errorMessage, 'bad value 7');
    assert.equal(err.errorType, 'ValueError');
    assert.ok(out.log.startsWith(`START RequestId: ${err.requestId} `), out.log);
    assert.ok(Array.isArray(err.stackTrace) && err.stackTrace.every((s) => typeof s === 'string'));
    assert.ok(
      err.stackTrace.some((s) => s.includes('lambda_function.py') && s.includes('in fail')),
      JSON.stringify(err.stackTrace),
    );
    // A function error does not cost the environment: the next invocation runs in the same process.
    assert.equal((await invoke(t.lambda, name, { ok: true })).payload, pid);
  });

  it('Invoke: a return value json.dumps cannot encode is a function error', async () => {
    await createFunction(t.lambda, 'py-unserialisable', python('def lambda_handler(event, context):\n    return {1, 2}\n'), PY);
    const out = await invoke(t.lambda, 'py-unserialisable');
    assert.equal(out.functionError, 'Unhandled');
    assert.match((out.payload as { errorMessage: string }).errorMessage, /not JSON serializable/);
  });

  it('Invoke: a Python function can import boto3 and call Versa through AWS_ENDPOINT_URL', async () => {
    const name = 'py-boto3';
    await createFunction(
      t.lambda,
      name,
      python('import boto3\n\ndef lambda_handler(event, context):\n    return boto3.client("sts").get_caller_identity()["Account"]\n'),
      { ...PY, Timeout: 20 },
    );
    const out = await invoke(t.lambda, name);
    assert.equal(out.functionError, undefined, out.raw);
    assert.equal(out.payload, '000000000000');
  });
});

describe('Invoke: custom runtimes (provided.al2023)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const PROVIDED = { Runtime: 'provided.al2023', Handler: 'function.handler' } as const;

  it('Invoke: an executable `#!/usr/bin/env node` bootstrap running the Runtime API loop answers invocations', async () => {
    const bootstrap = [
      '#!/usr/bin/env node',
      'const http = require("node:http");',
      'const base = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/`;',
      'const call = (method, url, body) => new Promise((resolve, reject) => {',
      '  const req = http.request(url, { method }, (res) => {',
      '    let data = "";',
      '    res.on("data", (c) => (data += c));',
      '    res.on("end", () => resolve({ headers: res.headers, body: data }));',
      '  });',
      '  req.on("error", reject);',
      '  req.end(body);',
      '});',
      'let count = 0;',
      '(async () => {',
      '  for (;;) {',
      '    const next = await call("GET", base + "next");',
      '    const id = next.headers["lambda-runtime-aws-request-id"];',
      '    const reply = { echo: JSON.parse(next.body), handler: process.env._HANDLER, count: ++count, arn: next.headers["lambda-runtime-invoked-function-arn"] };',
      '    await call("POST", base + id + "/response", JSON.stringify(reply));',
      '  }',
      '})();',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'provided-node', { bootstrap }, PROVIDED);
    const first = await invoke(t.lambda, 'provided-node', { hello: 'world' });
    assert.equal(first.functionError, undefined, first.raw);
    assert.deepEqual(first.payload, {
      echo: { hello: 'world' },
      handler: 'function.handler',
      count: 1,
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:provided-node',
    });
    assert.equal(((await invoke(t.lambda, 'provided-node', {})).payload as { count: number }).count, 2);
  });

  it('Invoke: an executable python3 bootstrap using only the standard library answers, and reports errors', async () => {
    const bootstrap = [
      '#!/usr/bin/env python3',
      'import json, os, urllib.request',
      'base = "http://%s/2018-06-01/runtime/invocation/" % os.environ["AWS_LAMBDA_RUNTIME_API"]',
      'while True:',
      '    with urllib.request.urlopen(base + "next") as res:',
      '        request_id = res.headers["Lambda-Runtime-Aws-Request-Id"]',
      '        event = json.loads(res.read())',
      '    if event.get("fail"):',
      '        url, body = base + request_id + "/error", {"errorMessage": "asked to fail", "errorType": "CustomError"}',
      '    else:',
      '        url, body = base + request_id + "/response", {"echo": event, "runtime": "python bootstrap"}',
      '    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={"Lambda-Runtime-Function-Error-Type": "CustomError"})',
      '    urllib.request.urlopen(req).read()',
      '',
    ].join('\n');
    await createFunction(t.lambda, 'provided-python', { bootstrap }, PROVIDED);
    const ok = await invoke(t.lambda, 'provided-python', { n: 1 });
    assert.equal(ok.functionError, undefined, ok.raw);
    assert.deepEqual(ok.payload, { echo: { n: 1 }, runtime: 'python bootstrap' });
    const failed = await invoke(t.lambda, 'provided-python', { fail: true });
    assert.equal(failed.functionError, 'Unhandled');
    assert.deepEqual(failed.payload, { errorMessage: 'asked to fail', errorType: 'CustomError' });
    assert.deepEqual((await invoke(t.lambda, 'provided-python', { n: 2 })).payload, { echo: { n: 2 }, runtime: 'python bootstrap' });
  });
});
