import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FakeClock } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { DeploymentController } from '../deploy/deployment-controller.js';
import type { StackDoc } from '../domain/stack.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';
import type { StackServices } from './provisioners.js';
import { StackService } from './stack-service.js';

/**
 * How a stack operation's failures reach the server's log: a fault (an error Versa did not mean to
 * raise) once, at error level, with the stack, the resource and the stack trace; a refusal never above info.
 */
describe('StackService: failures in the log', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'versa-stack-log-'));
    store = openSqliteStore(path.join(dir, 'versa.db'));
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * A stack with one SSM parameter, whose deletion `remove` performs (and making one, `put`); the log
   * lines, and the service.
   */
  async function setup(name: string, remove: () => Promise<void>, stacks = store, put?: () => Promise<void>) {
    const lines: string[] = [];
    const logger = createLogger('debug', {}, (line) => lines.push(line));
    const services = {
      parameters: { delete: remove, put },
      codeDeploy: { listDeploymentConfigs: () => Promise.resolve([]) },
    } as unknown as StackServices;
    const controller = { onChange: () => undefined } as unknown as DeploymentController;
    const service = new StackService(stacks, services, controller, new FakeClock(), logger);
    const doc: StackDoc = {
      name,
      stackId: `arn:aws:cloudformation:us-east-1:000000000000:stack/${name}/1`,
      region: 'us-east-1',
      status: 'CREATE_COMPLETE',
      createdAt: 1,
      updatedAt: 1,
      parameters: {},
      resources: {
        P: { logicalId: 'P', type: 'AWS::SSM::Parameter', physicalId: `${name}-p`, properties: {}, attributes: {} },
      },
      outputs: [],
      previousAliasVersions: [],
      events: [],
    };
    await store.stacks.put(doc);
    const errors = () => lines.filter((l) => / ERROR /.test(l));
    return { lines, errors, service };
  }

  it('a resource that fails for an unforeseen reason: one error line with the stack, the resource and the trace', async () => {
    const { errors, service, lines } = await setup('faulty', () => {
      throw new TypeError('Cannot read properties of undefined (reading x)');
    });
    await service.beginDelete('faulty');
    await service.close();
    assert.equal(errors().length, 1, lines.join('\n'));
    const [line] = errors();
    assert.match(line!, /stack operation failed unexpectedly/);
    assert.match(line!, /"stack":"faulty"/);
    assert.match(line!, /"resource":"P"/);
    assert.match(line!, /TypeError: Cannot read properties of undefined/);
    assert.match(line!, /\\n +at /, 'with the stack trace');
    const stack = await store.stacks.get('faulty');
    assert.equal(stack?.status, 'DELETE_FAILED');
    assert.equal(stack.events.at(-1)?.reason, 'Internal Failure');
  });

  it('a create that fails for an unforeseen reason: one error line, though the step and the operation both report it', async () => {
    const { errors, service, lines } = await setup(
      'create-fault',
      () => Promise.resolve(),
      store,
      () => {
        throw new TypeError('x is not a function');
      },
    );
    const template = JSON.stringify({
      Resources: { Made: { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'v' } } },
    });
    await service.deploy('made-fault', { template }, { region: 'us-east-1' });
    for (let i = 0; i < 200 && (await store.stacks.get('made-fault'))?.operation; i++) await new Promise((r) => setTimeout(r, 10));
    await service.close();
    const stack = await store.stacks.get('made-fault');
    assert.equal(stack?.status, 'ROLLBACK_COMPLETE');
    assert.equal(stack.reason, 'Internal Failure');
    assert.equal(errors().length, 1, lines.join('\n'));
    assert.match(errors()[0]!, /"stack":"made-fault","resource":"Made".*TypeError: x is not a function.*\\n +at /);
    assert.ok(lines.some((l) => / INFO stack operation failed; rolling back/.test(l)));
  });

  it('a refusal (a PlatformError) is the stack’s reason and an info line, never an error', async () => {
    const { errors, service, lines } = await setup('refused', () => {
      throw new PlatformError('ResourceConflictException', 'The parameter is in use.');
    });
    await service.beginDelete('refused');
    await service.close();
    assert.deepEqual(errors(), []);
    assert.ok(
      lines.some((l) => / INFO stack deletion failed/.test(l) && /The parameter is in use/.test(l)),
      lines.join('\n'),
    );
    assert.equal((await store.stacks.get('refused'))?.status, 'DELETE_FAILED');
  });

  it('a fault of the stack’s own deletion (the store fails): one error line with the trace; the stack is DELETE_FAILED, not in progress for ever', async () => {
    const failing: Store = {
      ...store,
      stacks: {
        get: (n) => store.stacks.get(n),
        list: () => store.stacks.list(),
        put: (s) => store.stacks.put(s),
        step: (s, step) => store.stacks.step(s, step),
        delete: () => Promise.reject(new Error('disk I/O error')),
      },
    };
    for (const door of ['cloudformation', 'versa'] as const) {
      const name = `store-fault-${door}`;
      const { errors, service, lines } = await setup(name, () => Promise.resolve(), failing);
      if (door === 'cloudformation') await service.beginDelete(name);
      // Versa's own door hears CloudFormation's words; its API logs nothing more for a PlatformError.
      else await assert.rejects(service.delete(name), { name: 'PlatformError', code: 'InternalFailure' });
      await service.close();
      assert.equal(errors().length, 1, lines.join('\n'));
      assert.match(errors()[0]!, new RegExp(`"stack":"${name}".*Error: disk I/O error.*\\\\n +at `));
      const stack = await store.stacks.get(name);
      assert.equal(stack?.status, 'DELETE_FAILED');
      assert.equal(stack.reason, 'Internal Failure');
    }
  });
});
