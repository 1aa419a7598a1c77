import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launcherFor, nodeFlags } from './launchers.js';

describe('nodeFlags', () => {
  // [MemorySize, the machine's cores, semi-space MB, old space MB, V8 worker threads]
  const table: [number, number, number, number, number][] = [
    [128, 2, 6, 116, 1],
    [256, 2, 12, 231, 1],
    [512, 8, 25, 461, 1],
    [1024, 8, 51, 922, 1],
    [1769, 8, 88, 1593, 1],
    [1770, 8, 88, 1593, 2],
    [3008, 8, 150, 2708, 2],
    [10240, 8, 512, 9216, 6],
    [10240, 2, 512, 9216, 2],
    [10240, 1, 512, 9216, 1],
  ];
  for (const [memory, cores, semi, old, threads] of table) {
    it(`nodeFlags: MemorySize ${memory} on ${cores} cores gets ${threads} V8 thread(s), and AWS's heap sizes where no cgroup limits it`, () => {
      assert.deepEqual(nodeFlags(memory, false, cores), [`--v8-pool-size=${threads}`]);
      const heap = [`--max-semi-space-size=${semi}`, `--max-old-space-size=${old}`, `--v8-pool-size=${threads}`];
      assert.deepEqual(nodeFlags(memory, true, cores), heap);
    });
  }

  it('launcherFor: a Node runtime gets its flags before its bootstrap; V8 flags only where its heap limit is the only limit', () => {
    const paths = { taskRoot: '/var/task', nodeBootstrap: '/var/runtime/bootstrap.mjs', pythonBootstrap: '/var/runtime/bootstrap.py' };
    const limited = launcherFor('nodejs20.x', paths, 'python3', 128, false);
    assert.equal(limited.command, process.execPath);
    assert.deepEqual(limited.args, [...nodeFlags(128, false), '/var/runtime/bootstrap.mjs']);
    assert.ok(!limited.args.some((a) => a.startsWith('--max-')), 'no V8 flag: the built-in code cache stays valid');
    assert.deepEqual(launcherFor('nodejs20.x', paths, 'python3', 128, true).args, [...nodeFlags(128, true), '/var/runtime/bootstrap.mjs']);
    assert.deepEqual(launcherFor('python3.12', paths, 'python3', 128, true).args, ['-S', '-u', '/var/runtime/bootstrap.py']);
    // malloc's arenas are the runtime's own setting, by a variable (a flag would be a V8 flag's cost).
    assert.deepEqual(limited.runtimeOnlyEnv, { MALLOC_ARENA_MAX: '2' });
  });
});
