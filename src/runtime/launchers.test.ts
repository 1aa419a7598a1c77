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
    it(`nodeFlags: MemorySize ${memory} on ${cores} cores sizes the heap as AWS's runtime does, with ${threads} V8 thread(s)`, () => {
      assert.deepEqual(nodeFlags(memory, cores), [
        `--max-semi-space-size=${semi}`,
        `--max-old-space-size=${old}`,
        `--v8-pool-size=${threads}`,
      ]);
    });
  }

  it('launcherFor: a Node runtime gets the flags before its bootstrap, with or without a cgroup', () => {
    const paths = { taskRoot: '/var/task', nodeBootstrap: '/var/runtime/bootstrap.mjs', pythonBootstrap: '/var/runtime/bootstrap.py' };
    const launch = launcherFor('nodejs20.x', paths, 'python3', 128);
    assert.equal(launch.command, process.execPath);
    assert.deepEqual(launch.args, [...nodeFlags(128), '/var/runtime/bootstrap.mjs']);
    assert.deepEqual(launcherFor('python3.12', paths, 'python3', 128).args, ['-S', '-u', '/var/runtime/bootstrap.py']);
  });
});
