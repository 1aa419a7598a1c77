/**
 * Idle execution environments are frozen (a freezer cgroup each), as AWS freezes them between
 * invocations: what a function leaves running takes no CPU until its next invocation. Real functions on
 * a real server, in the sandbox and without it; skipped where the server may make no cgroup (it says so
 * in /_versa/health) or the machine has no freezer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteFunctionCommand } from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, type TestServer } from './harness.js';
import { invoke, isAlive, pidsWithEnv, sleep, waitFor } from './invoke-helpers.js';

/**
 * Asked to `start`, leaves a Node process counting in a file of /tmp every 5 ms (the count written whole,
 * by a rename), with VERSA_COUNTER=marker in its environment so that the test finds it; else reads the
 * count twice, 200 ms apart.
 */
const COUNTER = `
const fs = require('node:fs');
const { spawn } = require('node:child_process');
const COUNT = "const fs = require('node:fs'); const f = process.argv[1]; let n = 0; setInterval(() => { fs.writeFileSync(f + '.new', String(++n)); fs.renameSync(f + '.new', f); }, 5);";
const read = (f) => Number(fs.readFileSync(f, 'utf8'));
exports.handler = async (e) => {
  if (e.start) {
    spawn(process.execPath, ['-e', COUNT, e.file], { detached: true, stdio: 'ignore', env: { ...process.env, VERSA_COUNTER: e.marker } }).unref();
    return 'started';
  }
  const before = read(e.file);
  await new Promise((r) => setTimeout(r, 200));
  return { before, after: read(e.file) };
};
`;

interface Health {
  sandbox: 'bwrap' | 'off';
  limits: string;
}

/** Whether the server makes cgroups here and the machine can freeze them (a v1 freezer hierarchy, or v2). */
async function canFreeze(t: TestServer): Promise<boolean> {
  const health = (await (await fetch(`${t.url}/_versa/health`)).json()) as Health;
  const freezer = existsSync('/sys/fs/cgroup/freezer/cgroup.procs') || existsSync('/sys/fs/cgroup/cgroup.controllers');
  return freezer && /cgroup/.test(health.limits) && (t.server.options.sandbox === 'off' || health.sandbox === 'bwrap');
}

/** A process's CPU time so far (user and system, in clock ticks), from /proc/PID/stat. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The host folders of the cgroups (v1 or v2) `pid` is in, beneath this server's `versa-<pid>` ones. */
function cgroupDirs(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .map((line) => /^\d+:([^:]*):(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && m[2]!.includes(`/versa-${process.pid}/`))
    .map((m) => path.join('/sys/fs/cgroup', m[1] === '' ? '' : m[1]!.replace(/^name=/, ''), m[2]!));
}

/** A function leaving a counter running in its environment, and how the host sees that counter. */
async function leaveCounter(t: TestServer, name: string) {
  const marker = randomBytes(8).toString('hex');
  const file = `/tmp/versa-freeze-${marker}`;
  await createFunction(t.lambda, name, { 'index.js': COUNTER }, { Timeout: 10 });
  assert.equal((await invoke(t.lambda, name, { start: true, file, marker })).payload, 'started');
  const pid = (await waitFor('the counter to start', () => {
    const pids = pidsWithEnv('VERSA_COUNTER', marker);
    return pids.length === 1 ? pids[0] : undefined;
  }))!;
  // Its /tmp as the process sees it: the sandbox's own, or the host's.
  const seen = `/proc/${pid}/root${file}`;
  const count = () => Number(readFileSync(seen, 'utf8'));
  await waitFor('the counter to count', () => existsSync(seen) && count() > 0);
  /** Resolves with the count once it stays still for 250 ms (the environment froze). */
  const frozen = async () =>
    (await waitFor(
      'the counter to stop',
      async () => {
        const n = count();
        await sleep(250);
        return count() === n ? { n } : undefined;
      },
      6000,
      0,
    ))!.n;
  return { pid, file, marker, count, frozen };
}

for (const sandbox of ['auto', 'off'] as const) {
  describe(`freezing idle environments (--sandbox ${sandbox})`, () => {
    let t: TestServer;
    let freezes = false;
    before(async () => {
      t = await startTestServer({ sandbox });
      freezes = await canFreeze(t);
    });
    after(async () => {
      await t?.close();
    });

    it('Invoke: a process the handler left running stops while its environment is idle, and runs again at the next invocation', async (ctx) => {
      if (!freezes) return ctx.skip('no freezer cgroup (or no bubblewrap) here');
      const counter = await leaveCounter(t, 'idler');
      const still = await counter.frozen();
      // Idle for a second more: not one count, not one tick of CPU.
      const ticks = cpuTicks(counter.pid);
      await sleep(1000);
      assert.equal(counter.count(), still);
      assert.equal(cpuTicks(counter.pid), ticks);
      // The next invocation thaws it: the handler sees it count again.
      const { payload } = await invoke(t.lambda, 'idler', { file: counter.file });
      const seen = payload as { before: number; after: number };
      assert.ok(seen.before >= still && seen.after > seen.before, JSON.stringify({ still, ...seen }));

      // Frozen again, it is still stopped cleanly: every process ends and its cgroups go.
      await counter.frozen();
      const dirs = cgroupDirs(counter.pid);
      assert.ok(dirs.length > 0, 'the counter is in the environment’s cgroups');
      await t.lambda.send(new DeleteFunctionCommand({ FunctionName: 'idler' }));
      await waitFor('the counter to end', () => !isAlive(counter.pid));
      await waitFor('its cgroups to be removed', () => dirs.every((d) => !existsSync(d)));
    });
  });
}

describe('freezing idle environments: the idle reaper', () => {
  let t: TestServer;
  let freezes = false;
  before(async () => {
    t = await startTestServer({ idleTimeoutSeconds: 4 });
    freezes = await canFreeze(t);
  });
  after(async () => {
    await t?.close();
  });

  it('a frozen environment idle for the idle timeout is stopped, its processes ended and its cgroups removed', async (ctx) => {
    if (!freezes) return ctx.skip('no freezer cgroup here');
    const counter = await leaveCounter(t, 'reaped');
    await counter.frozen();
    const dirs = cgroupDirs(counter.pid);
    assert.ok(dirs.length > 0, 'the counter is in the environment’s cgroups');
    assert.equal(t.server.services.environments.stats().total, 1);
    await waitFor('the counter to end', () => !isAlive(counter.pid), 8000, 200);
    await waitFor('its cgroups to be removed', () => dirs.every((d) => !existsSync(d)));
    assert.equal(t.server.services.environments.stats().total, 0);
  });
});
