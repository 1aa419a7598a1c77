/**
 * Reserved concurrency: Put/Get/DeleteFunctionConcurrency as AWS answers them, and its enforcement — a
 * function never runs more than its reservation at once, and functions without one cannot take the
 * environments it holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  type TooManyRequestsException,
} from '@aws-sdk/client-lambda';
import { awsFetch, createFunction, errorOf, startTestServer, type TestServer } from './harness.js';
import { invoke, sleep, waitFor } from './invoke-helpers.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';

const slow = {
  'index.js': 'exports.handler = async (e) => {\n  await new Promise((r) => setTimeout(r, e.ms ?? 0));\n  return { ok: true };\n};\n',
};

describe('Reserved concurrency: the API (maxEnvironments 20: at least 2 stay unreserved)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ maxEnvironments: 20 });
    await createFunction(t.lambda, 'rc', slow);
    await createFunction(t.lambda, 'rc-other', slow);
  });
  after(() => t.close());

  const put = (FunctionName: string, ReservedConcurrentExecutions: number | undefined) =>
    t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName, ReservedConcurrentExecutions }));
  const get = async (FunctionName: string) => {
    const out = await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName }));
    return out.ReservedConcurrentExecutions;
  };
  const account = async () => (await t.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit;

  it('PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency: a round trip, shown in GetFunction and GetAccountSettings', async () => {
    assert.deepEqual(await account().then((a) => [a?.ConcurrentExecutions, a?.UnreservedConcurrentExecutions]), [20, 20]);
    assert.equal(await get('rc'), undefined);
    assert.equal((await t.lambda.send(new GetFunctionCommand({ FunctionName: 'rc' }))).Concurrency, undefined);

    const out = await put('rc', 5);
    assert.equal(out.$metadata.httpStatusCode, 200);
    assert.equal(out.ReservedConcurrentExecutions, 5);
    assert.equal(await get('rc'), 5);
    // A full and a partial ARN name the same function.
    assert.equal(await get(`${ARN}rc`), 5);
    assert.equal(await get('000000000000:function:rc'), 5);
    assert.deepEqual((await t.lambda.send(new GetFunctionCommand({ FunctionName: 'rc' }))).Concurrency, {
      ReservedConcurrentExecutions: 5,
    });
    // The setting is the function's: GetFunction of a version shows it too.
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'rc' }));
    assert.deepEqual((await t.lambda.send(new GetFunctionCommand({ FunctionName: 'rc', Qualifier: '1' }))).Concurrency, {
      ReservedConcurrentExecutions: 5,
    });
    assert.equal((await account())?.UnreservedConcurrentExecutions, 15);

    // Zero is a reservation (the function is switched off), not its absence.
    assert.equal((await put(`${ARN}rc`, 0)).ReservedConcurrentExecutions, 0);
    assert.equal(await get('rc'), 0);
    assert.equal((await account())?.UnreservedConcurrentExecutions, 20);

    const deleted = await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'rc' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal(await get('rc'), undefined);
    assert.equal((await t.lambda.send(new GetFunctionCommand({ FunctionName: 'rc' }))).Concurrency, undefined);
    // On the wire: `{}` when none is set.
    const raw = await awsFetch(`${t.url}/2019-09-30/functions/rc/concurrency`);
    assert.equal(raw.status, 200);
    assert.deepEqual(await raw.json(), {});
    // Deleting what is not set is not an error.
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'rc' }));
  });

  it('PutFunctionConcurrency: more than leaves the account its unreserved minimum is InvalidParameterValueException', async () => {
    const message =
      "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [2].";
    for (const n of [19, 20, 21]) {
      const err = await errorOf(() => put('rc', n));
      assert.equal(err.name, 'InvalidParameterValueException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.message, message);
    }
    // AWS's body for this refusal is its message alone, without the Type other Lambda errors carry.
    const raw = await awsFetch(`${t.url}/2017-10-31/functions/rc/concurrency`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ReservedConcurrentExecutions: 19 }),
    });
    assert.deepEqual(await raw.json(), { message });
    assert.equal((await put('rc', 18)).ReservedConcurrentExecutions, 18);
    // The function's own reservation is replaced, not added to.
    assert.equal((await put('rc', 10)).ReservedConcurrentExecutions, 10);
    // Every function's reservation counts: 10 + 9 leaves 1.
    const err = await errorOf(() => put('rc-other', 9));
    assert.equal(err.name, 'InvalidParameterValueException');
    assert.equal(err.message, message);
    assert.equal((await put('rc-other', 8)).ReservedConcurrentExecutions, 8);
    assert.equal((await account())?.UnreservedConcurrentExecutions, 2);
    assert.equal(await get('rc'), 10);
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'rc' }));
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'rc-other' }));
  });

  it('PutFunctionConcurrency: a negative or missing value is a ValidationException', async () => {
    const negative = await errorOf(() => put('rc', -1));
    assert.equal(negative.name, 'ValidationException');
    assert.equal(negative.$metadata?.httpStatusCode, 400);
    assert.equal(
      negative.message,
      "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
    const missing = await errorOf(() => put('rc', undefined));
    assert.equal(missing.name, 'ValidationException');
    assert.equal(
      missing.message,
      "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
    );
    assert.equal(await get('rc'), undefined);
  });

  it('PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency: a version or alias is refused', async () => {
    const message =
      'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.';
    for (const call of [
      () => put(`${ARN}rc:$LATEST`, 1),
      () => put('rc:1', 1),
      () => get(`${ARN}rc:live`),
      () => t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: `${ARN}rc:1` })),
    ]) {
      const err = await errorOf(call);
      assert.equal(err.name, 'InvalidParameterValueException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
      assert.equal(err.message, message);
    }
  });

  it('PutFunctionConcurrency, GetFunctionConcurrency, DeleteFunctionConcurrency: an unknown function is 404 ResourceNotFoundException', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => put('nope', 1), `Function not found: ${ARN}nope:$LATEST`],
      [() => put('nope', 0), `Function not found: ${ARN}nope:$LATEST`],
      [() => get('nope'), `Function not found: ${ARN}nope`],
      [() => t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'nope' })), `Function not found: ${ARN}nope:$LATEST`],
    ];
    for (const [call, message] of cases) {
      const err = await errorOf(call);
      assert.equal(err.name, 'ResourceNotFoundException');
      assert.equal(err.$metadata?.httpStatusCode, 404);
      assert.equal(err.message, message);
    }
  });

  it('DeleteFunction: the reservation goes with the function', async () => {
    await createFunction(t.lambda, 'rc-gone', slow);
    await put('rc-gone', 7);
    assert.equal((await account())?.UnreservedConcurrentExecutions, 13);
    await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'rc-gone' }));
    assert.equal((await account())?.UnreservedConcurrentExecutions, 20);
    await createFunction(t.lambda, 'rc-gone', slow);
    assert.equal(await get('rc-gone'), undefined);
  });
});

/** The sum of versa_lambda_throttles_total for one function, from the Prometheus endpoint. */
async function throttlesOf(t: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${t.url}/_versa/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(/^versa_lambda_throttles_total\{function_name="([^"]+)"[^}]*\} (\d+)$/gm))
    if (m[1] === name) sum += Number(m[2]);
  return sum;
}

describe('Reserved concurrency: enforcement (maxEnvironments 4)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ maxEnvironments: 4 });
    await createFunction(t.lambda, 'one', slow);
    await createFunction(t.lambda, 'off', slow);
    await createFunction(t.lambda, 'free', slow);
  });
  after(() => t.close());

  const put = (FunctionName: string, ReservedConcurrentExecutions: number) =>
    t.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName, ReservedConcurrentExecutions }));
  const busy = () => t.server.services.environments.stats().busy;
  const throttled = async (name: string) => (await errorOf(() => invoke(t.lambda, name, { ms: 0 }))) as unknown as TooManyRequestsException;

  it('Invoke: a function reserved 1 runs one invocation at a time; the second is 429 ReservedFunctionConcurrentInvocationLimitExceeded', async () => {
    await put('one', 1);
    const running = invoke(t.lambda, 'one', { ms: 1500 });
    await waitFor('the first invocation to run', () => busy() === 1, 5000, 10);
    const second = await throttled('one');
    assert.equal(second.name, 'TooManyRequestsException');
    assert.equal(second.$metadata.httpStatusCode, 429);
    assert.equal(second.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(second.message, 'Rate Exceeded.');
    // As AWS answers it (test_lambda.py's recordings): no Retry-After header.
    assert.equal(second.retryAfterSeconds, undefined);
    // Another version of it counts against the same reservation.
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'one' }));
    assert.equal((await errorOf(() => invoke(t.lambda, 'one', { ms: 0 }, { Qualifier: '1' }))).name, 'TooManyRequestsException');
    assert.equal((await running).statusCode, 200);
    assert.ok((await throttlesOf(t, 'one')) >= 2, 'throttles are counted in the Throttles metric');
    // Once it ended, the next one runs.
    assert.equal((await invoke(t.lambda, 'one', { ms: 0 })).statusCode, 200);
  });

  it('Invoke: functions without a reservation share only what reservations leave; the reserved function still gets its environment', async () => {
    // 'one' holds 1 of 4: the others may use 3 together.
    const fill = [1, 2, 3].map(() => invoke(t.lambda, 'free', { ms: 2000 }));
    await waitFor('three invocations of free to run', () => busy() === 3, 8000, 10);
    const fourth = await throttled('free');
    assert.equal(fourth.name, 'TooManyRequestsException');
    assert.equal(fourth.Reason, 'ConcurrentInvocationLimitExceeded');
    // The environment reserved for 'one' is there for it.
    assert.equal((await invoke(t.lambda, 'one', { ms: 0 })).statusCode, 200);
    for (const out of await Promise.all(fill)) assert.equal(out.statusCode, 200);
  });

  it('Invoke: reserved 0 throttles every invocation; an Event invocation is accepted and retried with back-off, not in a loop', async () => {
    await put('off', 0);
    const sync = await throttled('off');
    assert.equal(sync.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    assert.equal(sync.$metadata.httpStatusCode, 429);

    const accepted = await t.lambda.send(new InvokeCommand({ FunctionName: 'off', InvocationType: 'Event', Payload: Buffer.from('{}') }));
    assert.equal(accepted.StatusCode, 202);
    const id = accepted.$metadata.requestId!;
    await waitFor(
      'the event to be throttled',
      async () => ((await t.server.services.store.asyncEvents.get(id))?.throttles ?? 0) >= 1,
      5000,
    );
    await sleep(1200);
    const event = await t.server.services.store.asyncEvents.get(id);
    assert.equal(event?.status, 'pending');
    assert.equal(event.attempts, 0, 'a throttled start is not an attempt');
    // One second, then two: no more than a few throttles in this time.
    assert.ok(event.throttles <= 3, `throttled ${event.throttles} times in about 1.2 s`);

    // Lifting the reservation lets the retried event run.
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'off' }));
    await waitFor('the event to run', async () => (await t.server.services.store.asyncEvents.get(id))?.status === 'done', 10_000, 100);
    assert.equal((await invoke(t.lambda, 'off', { ms: 0 })).statusCode, 200);
  });

  it('DeleteFunctionConcurrency: lifts the limit at once', async () => {
    await t.lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'one' }));
    const both = await Promise.all([invoke(t.lambda, 'one', { ms: 500 }), invoke(t.lambda, 'one', { ms: 500 })]);
    assert.deepEqual(
      both.map((o) => o.statusCode),
      [200, 200],
    );
  });

  it('restart: reservations hold after the server restarts, and are held back from the first invocation on', async () => {
    await put('off', 0);
    await put('one', 1);
    await t.restart();
    const out = await t.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: 'off' }));
    assert.equal(out.ReservedConcurrentExecutions, 0);
    assert.equal((await t.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit?.UnreservedConcurrentExecutions, 3);
    assert.equal((await throttled('off')).Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
    // 'one' has not been invoked since the start, yet its environment is held back.
    const fill = [1, 2, 3].map(() => invoke(t.lambda, 'free', { ms: 1500 }));
    await waitFor('three invocations of free to run', () => busy() === 3, 8000, 10);
    assert.equal((await throttled('free')).Reason, 'ConcurrentInvocationLimitExceeded');
    for (const o of await Promise.all(fill)) assert.equal(o.statusCode, 200);
  });
});
