/**
 * Function isolation, tried as an attacker would: real functions on a real server, each in its own
 * bubblewrap sandbox with its own Runtime API secret, memory and process limits. Skipped where bubblewrap
 * cannot run (the server then says so in /_versa/health; CI installs bubblewrap).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';
import { createFunction, errorOf, startTestServer, type TestServer } from './harness.js';
import { invoke, pidsWithEnv, sleep, waitFor } from './invoke-helpers.js';
import { parseProcCgroup } from '../src/runtime/cgroups.js';
import { Isolation } from '../src/runtime/isolation.js';
import { batchScheduler } from '../src/runtime/processes.js';
import { SandboxUnavailableError } from '../src/runtime/sandbox.js';
import { createLogger } from '../src/core/logger.js';

interface Health {
  sandbox: 'bwrap' | 'off';
  sandboxDetail: string;
  limits: string;
}

const readlinkSafe = (p: string) => {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
};

const health = async (t: TestServer) => (await (await fetch(`${t.url}/_versa/health`)).json()) as Health;

/** Reads each path and lists each folder, reporting the error code where it fails. */
const SPY = `
const fs = require('node:fs');
exports.handler = async (e) => {
  const out = {};
  for (const p of e.read ?? []) { try { out[p] = fs.readFileSync(p, 'utf8').slice(0, 200); } catch (err) { out[p] = err.code; } }
  for (const p of e.list ?? []) { try { out[p] = fs.readdirSync(p); } catch (err) { out[p] = err.code; } }
  for (const p of e.write ?? []) { try { fs.writeFileSync(p, 'x'); out[p] = 'written'; } catch (err) { out[p] = err.code; } }
  if (e.signal) { try { process.kill(e.signal, 'SIGTERM'); out.signal = 'sent'; } catch (err) { out.signal = err.code; } }
  if (e.environs) {
    // Every process this function can see, and whatever of their environment it can read.
    out.environs = {};
    for (const pid of fs.readdirSync('/proc').filter((d) => /^\\d+$/.test(d))) {
      try { out.environs[pid] = fs.readFileSync('/proc/' + pid + '/environ', 'utf8'); } catch (err) { out.environs[pid] = err.code; }
    }
  }
  return out;
};
`;

/** Finds every listening TCP port on loopback and asks each for a Runtime API event, without and with guesses. */
const THIEF = `
const fs = require('node:fs');
const http = require('node:http');
// A Runtime API that gave something away: an event (it carries a request id) or an accepted answer.
const get = (url, method = 'GET', body) => new Promise((resolve) => {
  const req = http.request(url, { method, timeout: 1500 }, (res) => {
    let text = '';
    res.on('data', (c) => (text += c));
    res.on('end', () => resolve({ status: res.statusCode, gave: Boolean(res.headers['lambda-runtime-aws-request-id']) || text.includes('"status":"OK"') }));
  });
  req.on('timeout', () => { req.destroy(); resolve({ status: 'timeout' }); });
  req.on('error', (err) => resolve({ status: err.code }));
  req.end(body);
});
exports.handler = async () => {
  const own = process.env.AWS_LAMBDA_RUNTIME_API;
  const ownPort = Number(own.split(':')[1].split('/')[0]);
  const ownSecret = own.split('/')[1];
  const versaPort = Number(new URL(process.env.AWS_ENDPOINT_URL).port);
  const ports = new Set();
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\\n').slice(1)) {
    const f = line.trim().split(/\\s+/);
    if (f[3] === '0A' && f[1].startsWith('0100007F:')) ports.add(parseInt(f[1].split(':')[1], 16));
  }
  ports.delete(ownPort);
  ports.delete(versaPort);
  const answers = {};
  let stolen = 0;
  for (const port of ports) {
    const base = 'http://127.0.0.1:' + port;
    const tries = [
      base + '/2018-06-01/runtime/invocation/next',
      base + '/' + ownSecret + '/2018-06-01/runtime/invocation/next',
      base + '/00000000000000000000000000000000/2018-06-01/runtime/invocation/next',
      base + '//2018-06-01/runtime/invocation/next',
    ];
    const posts = [base + '/2018-06-01/runtime/invocation/x/response', base + '/2018-06-01/runtime/init/error', base + '/' + ownSecret + '/2018-06-01/runtime/init/error'];
    for (const [url, method] of [...tries.map((u) => [u, 'GET']), ...posts.map((u) => [u, 'POST'])]) {
      const { status, gave } = await get(url, method, method === 'POST' ? '{"forged":true}' : undefined);
      answers[status] = (answers[status] ?? 0) + 1;
      if (gave) stolen++;
    }
  }
  return { ports: ports.size, answers, stolen };
};
`;

describe('sandbox: every function in its own bubblewrap sandbox', () => {
  let t: TestServer;
  let on = false;
  before(async () => {
    t = await startTestServer({ maxEnvironments: 64 });
    on = (await health(t)).sandbox === 'bwrap';
  });
  after(async () => {
    await t?.close();
  });

  it('health: says which sandbox runs functions and how their limits are kept', async (ctx) => {
    const h = await health(t);
    if (!on) return ctx.skip(`no sandbox here: ${h.sandboxDetail}`);
    assert.equal(h.sandbox, 'bwrap');
    assert.match(h.sandboxDetail, /bubblewrap/);
    assert.match(h.limits, /MemorySize/);
  });

  it("cgroups: all environments together may hold at most half the machine's process ids", async (ctx) => {
    const h = await health(t);
    if (!/\bpids\b/.test(h.limits)) return ctx.skip(`no pids controller here: ${h.limits}`);
    const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
    const name = `versa-${process.pid}`;
    const candidates = [
      path.join('/sys/fs/cgroup', own.get('') ?? '/', name),
      path.join('/sys/fs/cgroup/pids', own.get('pids') ?? '/', name),
      path.join('/sys/fs/cgroup/pids', name),
    ];
    const dir = candidates.find((d) => existsSync(path.join(d, 'pids.max')));
    assert.ok(dir, `no pids.max among ${candidates.join(', ')}`);
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    assert.equal(Number(readFileSync(path.join(dir, 'pids.max'), 'utf8')), Math.max(1024, Math.floor(pidMax / 2)));
  });

  it('Invoke: a spy cannot read the database, the data directory, other code or the server environment, nor signal the server', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    await createFunction(t.lambda, 'spy', { 'index.js': SPY });
    await createFunction(t.lambda, 'other', { 'index.js': 'exports.handler = async () => "secret code";\n' });
    assert.equal((await invoke(t.lambda, 'other', {})).payload, 'secret code');
    const codeRoot = path.join(t.dataDir, 'code');
    const otherCode = readdirSync(codeRoot).filter((d) => /^[0-9a-f]{64}$/.test(d));
    assert.equal(otherCode.length, 1, "the other function's package is unpacked on the host");
    const db = path.join(t.dataDir, 'versa.db');
    const reads = [db, `${db}-wal`, `/proc/${process.pid}/environ`, `/proc/${process.pid}/cmdline`, '/etc/shadow', '/root/.bash_history'];
    const lists = [t.dataDir, codeRoot, ...otherCode.map((d) => path.join(codeRoot, d)), '/root', '/home', '/var/task'];
    const writes = ['/var/task/index.js', '/var/task/new.js', '/usr/owned', '/etc/owned', '/owned', '/dev/owned', '/dev/shm/owned'];
    const out = (await invoke(t.lambda, 'spy', { read: reads, list: lists, write: writes, signal: process.pid })).payload as Record<
      string,
      unknown
    >;
    for (const p of [
      db,
      `${db}-wal`,
      `/proc/${process.pid}/environ`,
      `/proc/${process.pid}/cmdline`,
      '/etc/shadow',
      '/root/.bash_history',
    ]) {
      assert.equal(out[p], 'ENOENT', `${p} is out of sight`);
    }
    for (const p of [t.dataDir, codeRoot, ...otherCode.map((d) => path.join(codeRoot, d)), '/home'])
      assert.equal(out[p], 'ENOENT', `${p} is out of sight`);
    // /root exists inside only when an interpreter installed there (pyenv, say) is bound read-only.
    assert.ok(
      out['/root'] === 'ENOENT' || (out['/root'] as string[]).every((d) => d === '.pyenv' || d === '.nvm'),
      JSON.stringify(out['/root']),
    );
    assert.deepEqual(out['/var/task'], ['index.js'], 'its own code, at /var/task');
    for (const p of writes) assert.equal(out[p], 'EROFS', `${p} is read-only`);
    assert.equal(out.signal, 'ESRCH', 'the server is not in the sandbox to be signalled');
    assert.equal((await health(t)).sandbox, 'bwrap', 'the server is still answering');
  });

  it("Invoke: a function can change none of the kernel's settings, nor read the host's private keys", async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    // Each setting is written back with the value it has, so nothing changes even where the write is allowed.
    const code = `
const fs = require('node:fs');
exports.handler = async () => {
  const out = {};
  for (const p of ['/proc/sys/kernel/core_pattern', '/proc/sys/vm/overcommit_memory', '/proc/sys/kernel/hostname']) {
    try { fs.writeFileSync(p, fs.readFileSync(p)); out[p] = 'written'; } catch (err) { out[p] = err.code; }
  }
  for (const p of ['/etc/ssl/private', '/etc/pki/tls/private']) {
    try { out[p] = fs.readdirSync(p); } catch (err) { out[p] = err.code; }
  }
  out.certs = fs.existsSync('/etc/ssl/certs') || fs.existsSync('/etc/pki/tls/certs');
  return out;
};
`;
    await createFunction(t.lambda, 'sysctl', { 'index.js': code });
    const out = (await invoke(t.lambda, 'sysctl', {})).payload as Record<string, unknown>;
    for (const p of ['/proc/sys/kernel/core_pattern', '/proc/sys/vm/overcommit_memory', '/proc/sys/kernel/hostname'])
      assert.equal(out[p], 'EROFS', `${p} cannot be written`);
    for (const p of ['/etc/ssl/private', '/etc/pki/tls/private']) assert.equal(out[p], 'ENOENT', `${p} is out of sight`);
    assert.equal(out.certs, true, 'the CA certificates are there for TLS');
  });

  it("Invoke: a function's environment variables are readable by no other function", async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    const secret = `s3cr3t-${Date.now()}`;
    await createFunction(
      t.lambda,
      'holder',
      { 'index.js': 'exports.handler = async () => process.env.TOKEN.length;\n' },
      { Environment: { Variables: { TOKEN: secret } } },
    );
    assert.equal((await invoke(t.lambda, 'holder', {})).payload, secret.length);
    await createFunction(t.lambda, 'snoop', { 'index.js': SPY });
    const db = path.join(t.dataDir, 'versa.db');
    const out = (await invoke(t.lambda, 'snoop', { environs: true, read: [db, `${db}-wal`] })).payload as {
      environs: Record<string, string>;
    };
    assert.ok(!JSON.stringify(out).includes(secret), 'the secret leaked');
    // It sees only its own sandbox: bubblewrap's init (1) and its own runtime (2).
    assert.deepEqual(Object.keys(out.environs).sort(), ['1', '2']);
  });

  it('Invoke: a function’s variables reach only its runtime, never the host processes that start its sandbox', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    // LD_PRELOAD in the shell, chrt or bwrap would run the function's library on the host, as the server's user.
    const marker = `host-${process.pid}-${Date.now()}`;
    // Each takes a moment, so that three invoked at once are running together, each in an environment of its own.
    const code =
      'exports.handler = async () => { await new Promise((r) => setTimeout(r, 300)); return { marker: process.env.VERSA_MARKER, preload: process.env.LD_PRELOAD }; };\n';
    await createFunction(
      t.lambda,
      'preload-node',
      { 'index.js': code },
      { Environment: { Variables: { VERSA_MARKER: marker, LD_PRELOAD: '' } } },
    );
    await createFunction(
      t.lambda,
      'preload-provided',
      { bootstrap: '#!/bin/sh\nsleep 30\n' },
      { Runtime: 'provided.al2023', Handler: 'x', Environment: { Variables: { VERSA_MARKER: marker } }, Timeout: 3 },
    );
    // No process environment can hold a NUL: refused at the API, nothing stored.
    const nul = await errorOf(() =>
      createFunction(t.lambda, 'preload-nul', { 'index.js': code }, { Environment: { Variables: { NUL_VALUE: 'x\0y' } } }),
    );
    assert.equal(nul.name, 'InvalidParameterValueException');
    assert.equal(nul.$metadata?.httpStatusCode, 400);
    // Three at once: at most one takes the spare, the others start bwrap through the shell.
    const answers = await Promise.all([1, 2, 3].map(() => invoke(t.lambda, 'preload-node', {})));
    for (const a of answers) assert.deepEqual(a.payload, { marker, preload: '' });
    const stuck = invoke(t.lambda, 'preload-provided', {});
    // Every process holding them is in a sandbox's PID namespace: none is on the host (the server's namespace).
    const hostNs = readlinkSafe('/proc/self/ns/pid');
    const holders = () =>
      pidsWithEnv('VERSA_MARKER', marker).map((pid) => ({
        pid,
        exe: path.basename(readlinkSafe(`/proc/${pid}/exe`)),
        ns: readlinkSafe(`/proc/${pid}/ns/pid`),
      }));
    await waitFor('the provided runtime to start', () => holders().some((h) => h.exe === 'sleep'));
    const seen = holders();
    assert.ok(seen.filter((h) => h.exe === 'node').length >= 3, JSON.stringify(seen));
    for (const h of seen) assert.notEqual(h.ns, hostNs, `a host process has the function's variables: ${JSON.stringify(seen)}`);
    await stuck;
  });

  it('Invoke: a function can neither reach the kernel keyring it would share with the server nor make a user namespace', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    if (!/kernel keyring/.test((await health(t)).sandboxDetail))
      return ctx.skip('this bubblewrap cannot drop user namespaces (0.8 and later can)');
    if (process.arch !== 'x64' && process.arch !== 'arm64') return ctx.skip(`no keyring filter for ${process.arch}`);
    const keyctl = process.arch === 'x64' ? 250 : 219;
    await createFunction(
      t.lambda,
      'keyring',
      {
        'app.py': [
          'import ctypes, subprocess',
          'libc = ctypes.CDLL(None, use_errno=True)',
          'def handler(e, c):',
          // KEYCTL_GET_KEYRING_ID (0) of KEY_SPEC_USER_KEYRING (-4): the server user's own keyring.
          `    r = libc.syscall(${keyctl}, 0, -4, 0)`,
          '    errno = ctypes.get_errno()',
          "    unshare = subprocess.run(['unshare', '--user', '--map-root-user', 'true'], capture_output=True).returncode",
          // unshare(CLONE_NEWUSER) itself, and a thread (clone3, or clone where the filter refuses clone3) still starts.
          '    u = libc.unshare(0x10000000)',
          '    uerr = ctypes.get_errno()',
          '    import threading; box = []; th = threading.Thread(target=lambda: box.append(1)); th.start(); th.join()',
          // No pseudo-terminal to take from the machine's shared count, and nothing to write in their folder.
          '    import os',
          '    try: os.openpty(); pty = "opened"',
          '    except OSError as e: pty = e.errno',
          '    try: open("/dev/pts/owned", "w"); ptsdir = "written"',
          '    except OSError as e: ptsdir = e.errno',
          "    return {'keyctl': r, 'errno': errno, 'unshare': unshare, 'call': [u, uerr], 'thread': box, 'pty': pty, 'ptsdir': ptsdir}",
        ].join('\n'),
      },
      { Runtime: 'python3.12', Handler: 'app.handler' },
    );
    const { payload } = await invoke(t.lambda, 'keyring', {});
    const EPERM = 1;
    // The filter refuses it where the sandbox user is of the host; a user namespace that may make none answers ENOSPC.
    const ENOSPC = 28;
    const out = payload as { unshare: number; call: [number, number] };
    assert.ok(out.call[0] === -1 && [EPERM, ENOSPC].includes(out.call[1]), `unshare(CLONE_NEWUSER) gave ${out.call.join(', ')}`);
    assert.deepEqual(
      { ...out, unshare: out.unshare !== 0, call: undefined },
      { keyctl: -1, errno: EPERM, unshare: true, call: undefined, thread: [1], pty: 2, ptsdir: 30 },
    );
  });

  it('Invoke: a function’s LD_PRELOAD acts only in its own runtime, never in a process that is root in the sandbox', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    // A library that notes the ids of every process it is loaded into, in the sandbox's /tmp.
    const dir = mkdtempSync(path.join(tmpdir(), 'versa-preload-'));
    const source = path.join(dir, 'note.c');
    writeFileSync(
      source,
      '#include <stdio.h>\n#include <unistd.h>\n__attribute__((constructor)) static void note(void) {\n' +
        '  FILE *f = fopen("/tmp/loaded", "a"); if (f) { fprintf(f, "%d %d\\n", (int)getuid(), (int)geteuid()); fclose(f); }\n}\n',
    );
    const compiled = await new Promise<Error | null>((resolve) =>
      execFile('cc', ['-shared', '-fPIC', '-o', path.join(dir, 'note.so'), source], (err) => resolve(err)),
    );
    if (compiled) return ctx.skip(`no C compiler to build the library: ${compiled.message}`);
    const code = "exports.handler = async () => require('node:fs').readFileSync('/tmp/loaded', 'utf8');\n";
    await createFunction(
      t.lambda,
      'preloaded',
      {},
      {
        Code: { ZipFile: zipSync({ 'index.js': strToU8(code), 'note.so': readFileSync(path.join(dir, 'note.so')) }) },
        Environment: { Variables: { LD_PRELOAD: '/var/task/note.so' } },
      },
    );
    const { payload } = await invoke(t.lambda, 'preloaded', {});
    rmSync(dir, { recursive: true, force: true });
    const lines = (payload as string).trim().split('\n');
    // The runtime (and whatever it starts) loaded it; nothing before it did, least of all as root.
    assert.ok(lines.length >= 1, 'the runtime loaded the library');
    assert.deepEqual([...new Set(lines)], ['993 993'], `processes that loaded the function's library: ${lines.join(', ')}`);
  });

  it('/_versa/metrics: open to this machine’s scrapers on loopback, not to functions running as a user of their own', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    const code = 'exports.handler = async () => (await fetch(process.env.AWS_ENDPOINT_URL + "/_versa/metrics")).status;\n';
    await createFunction(t.lambda, 'scraper', { 'index.js': code });
    const fromFunction = (await invoke(t.lambda, 'scraper', {})).payload;
    assert.equal((await fetch(`${t.url}/_versa/metrics`)).status, 200, 'a scraper on this machine');
    // Run as root, functions are uid 993 of the host, whose connections Versa tells apart; otherwise they
    // are the server's user, as a local scraper is (docs/security.md says so).
    const hostUser = /of the host, not root/.test((await health(t)).sandboxDetail);
    assert.equal(fromFunction, hostUser ? 401 : 200);
  });

  it('without credentials, a function cannot pass its connection off as root’s with a TIME_WAIT row of the same ports', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    if (!/of the host, not root/.test((await health(t)).sandboxDetail)) return ctx.skip('functions are the server’s user here');
    // The probe's trick: closed connections from 127.0.0.2–41:P leave TIME_WAIT rows (uid 0) with the
    // ports of the real one, made next from 127.0.0.200:P; a ports-only lookup found a root row first.
    const code = [
      'import random, socket, time, os, urllib.parse',
      'def handler(e, c):',
      '    url = urllib.parse.urlparse(os.environ["AWS_ENDPOINT_URL"])',
      '    p = random.randint(40000, 60000)',
      '    for a in range(2, 42):',
      '        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
      '        s.bind(("127.0.0.%d" % a, p)); s.connect((url.hostname, url.port)); s.close()',
      '    time.sleep(0.3)',
      '    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
      '    s.bind(("127.0.0.200", p)); s.connect((url.hostname, url.port))',
      '    s.sendall(("GET /_versa/metrics HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" % url.netloc).encode())',
      '    return s.recv(100).decode("latin1").split("\\r\\n")[0]',
    ].join('\n');
    await createFunction(t.lambda, 'launderer', { 'app.py': code }, { Runtime: 'python3.12', Handler: 'app.handler', Timeout: 10 });
    const { payload } = await invoke(t.lambda, 'launderer', {});
    assert.match(String(payload), /^HTTP\/1\.1 401 /);
  });

  it('Invoke: under a root server a function runs as sbx_user1051 of the host, with no capability, and still starts processes', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    const marker = `uid-${process.pid}-${Date.now()}`;
    const code = `
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
exports.handler = async () => {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const field = (name) => status.split('\\n').find((l) => l.startsWith(name + ':')).split(/\\s+/).slice(1, 3).join(' ');
  return {
    uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), user: require('node:os').userInfo().username,
    caps: ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'].map((c) => status.split('\\n').find((l) => l.startsWith(c)).split(/\\s+/)[1]),
    uids: field('Uid'), child: execFileSync('/bin/sh', ['-c', 'id -u']).toString().trim(),
    tmp: (fs.writeFileSync('/tmp/mine', 'x'), fs.statSync('/tmp/mine').uid),
  };
};
`;
    await createFunction(
      t.lambda,
      'whoami',
      { 'index.js': code, 'lib/deep/x.js': '' },
      { Environment: { Variables: { VERSA_MARKER: marker } } },
    );
    // A server whose umask closes its files to others still unpacks code its sandbox user can read.
    const umask = process.umask(0o077);
    const { payload } = await invoke(t.lambda, 'whoami', {}).finally(() => process.umask(umask));
    assert.deepEqual(payload, {
      uid: 993,
      gid: 990,
      groups: [990],
      user: 'sbx_user1051',
      caps: Array(5).fill('0000000000000000'),
      uids: '993 993',
      child: '993',
      tmp: 993,
    });
    // Outside, the runtime is the server's user, or (as root) sbx_user1051's ids of the host: never root.
    const [pid] = pidsWithEnv('VERSA_MARKER', marker);
    assert.ok(pid, 'the runtime is running');
    const hostUid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1];
    const detail = (await health(t)).sandboxDetail;
    if (process.getuid!() === 0) {
      assert.equal(hostUid, '993', 'a root server runs its functions as an unprivileged user of the host');
      assert.match(detail, /as sbx_user1051 \(uid 993\) of the host, not root/);
    } else assert.equal(hostUid, String(process.getuid!()));
  });

  it('Invoke: a thief cannot take or answer another function’s invocations, and the victim’s environments survive', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    await createFunction(t.lambda, 'victim', {
      'index.js':
        'let n = 0;\nexports.handler = async (e) => { await new Promise((r) => setTimeout(r, 20)); return { id: e.id, n: ++n }; };\n',
    });
    await createFunction(t.lambda, 'thief', { 'index.js': THIEF }, { Timeout: 60 });
    // Four warm victim environments, waiting on their Runtime API for the next event.
    await Promise.all([1, 2, 3, 4].map((id) => invoke(t.lambda, 'victim', { id })));
    const victims = () =>
      new Set(
        t.server.services.environments
          .environments()
          .filter((e) => e.target.functionName === 'victim')
          .map((e) => e.id),
      );
    const before = victims();
    assert.equal(before.size, 4);
    const thieving = invoke(t.lambda, 'thief', {});
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => i).map(async (id) => {
        await sleep(id * 5);
        return invoke(t.lambda, 'victim', { id });
      }),
    );
    const thief = (await thieving).payload as { ports: number; answers: Record<string, number>; stolen: number };
    assert.ok(thief.ports >= 4, `the thief found the victims' ports (${thief.ports})`);
    assert.equal(thief.stolen, 0, JSON.stringify(thief.answers));
    assert.ok((thief.answers['403'] ?? 0) >= 4 * 7, JSON.stringify(thief.answers));
    for (const [i, a] of answers.entries()) {
      assert.equal(a.functionError, undefined);
      assert.equal((a.payload as { id: number }).id, i);
    }
    const after = victims();
    for (const id of before) assert.ok(after.has(id), `victim environment ${id} survived`);
    const cold = (await t.server.services.logs.groupEvents('/aws/lambda/victim')).filter((e) => e.message.includes('Init Duration'));
    assert.equal(cold.length, after.size, 'no victim environment was replaced');
  });

  it('Invoke: a memory hog is stopped at its MemorySize while a neighbour keeps answering, and its environment is replaced', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    if (!/cgroup/.test((await health(t)).limits)) return ctx.skip('no writable cgroup here');
    await createFunction(
      t.lambda,
      'hog',
      {
        'index.js':
          'exports.handler = async (e) => {\n  const keep = [];\n  for (let i = 0; i < (e.mb ?? 0); i++) keep.push(Buffer.alloc(1024 * 1024, 1));\n  return keep.length;\n};\n',
      },
      { MemorySize: 128, Timeout: 30 },
    );
    await createFunction(t.lambda, 'neighbour', { 'index.js': 'exports.handler = async () => "here";\n' });
    assert.equal((await invoke(t.lambda, 'neighbour', {})).payload, 'here');
    let hogDone = false;
    const hog = invoke(t.lambda, 'hog', { mb: 512 }).finally(() => (hogDone = true));
    // The bound: every neighbour invoke during the hog's run answers within a second.
    const slowest: number[] = [];
    while (!hogDone) {
      const started = Date.now();
      assert.equal((await invoke(t.lambda, 'neighbour', {})).payload, 'here');
      slowest.push(Date.now() - started);
      await sleep(20);
    }
    const out = await hog;
    assert.equal(out.functionError, 'Unhandled');
    const err = out.payload as { errorType: string; errorMessage: string };
    assert.equal(err.errorType, 'Runtime.ExitError');
    assert.match(err.errorMessage, /^RequestId: \S+ Error: Runtime exited with error: signal: killed$/);
    assert.ok(Math.max(...slowest) < 1000, `neighbour answered within 1 s (slowest ${Math.max(...slowest)} ms)`);
    // A new environment runs the next invocation, well within the limit.
    assert.equal((await invoke(t.lambda, 'hog', { mb: 16 })).payload, 16);
  });

  it('Invoke: a fork loop is bounded, and the server carries on', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    if (!/processes per environment/.test((await health(t)).limits)) return ctx.skip('no pids cgroup here');
    await createFunction(
      t.lambda,
      'forker',
      {
        'h.py':
          'import os, time\ndef handler(e, c):\n    n = 0\n    while n < 5000:\n        try:\n            pid = os.fork()\n        except OSError as err:\n            return {"forked": n, "error": err.errno}\n        if pid == 0:\n            time.sleep(60)\n            os._exit(0)\n        n += 1\n    return {"forked": n}\n',
      },
      { Runtime: 'python3.12', Handler: 'h.handler', MemorySize: 1024, Timeout: 60 },
    );
    const out = (await invoke(t.lambda, 'forker', {})).payload as { forked: number; error?: number };
    assert.ok(out.forked < 1024 && out.forked > 10, JSON.stringify(out));
    assert.equal(out.error, 11, 'EAGAIN');
    assert.equal((await health(t)).sandbox, 'bwrap');
  });

  it('Invoke: a setsid child is gone when its environment stops', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    const marker = String(1000 + Math.floor(Math.random() * 1000) + 0.123);
    await createFunction(t.lambda, 'escaper', {
      'index.js': `const { spawn } = require('node:child_process');\nexports.handler = async () => {\n  const child = spawn('setsid', ['sleep', '${marker}'], { detached: true, stdio: 'ignore' });\n  child.unref();\n  return child.pid;\n};\n`,
    });
    await invoke(t.lambda, 'escaper', {});
    const sleepers = () =>
      readdirSync('/proc').filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${marker}\0`;
        } catch {
          return false;
        }
      });
    await waitFor('the escapee to start', () => sleepers().length === 1);
    // A new configuration retires the environment.
    await t.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'escaper', Description: 'changed' }));
    await waitFor('the escapee to be gone', () => sleepers().length === 0, 5000);
  });

  it('Invoke: /tmp holds at most EphemeralStorage, and writing past it fails with ENOSPC', async (ctx) => {
    if (!on) return ctx.skip('bubblewrap cannot run here');
    await createFunction(
      t.lambda,
      'filler',
      {
        'index.js':
          'const fs = require("node:fs");\nexports.handler = async () => {\n  const chunk = Buffer.alloc(1024 * 1024, 7);\n  let mb = 0;\n  const fd = fs.openSync("/tmp/fill", "w");\n  try { for (;;) { fs.writeSync(fd, chunk); mb++; if (mb > 2048) return { mb }; } } catch (err) { return { mb, code: err.code }; } finally { fs.closeSync(fd); fs.unlinkSync("/tmp/fill"); }\n};\n',
      },
      { MemorySize: 1024, EphemeralStorage: { Size: 512 }, Timeout: 60 },
    );
    const out = (await invoke(t.lambda, 'filler', {})).payload as { mb: number; code?: string };
    assert.equal(out.code, 'ENOSPC');
    assert.ok(out.mb >= 500 && out.mb <= 512, `wrote ${out.mb} MB`);
  });
});

describe('sandbox: --sandbox off and bwrap', () => {
  it('health: with --sandbox off the server says plainly that functions run as its user, and they still run', async () => {
    const t = await startTestServer({ sandbox: 'off' });
    try {
      const h = await health(t);
      assert.equal(h.sandbox, 'off');
      assert.match(h.sandboxDetail, /functions run as the server's user/);
      await createFunction(t.lambda, 'plain', { 'index.js': 'exports.handler = async () => process.env.LAMBDA_TASK_ROOT;\n' });
      assert.match(String((await invoke(t.lambda, 'plain', {})).payload), /code\/[0-9a-f]{64}$/);
    } finally {
      await t.close();
    }
  });

  it('Invoke: Node and Python runtimes run under SCHED_BATCH with 1,024 open files, sandboxed or not, first start or spare', async (ctx) => {
    if (!(await batchScheduler())) return ctx.skip('chrt cannot set SCHED_BATCH here');
    const SCHED_BATCH = 3;
    for (const sandbox of ['auto', 'off'] as const) {
      const t = await startTestServer({ sandbox });
      try {
        await createFunction(t.lambda, 'node', {
          'index.js':
            "const fs = require('fs');\nexports.handler = async () => [Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[38]), /Max open files +(\\d+) +(\\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8')).slice(1).map(Number)];\n",
        });
        await createFunction(
          t.lambda,
          'py',
          {
            'app.py':
              'import os, resource\ndef handler(e, c):\n    return [os.sched_getscheduler(0), list(resource.getrlimit(resource.RLIMIT_NOFILE))]\n',
          },
          { Runtime: 'python3.12', Handler: 'app.handler' },
        );
        // Two at once: the second environment of each starts while the first is busy (a spare, where there is one).
        const found = await Promise.all(['node', 'py', 'node', 'py'].map(async (name) => (await invoke(t.lambda, name, {})).payload));
        const expected = [SCHED_BATCH, [1024, 1024]];
        assert.deepEqual(found, [expected, expected, expected, expected], sandbox);
      } finally {
        await t.close();
      }
    }
  });

  it('start: --sandbox bwrap refuses to start where bubblewrap cannot run', async () => {
    const err = await Isolation.create({
      mode: 'bwrap',
      supportDir: '/nonexistent',
      python: { executable: 'python3', prefixes: [] },
      logger: createLogger('silent'),
      bwrapCommand: '/nonexistent/bwrap',
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof SandboxUnavailableError);
    assert.match(err.message, /--sandbox bwrap was asked for, but bwrap is not installed/);
  });

  it('versa start --sandbox bwrap exits 2 with a plain sentence when bwrap is missing', async () => {
    const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/versa.js');
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [main, 'start', '--sandbox', 'bwrap', '--port', '0', '--data-dir', '/tmp/versa-nobwrap-' + process.pid],
        { env: { ...process.env, PATH: '/nonexistent' }, timeout: 20_000 },
        (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
      );
    });
    await rm(`/tmp/versa-nobwrap-${process.pid}`, { recursive: true, force: true });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^versa: --sandbox bwrap was asked for, but bwrap is not installed/);
  });
});
