/**
 * Spare runtime processes (src/runtime/spares.ts): a process that already joined a fresh cgroup and waits
 * to become the next cold start's sandboxed runtime. Tried on a real Isolation, where bubblewrap and a
 * writable cgroup exist (skipped elsewhere, as the sandbox tests are).
 */
import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../src/core/logger.js';
import { Isolation, MEMORY_HEADROOM_MB, UnsafeEnvironmentError } from '../src/runtime/isolation.js';
import { waitFor } from './invoke-helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'versa-spares-'));
const python = { executable: 'python3', prefixes: [] };
const spec = (memoryMb: number) => ({ runtime: 'nodejs20.x', memoryMb, tmpMb: 512 });
/** A runtime that prints the variables it was given and waits to be stopped. */
const launch = {
  command: process.execPath,
  args: ['-e', 'process.stdout.write(JSON.stringify(process.env) + "\\n"); setInterval(() => {}, 1000);'],
  env: {},
  runtimeOnlyEnv: {},
  runtimeDir: '/var/runtime',
};
const ENV = { AWS_LAMBDA_FUNCTION_NAME: 'spare-test', SECRET: "it's\nmultiline and 'quoted' $HOME", PATH: '/usr/bin:/bin' };

function create(opts: { spareShell?: string } = {}): Promise<Isolation> {
  return Isolation.create({ mode: 'auto', supportDir: path.join(dir, 'support'), python, logger: createLogger('silent'), ...opts });
}

/** The first line the process prints. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${text}`)));
  });
}

/** Host processes that are a spare of this process's cgroups, waiting (bash running the spare's script). */
function waitingSpares(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('mapfile -d') && cmdline.includes(`versa-${process.pid}/spare-`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The memory limit of the cgroup `pid` is in (cgroup v1 or v2). */
function memoryLimit(pid: number): number {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:[^:]*\bmemory\b[^:]*:/.test(l));
  if (v1) {
    const rel = v1.split(':')[2]!;
    return Number(readFileSync(path.join('/sys/fs/cgroup/memory', rel, 'memory.limit_in_bytes'), 'utf8'));
  }
  const rel = lines.find((l) => l.startsWith('0::'))!.slice(3);
  return Number(readFileSync(path.join('/sys/fs/cgroup', rel, 'memory.max'), 'utf8'));
}

describe('spares: a runtime process waiting in its cgroup for the next cold start', () => {
  let isolation: Isolation;
  let spares = false;
  before(async () => {
    isolation = await create();
    spares = isolation.status.sandbox === 'bwrap' && /cgroup/.test(isolation.status.limits);
  });
  after(async () => {
    await isolation?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('confine: a sandboxed Node runtime starts from the spare with exactly its own variables and its MemorySize', async (ctx) => {
    if (!spares) return ctx.skip('no bubblewrap or no writable cgroup here');
    await waitFor('a spare to wait', () => waitingSpares().length === 1);
    const confinement = await isolation.confine('env-1', spec(512), dir);
    assert.ok(confinement.hasSpare);
    const child = confinement.spawn(launch, ENV, true);
    try {
      const env = JSON.parse(await firstLine(child)) as Record<string, string>;
      // Nothing of the spare's own (bash's SHLVL, _) reaches the runtime, and nothing is lost on the way; bubblewrap
      // sets PWD, as it does for a runtime started the usual way (the last test).
      assert.deepEqual(env, { ...ENV, PWD: '/var/task' });
      assert.equal(memoryLimit(child.pid!), (512 + MEMORY_HEADROOM_MB) * 1024 * 1024);
      // The variables went through a pipe: not one shows on the sandbox's command line.
      assert.doesNotMatch(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'), /spare-test|multiline/);
      // The next one waits already.
      await waitFor('the next spare', () => waitingSpares().length === 1);
    } finally {
      confinement.killAll();
      await confinement.release();
    }
  });

  it('confine: a provided.* runtime takes no spare, and a variable no environment can hold starts nothing', async (ctx) => {
    if (!spares) return ctx.skip('no bubblewrap or no writable cgroup here');
    await waitFor('a spare to wait', () => waitingSpares().length === 1);
    const provided = await isolation.confine('env-2', { ...spec(128), runtime: 'provided.al2023' }, dir);
    assert.equal(provided.hasSpare, false);
    await provided.release();
    const confinement = await isolation.confine('env-3', spec(128), dir);
    assert.ok(confinement.hasSpare);
    // No environment can hold a NUL, and bwrap's options would take the rest of the value for more of them.
    assert.throws(() => confinement.spawn(launch, { ...ENV, BAD: 'a\0b' }, true), UnsafeEnvironmentError);
    await confinement.release();
    // The spare was stopped, not left waiting, and a new one took its place.
    await waitFor('one spare again', () => waitingSpares().length === 1);
  });

  it('close: leaves no spare behind', async (ctx) => {
    if (!spares) return ctx.skip('no bubblewrap or no writable cgroup here');
    const own = await create();
    await waitFor('two spares (this one and the suite’s)', () => waitingSpares().length === 2);
    await own.close();
    await waitFor('only the suite’s', () => waitingSpares().length === 1);
  });

  it('a waiting spare does not keep the server’s process alive (a server that fails to start exits)', (ctx) => {
    if (!spares) return ctx.skip('no bubblewrap or no writable cgroup here');
    const script = [
      `import { Isolation } from ${JSON.stringify(new URL('../src/runtime/isolation.js', import.meta.url).href)};`,
      `import { createLogger } from ${JSON.stringify(new URL('../src/core/logger.js', import.meta.url).href)};`,
      `await Isolation.create({ mode: 'auto', supportDir: ${JSON.stringify(path.join(dir, 'support-2'))}, python: { executable: 'python3', prefixes: [] }, logger: createLogger('silent') });`,
      'await new Promise((r) => setTimeout(r, 300));',
      'console.log("done");',
    ].join('\n');
    const started = Date.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 }).toString();
    assert.equal(out.trim(), 'done');
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
  });

  it('confine: without the spare’s shell, runtimes start as before', async (ctx) => {
    if (!spares) return ctx.skip('no bubblewrap or no writable cgroup here');
    const plain = await create({ spareShell: '/nonexistent/bash' });
    try {
      const confinement = await plain.confine('env-4', spec(256), dir);
      assert.equal(confinement.hasSpare, false);
      const child = confinement.spawn(launch, ENV, true);
      const env = JSON.parse(await firstLine(child)) as Record<string, string>;
      assert.deepEqual(env, { ...ENV, PWD: '/var/task' });
      assert.equal(memoryLimit(child.pid!), (256 + MEMORY_HEADROOM_MB) * 1024 * 1024);
      confinement.killAll();
      await confinement.release();
    } finally {
      await plain.close();
    }
  });
});
