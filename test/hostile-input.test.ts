/**
 * Hostile input is bounded: a zip bomb, a YAML alias bomb and a function that prints 300 MB without a
 * newline are each handled within a stated memory bound (docs/limits.md), refused with AWS's error where
 * they are refused, leave nothing stored and no staging folder behind, and do not hold up another
 * function meanwhile. The server runs as a child process (`versa start`), so its resident memory is read
 * from /proc/<pid>/status without the test's own allocations in it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Agent, createServer, get } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { constants, crc32, deflateRawSync } from 'node:zlib';
import { GetFunctionCommand, InvokeCommand, UpdateFunctionCodeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  paginateFilterLogEvents,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateDeploymentCommand } from '@aws-sdk/client-api-gateway';
import { zipSync, strToU8 } from 'fflate';
import { awsFetch, clientConfig, createFunction, errorOf, lambdaClientFor, payloadOf, zipOf } from './harness.js';
import { s3ClientFor } from './s3-helpers.js';
import { rssOf, sampleRss } from './processes.js';
import { apiGatewayClientFor, createApi, putMethod, resourceAt, stageUrl } from './apigateway-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MB = 1024 * 1024;
/** The stated bound (docs/limits.md): the server's resident memory grows by less than this under each attack. */
const RSS_GROWTH_BOUND = 300 * MB;
/** The stated bound: each Invoke of another, warm function answers within this while an attack runs. */
const OTHER_INVOKE_BOUND_MS = 1000;

interface Server {
  url: string;
  pid: number;
  dataDir: string;
  lambda: LambdaClient;
  /** What the server wrote to its log (stderr) so far: how many bytes, and lines holding `needle`. */
  log(needle: string): { bytes: number; lines: number };
  close(): Promise<void>;
}

/**
 * Opens N connections that each send one request (by default a GET of s3://big/object; else METHOD PATH
 * to SERVICE, with no body, PAUSE seconds apart) signed with any key, as a server without credentials
 * accepts, with a 4 KB receive buffer, and never read, once a line comes on stdin; prints `held N` once
 * they are sent, then holds them until killed.
 */
const HOLD_DOWNLOADS = `
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
method, path, service = (sys.argv[3:6] + ['GET', '/big/object', 's3'][len(sys.argv) - 3:])[:3]
pause = float(sys.argv[6]) if len(sys.argv) > 6 else 0
sys.stdin.readline()
date = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
request = ('%s %s HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\nX-Amz-Date: %s\\r\\nX-Amz-Content-Sha256: UNSIGNED-PAYLOAD\\r\\n'
  'Content-Length: 0\\r\\n'
  'Authorization: AWS4-HMAC-SHA256 Credential=test/%s/us-east-1/%s/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, '
  'Signature=%s\\r\\n\\r\\n') % (method, path, port, date, date[:8], service, '0' * 64)
held = []
for _ in range(n):
  s = socket.socket()
  s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
  try:
    s.connect(('127.0.0.1', port)); s.sendall(request.encode()); held.append(s)
  except OSError:
    pass
  time.sleep(pause)
print('held %d' % len(held), flush=True)
time.sleep(600)
`;

/** How many of up to 20 health checks (2 s each) answer 200, stopping at 3: a server under siege still answering. */
async function healthAnswers(url: string): Promise<number> {
  let answered = 0;
  for (let i = 0; i < 20 && answered < 3; i++) {
    const res = await fetch(`${url}/_versa/health`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    if (res?.status === 200) answered++;
    // A connection refused at once (the process at its descriptor limit until the next shedding, 100 ms
    // at most) is tried again after it, not twenty times within it.
    else await new Promise((r) => setTimeout(r, 100));
    await res?.arrayBuffer();
  }
  return answered;
}

/** `versa deploy` of a template (its plan only, when asked), as the CLI sends it. */
function deployStack(url: string, name: string, template: string, planOnly = false): Promise<Response> {
  return fetch(`${url}/_versa/api/stacks/${name}/deploy`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ template, ...(planOnly && { planOnly }) }),
  });
}

/** What `work` gives, and the slowest of the health checks sent every 50 ms while it ran. */
async function slowestHealthWhile<T>(url: string, work: () => Promise<T>): Promise<{ result: T; slowestMs: number }> {
  let slowestMs = 0;
  let running = true;
  const health = (async () => {
    while (running) {
      const started = Date.now();
      await (await fetch(`${url}/_versa/health`)).arrayBuffer();
      slowestMs = Math.max(slowestMs, Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    return { result: await work(), slowestMs };
  } finally {
    running = false;
    await health;
  }
}

/**
 * Holds `count` connections to host:port, each sending one of `firsts` in turn and nothing more; each one
 * the server closes is opened again at once, as an attacker's would be.
 */
function holdConnections(host: string, port: number, count: number, firsts: readonly string[]) {
  const held = new Set<net.Socket>();
  let closedByServer = 0;
  let attacking = true;
  const hold = (kind: number) => {
    const socket = net.connect(port, host, () => socket.write(firsts[kind]!));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      held.delete(socket);
      if (!attacking) return;
      closedByServer++;
      setTimeout(() => hold(kind), 5);
    });
    held.add(socket);
  };
  for (let i = 0; i < count; i++) hold(i % firsts.length);
  return {
    closedByServer: () => closedByServer,
    stop() {
      attacking = false;
      for (const socket of held) socket.destroy();
    },
  };
}

/** A connection that carried one whole request, its answer read, and now sits idle (keep-alive). */
async function idleKeepAlive(host: string, port: number): Promise<net.Socket> {
  const socket = net.connect(port, host);
  socket.on('error', () => undefined);
  socket.write(`GET /_versa/health HTTP/1.1\r\nHost: ${host}:${port}\r\n\r\n`);
  await new Promise((resolve) => socket.once('data', resolve));
  return socket;
}

/** A client sending a GET every 100 ms on one keep-alive connection: how many were answered, failed, and the connections used. */
function keepAliveWorker(url: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<net.Socket>();
  let answered = 0;
  let failed = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const req = get(url, { agent }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) answered++;
            else failed++;
            resolve();
          });
        });
        req.on('error', () => {
          failed++;
          resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      agent.destroy();
      return { answered, failed, connections: sockets.size };
    },
  };
}

/** `versa start` in its own process; with `openFiles`, under that limit of open descriptors. */
async function startServerProcess(opts: { openFiles?: number; logLevel?: string } = {}): Promise<Server> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-hostile-'));
  const argv = [process.execPath, path.join(ROOT, 'bin/versa.js'), 'start', '--port', '0', '--data-dir', dataDir];
  argv.push('--log-level', opts.logLevel ?? 'warn');
  const [command, ...args] =
    opts.openFiles === undefined ? argv : ['/bin/sh', '-c', `ulimit -n ${opts.openFiles} && exec "$@"`, 'sh', ...argv];
  const child: ChildProcess = spawn(command!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The server's log goes on to the test's, and is kept here only as a count and its last lines.
  let logBytes = 0;
  let logTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    logBytes += chunk.length;
    logTail = (logTail + chunk.toString()).slice(-65_536);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Versa is ready at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`versa start exited with ${code}: ${out}`)));
  });
  child.stdout!.resume();
  const lambda = lambdaClientFor(url);
  return {
    url,
    pid: child.pid!,
    dataDir,
    lambda,
    log: (needle) => ({ bytes: logBytes, lines: logTail.split('\n').filter((line) => line.includes(needle)).length }),
    async close() {
      lambda.destroy();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends a request's head and whole body on a connection of its own, written and not ended (a connection
 * its client half-closes is gone before a slow answer can be sent on it); resolves with the answer's
 * status line.
 */
function postWhole(hostname: string, port: number, head: string, body: Buffer, localAddress?: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect({ port, host: hostname, ...(localAddress && { localAddress }) });
    let answer = '';
    socket.setEncoding('latin1').on('data', (d: string) => {
      answer += d;
      if (!answer.includes('\r\n\r\n')) return;
      resolve(answer.split('\r\n')[0]!);
      socket.destroy();
    });
    socket.on('error', reject);
    socket.write(Buffer.concat([Buffer.from(head), body]));
  });
}

/** Invokes the warm echo function `count` times in a row, returning each latency in ms. */
async function echoLatencies(lambda: LambdaClient, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const answer = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(JSON.stringify({ i })) }));
    out.push(performance.now() - started);
    assert.deepEqual(payloadOf(answer), { i });
  }
  return out;
}

/**
 * Runs `attack` while sampling the server's RSS and invoking the echo function ten times; checks the
 * stated bounds and returns what was measured (printed for docs/limits.md).
 */
async function underAttack<T>(s: Server, name: string, attack: () => Promise<T>, bound = RSS_GROWTH_BOUND): Promise<T> {
  const baseline = await rssOf(s.pid);
  const sampler = sampleRss(s.pid);
  const attacking = attack();
  const [result, latencies] = await Promise.all([attacking, echoLatencies(s.lambda, 10)]);
  const peak = await sampler.stop();
  const growth = peak - baseline;
  console.log(
    `# ${name}: RSS ${(baseline / MB).toFixed(0)} MB → peak ${(peak / MB).toFixed(0)} MB (+${(growth / MB).toFixed(0)} MB); ` +
      `echo invokes max ${Math.max(...latencies).toFixed(0)} ms, median ${latencies.sort((a, b) => a - b)[5]!.toFixed(0)} ms`,
  );
  assert.ok(growth < bound, `${name}: RSS grew by ${(growth / MB).toFixed(0)} MB`);
  for (const ms of latencies) assert.ok(ms < OTHER_INVOKE_BOUND_MS, `${name}: an echo invoke took ${ms.toFixed(0)} ms`);
  return result;
}

/**
 * A zip whose `entries` central-directory entries all point at one deflate stream of `mb` MiB of zeros
 * (about 1 KB per MiB): 20 × 100 MiB is a ~100 KB zip that inflates to 2 GiB. Each entry declares
 * `declared` bytes (a liar by default; `honest` declares the truth). The stream is one compressed MiB
 * repeated, so building it allocates nothing large.
 */
function overlappingBomb(entries: number, mb: number, declared: number | 'honest' = 1000): Buffer {
  const { data, crc } = deflatedZeros(mb);
  return zipFromEntries(
    Array.from({ length: entries }, (_, i) => `f${i}.bin`),
    data,
    declared === 'honest' ? mb * MB : declared,
    crc,
  );
}

/** A raw deflate stream of `mb` MiB of zeros (one compressed MiB repeated), and the zeros' CRC-32. */
function deflatedZeros(mb: number): { data: Buffer; crc: number } {
  const zero = Buffer.alloc(MB);
  const unit = deflateRawSync(zero, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
  let crc = 0;
  for (let i = 0; i < mb; i++) crc = crc32(zero, crc);
  return { data: Buffer.concat([...Array<Buffer>(mb).fill(unit), Buffer.from([0x03, 0x00])]), crc };
}

/** A zip of entries named `names` that all share the one deflated `data` (of `size` bytes and `crc`). */
function zipFromEntries(names: string[], data: Buffer, size: number, crc: number): Buffer {
  const localName = Buffer.from(names[0]!);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc >>> 0, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(localName.length, 26);
  const central: Buffer[] = [];
  for (const name of names) {
    const n = Buffer.from(name);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(8, 10);
    c.writeUInt32LE(crc >>> 0, 16);
    c.writeUInt32LE(data.length, 20);
    c.writeUInt32LE(size, 24);
    c.writeUInt16LE(n.length, 28);
    central.push(c, n);
  }
  const cd = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(names.length, 8);
  eocd.writeUInt16LE(names.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(30 + localName.length + data.length, 16);
  return Buffer.concat([local, localName, data, cd, eocd]);
}

/** The billion laughs: 9 levels of 9 aliases, about 300 bytes standing for 9^9 values. */
function aliasBomb(): string {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array<string>(9).fill(`*${prev}`).join(',')}]`);
  }
  lines.push('Resources: *i');
  return `${lines.join('\n')}\n`;
}

async function stagingLeft(s: Server): Promise<string[]> {
  const names = await readdir(path.join(s.dataDir, 'code')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.tmp'));
}

describe('hostile input', () => {
  let s: Server;
  before(async () => {
    s = await startServerProcess();
    await createFunction(s.lambda, 'echo', { 'index.js': 'exports.handler = async (event) => event;' });
    await echoLatencies(s.lambda, 2);
  });
  after(() => s.close());

  it('CreateFunction: a zip bomb is refused with InvalidParameterValueException, in bounded memory, and nothing is created', async () => {
    const lying = overlappingBomb(20, 100);
    const honest = overlappingBomb(20, 100, 'honest');
    assert.ok(lying.length < 150_000, `the bomb is ${lying.length} bytes`);
    const refusals = await underAttack(s, 'zip bomb', () =>
      Promise.all(
        [lying, honest, lying, honest].map((zip, i) =>
          errorOf(() => createFunction(s.lambda, `bomb-${i}`, {}, { Code: { ZipFile: zip } })),
        ),
      ),
    );
    for (const err of refusals) {
      assert.equal(err.name, 'InvalidParameterValueException');
      assert.equal(err.$metadata?.httpStatusCode, 400);
    }
    assert.equal(refusals[0]!.message, 'Could not unzip uploaded file. Please check your file, then try to upload again.');
    assert.equal(refusals[1]!.message, 'Unzipped size must be smaller than 262144000 bytes');
    for (let i = 0; i < 4; i++) {
      const err = await errorOf(() => s.lambda.send(new GetFunctionCommand({ FunctionName: `bomb-${i}` })));
      assert.equal(err.name, 'ResourceNotFoundException');
    }
    assert.deepEqual(await stagingLeft(s), []);
  });

  it('CreateFunction and Invoke: a package just under the unzipped limit is inflated and unpacked in bounded memory', async () => {
    // Two honest entries of 120 MiB of zeros (about 250 KB zipped): checked in full at upload, then
    // unpacked to disk on the first Invoke (which then fails: there is no handler in it).
    const { data, crc } = deflatedZeros(120);
    const nearLimit = zipFromEntries(['a.bin', 'b.bin'], data, 120 * MB, crc);
    await underAttack(s, 'near-limit package, CreateFunction', () =>
      createFunction(s.lambda, 'near', {}, { Code: { ZipFile: nearLimit } }),
    );
    const out = await underAttack(s, 'near-limit package, first Invoke', () => s.lambda.send(new InvokeCommand({ FunctionName: 'near' })));
    assert.equal(out.FunctionError, 'Unhandled');
    assert.deepEqual(await stagingLeft(s), []);
  });

  it('UpdateFunctionCode: a zip bomb is refused and the code is unchanged', async () => {
    const before = await s.lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));
    const err = await errorOf(() =>
      s.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'echo', ZipFile: overlappingBomb(20, 100, 'honest') })),
    );
    assert.equal(err.name, 'InvalidParameterValueException');
    assert.equal(err.message, 'Unzipped size must be smaller than 262144000 bytes');
    const after = await s.lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));
    assert.equal(after.Configuration?.CodeSha256, before.Configuration?.CodeSha256);
  });

  it('CreateFunction: entries that cannot be laid out on disk are refused with a clear message', async () => {
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'clash',
        zipSync({ a: strToU8('x'), 'a/b': strToU8('y') }),
        /the entry "a\/b" needs "a" to be a folder, but the package also holds a file "a"/,
      ],
      ['long', zipOf({ [`${'n'.repeat(300)}.js`]: 'x' }), /has a name of 303 bytes; at most 255 are allowed/],
      ['slip', zipOf({ '../escape.js': 'x' }), /climbs out of the package with "\.\."/],
      ['absolute', zipOf({ '/etc/passwd': 'x' }), /is an absolute path/],
    ];
    for (const [name, zip, message] of cases) {
      const err = await errorOf(() => createFunction(s.lambda, `layout-${name}`, {}, { Code: { ZipFile: zip } }));
      assert.equal(err.name, 'InvalidParameterValueException', name);
      assert.equal(err.$metadata?.httpStatusCode, 400, name);
      assert.match(err.message, /^The deployment package cannot be unpacked: /, name);
      assert.match(err.message, message, name);
      const missing = await errorOf(() => s.lambda.send(new GetFunctionCommand({ FunctionName: `layout-${name}` })));
      assert.equal(missing.name, 'ResourceNotFoundException', name);
    }
    assert.deepEqual(await stagingLeft(s), []);
  });

  /**
   * Opens a request whose body never finishes: `size` bytes sent of 70 MB declared, signed (in shape
   * only) with `accessKeyId` when given. Resolves with what came back meanwhile.
   */
  const stall = (host: string, size: number, accessKeyId?: string) => {
    const { hostname, port } = new URL(s.url);
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('latin1').on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined);
    const signed =
      accessKeyId === undefined
        ? ''
        : `Authorization: AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}\r\n`;
    socket.write(
      `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${signed}Content-Length: ${70 * MB}\r\n\r\n`,
    );
    const sent = new Promise<void>((resolve) => socket.write(Buffer.alloc(size, 0x20), () => resolve()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    return { socket, sent, closed, answer: () => answer, refused: () => / (429|408) /.test(answer.split('\r\n')[0] ?? '') };
  };

  it('stalled bodies: a wrong Host is answered unread; bodies without an operator key hold half the memory budget at most, and the operator goes on', async () => {
    const { hostname } = new URL(s.url);
    const held: ReturnType<typeof stall>[] = [];
    try {
      // A Host Versa does not serve: 403 without waiting for the body (70 MB declared, 1 KB sent), then closed.
      const rebound = stall('attacker.example', 1024);
      await rebound.closed;
      assert.match(rebound.answer(), /^HTTP\/1\.1 403 /);
      // Unsigned (as a stalled page, a slow client or a function could send): six would fill the whole budget.
      for (let i = 0; i < 6; i++) {
        const guest = stall(hostname, 48 * MB);
        held.push(guest);
        await Promise.race([guest.sent, guest.closed]);
      }
      // The operator's own call still has room.
      await createFunction(s.lambda, 'after-stall', { 'index.js': 'exports.handler = async () => "on";' });
      assert.equal(payloadOf(await s.lambda.send(new InvokeCommand({ FunctionName: 'after-stall' }))), 'on');
      // The guests did reach their limit: some were refused (their answers come as their bytes are read).
      const refused = () => held.filter((g) => g.refused()).length;
      for (let i = 0; i < 100 && refused() === 0; i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(refused() >= 1, held.map((g) => g.answer().split('\r\n')[0]).join(' | '));
    } finally {
      for (const g of held) g.socket.destroy();
    }
  });

  it("stalled bodies: one function's requests hold one body's worth at most, and another function's still have room", async () => {
    const { hostname } = new URL(s.url);
    const keyOf = async (name: string) => {
      await createFunction(s.lambda, name, { 'index.js': 'exports.handler = async () => process.env.AWS_ACCESS_KEY_ID;' });
      return payloadOf(await s.lambda.send(new InvokeCommand({ FunctionName: name }))) as string;
    };
    const [greedy, other] = [await keyOf('greedy'), await keyOf('other-guest')];
    assert.match(greedy, /^ASIA/);
    const held: ReturnType<typeof stall>[] = [];
    try {
      // Three would hold the guests' whole share; one function's requests stop at one body (72 MB).
      for (let i = 0; i < 3; i++) {
        const g = stall(hostname, 48 * MB, greedy);
        held.push(g);
        await Promise.race([g.sent, g.closed]);
      }
      for (let i = 0; i < 100 && !held.some((g) => g.refused()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(
        held.some((g) => g.refused()),
        held.map((g) => g.answer().split('\r\n')[0]).join(' | '),
      );
      // Another function's body has room: it is read whole and answered, not refused.
      const { port } = new URL(s.url);
      // Written, not ended: a connection its client half-closes is gone before a slow answer (one whose
      // owner is looked up) can be sent on it.
      const res = await postWhole(
        hostname,
        Number(port),
        `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nAuthorization: AWS4-HMAC-SHA256 Credential=${other}/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}\r\nX-Amz-Date: 20261206T000000Z\r\nContent-Length: ${40 * MB}\r\nConnection: close\r\n\r\n`,
        Buffer.alloc(40 * MB, 0x20),
      );
      assert.doesNotMatch(res, / 429 /, res);
      assert.match(res, /^HTTP\/1\.1 4\d\d /, res);
    } finally {
      for (const g of held) g.socket.destroy();
    }
  });

  it("stalled bodies: a function signing with a key of its own making draws on the unsigned callers' share, not the operator's (a root server)", async () => {
    const code = `
const net = require('node:net');
exports.handler = async () => {
  const url = new URL(process.env.AWS_ENDPOINT_URL);
  const body = Buffer.alloc(48 * 1024 * 1024, 0x20);
  const hold = () => new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let answer = '';
    socket.setEncoding('latin1').on('data', (d) => (answer += d));
    socket.on('error', () => undefined);
    socket.write('POST /2015-03-31/functions HTTP/1.1\\r\\nHost: ' + url.host + '\\r\\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIAMADEUP/20261207/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=' + '0'.repeat(64) + '\\r\\nContent-Length: ' + 70 * 1024 * 1024 + '\\r\\n\\r\\n');
    socket.write(body);
    setTimeout(() => { resolve(answer.split('\\r\\n')[0] || 'held'); socket.destroy(); }, 3000);
  });
  const first = hold();
  await new Promise((r) => setTimeout(r, 500));
  const second = hold();
  return [await first, await second];
};`;
    await createFunction(s.lambda, 'made-up-key', { 'index.js': code }, { MemorySize: 512, Timeout: 30 });
    const [first, second] = payloadOf(await s.lambda.send(new InvokeCommand({ FunctionName: 'made-up-key' }))) as string[];
    const health = (await (await fetch(`${s.url}/_versa/health`)).json()) as { sandboxDetail?: string };
    if (/of the host, not root/.test(health.sandboxDetail ?? '')) {
      // 48 MB held, the next 48 MB find the 72 MiB share full: as an unsigned caller's would.
      assert.equal(first, 'held');
      assert.match(second!, / 429 /);
    } else {
      // Run as an ordinary user, functions are that user: any key is the operator's, as documented.
      assert.deepEqual([first, second], ['held', 'held']);
    }
  });

  it("stalled bodies: a body left hanging gives way to another caller's once its share is full (no one holds the unsigned share by stalling)", async () => {
    const { hostname, port } = new URL(s.url);
    // Unsigned, as anyone who can reach a public stage sends: 60 MB of the 72 MB the unsigned callers share, then nothing.
    const hanging = stall(hostname, 60 * MB);
    await Promise.race([hanging.sent, hanging.closed]);
    // Stalled: nothing came for more than a second.
    await new Promise((r) => setTimeout(r, 2500));
    try {
      const res = await postWhole(
        hostname,
        Number(port),
        `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: ${20 * MB}\r\n\r\n`,
        Buffer.alloc(20 * MB, 0x20),
      );
      // Read whole and answered (unsigned: 4xx), not refused for room.
      assert.doesNotMatch(res, / 429 /, res);
      assert.match(res, /^HTTP\/1\.1 4\d\d /, res);
      await hanging.closed;
      assert.match(hanging.answer(), /^HTTP\/1\.1 408 /, hanging.answer().slice(0, 200));
      assert.match(hanging.answer(), /RequestTimeout/);
    } finally {
      hanging.socket.destroy();
    }
  });

  it('connections by the hundred past the descriptors the server may open: it closes those not being answered and keeps answering', async () => {
    // A server that may open 400 descriptors, and 600 connections that hold one each: a third never send a
    // byte, a third send half a request line, a third send a request's headers and never its body. Each
    // closed one opens again at once, as an attacker's would.
    const small = await startServerProcess({ openFiles: 400, logLevel: 'error' });
    const { hostname, port } = new URL(small.url);
    const first = [
      '',
      'GET /2015-03-31/functions HTTP/1.1\r\n',
      `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: x\r\nContent-Length: 1000\r\n\r\n{`,
    ];
    // Beside it, a client at work (a request every 100 ms on one keep-alive connection) and one that
    // made a request and then sat idle: the first keeps its connection, the second's is closed.
    const idle = await idleKeepAlive(hostname, Number(port));
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const worker = keepAliveWorker(`${small.url}/_versa/health`);
    await new Promise((r) => setTimeout(r, 1_100));
    const siege = holdConnections(hostname, Number(port), 600, first);
    try {
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await healthAnswers(small.url), 3, 'the health check answers while the connections come');
      assert.ok(siege.closedByServer() > 0, 'some held connections were closed');
      await idleClosed;
      const work = await worker.stop();
      assert.ok(work.answered >= 10, `${work.answered} of the working client's requests answered`);
      assert.deepEqual({ failed: work.failed, connections: work.connections }, { failed: 0, connections: 1 });
    } finally {
      siege.stop();
      await worker.stop();
      idle.destroy();
      await small.close();
    }
  });

  it('HTTP integrations under way are bounded (two descriptors each): past it a stage answers 429, and the server keeps answering', async () => {
    // A server that may open 400 descriptors (25 exchanges at once) and a backend that answers after a second.
    const small = await startServerProcess({ openFiles: 400, logLevel: 'error' });
    let now = 0;
    let most = 0;
    const backend = createServer((_req, res) => {
      most = Math.max(most, ++now);
      setTimeout(() => {
        now--;
        res.end('late');
      }, 1000);
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const apigw = apiGatewayClientFor(small.url);
    try {
      const { id } = await createApi(apigw, 'slow-backend');
      const backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
      await putMethod(apigw, id, await resourceAt(apigw, id, '/slow'), 'GET', {
        integration: { type: 'HTTP_PROXY', integrationHttpMethod: 'GET', uri: `${backendUrl}/slow` },
      });
      await apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' }));
      const answers = Promise.all(
        Array.from({ length: 60 }, () =>
          fetch(stageUrl(small.url, id, 'prod', '/slow')).then(async (r) => [r.status, await r.text()] as const),
        ),
      );
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await healthAnswers(small.url), 3, 'the health check answers while the exchanges wait');
      const done = await answers;
      const refused = done.filter(([status]) => status === 429);
      assert.ok(refused.length >= 30, `${refused.length} of 60 refused`);
      assert.deepEqual(refused[0], [429, '{"message":"Too Many Requests"}']);
      assert.ok(done.filter(([status, body]) => status === 200 && body === 'late').length >= 16);
      assert.ok(most <= 25, `${most} exchanges at once`);
    } finally {
      apigw.destroy();
      backend.close();
      await small.close();
    }
  });

  it("connections held on a function's Runtime API port count with the server's own: it closes them and keeps answering", async () => {
    // The Runtime API of each environment listens in the server's process, and a function knows its own
    // port (and, from /proc/net/tcp, the others'): 600 half request lines there, against 400 descriptors.
    const small = await startServerProcess({ openFiles: 400, logLevel: 'error' });
    try {
      await createFunction(small.lambda, 'port-teller', {
        'index.js': 'exports.handler = async () => process.env.AWS_LAMBDA_RUNTIME_API;',
      });
      const out = await small.lambda.send(new InvokeCommand({ FunctionName: 'port-teller' }));
      const api = payloadOf(out);
      assert.equal(typeof api, 'string', JSON.stringify(api));
      const [hostname, port] = (api as string).split('/')[0]!.split(':');
      const siege = holdConnections(hostname!, Number(port), 600, ['', 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n']);
      try {
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(await healthAnswers(small.url), 3, 'the health check answers while the connections come');
        assert.ok(siege.closedByServer() > 0, 'some held connections were closed');
      } finally {
        siege.stop();
      }
      // The function's environment came through it: the listener the siege was on still serves its runtime.
      // (A new client: the old one's idle connection may have been one of those closed.)
      const fresh = lambdaClientFor(small.url);
      const again = await fresh.send(new InvokeCommand({ FunctionName: 'port-teller' }));
      fresh.destroy();
      assert.equal(again.FunctionError, undefined);
      assert.equal(payloadOf(again), api);
    } finally {
      await small.close();
    }
  });

  it('downloads nobody reads, two descriptors each, past the descriptors the server may open: it closes them and keeps answering', async () => {
    // A server that may open 300 descriptors; 140 GETs of an 8 MB object whose clients never read (each
    // holds the socket and the object's file): 280 descriptors, past what the server may hold.
    const small = await startServerProcess({ openFiles: 300, logLevel: 'error' });
    const s3 = s3ClientFor(small.url);
    const holder = spawn('python3', ['-c', HOLD_DOWNLOADS, new URL(small.url).port, '140'], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'big' }));
      await s3.send(new PutObjectCommand({ Bucket: 'big', Key: 'object', Body: Buffer.alloc(8 * MB, 0x61) }));
      holder.stdin.end('go\n');
      const held = await new Promise<string>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(d.toString())));
      assert.match(held, /^held \d+/);
      assert.equal(await healthAnswers(small.url), 3, 'the health check answers while the downloads are held');
      // The operator's own calls get through too.
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'big', Key: 'object' }))).ContentLength, 8 * MB);
    } finally {
      holder.kill('SIGKILL');
      s3.destroy();
      await small.close();
    }
  });

  it('answers nobody reads: 250 unread Invokes of 6 MB answers (1.5 GB) hold at most their budget, the slowest readers are closed', async () => {
    await createFunction(s.lambda, 'big-answer', { 'index.js': "exports.handler = async () => 'x'.repeat(6_000_000);" });
    assert.equal((payloadOf(await s.lambda.send(new InvokeCommand({ FunctionName: 'big-answer' }))) as string).length, 6_000_000);
    const port = new URL(s.url).port;
    const holder = spawn(
      'python3',
      ['-c', HOLD_DOWNLOADS, port, '250', 'POST', '/2015-03-31/functions/big-answer/invocations', 'lambda', '0.02'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    try {
      await underAttack(
        s,
        '250 unread 6 MB Invoke answers',
        async () => {
          holder.stdin.end('go\n');
          const held = await new Promise<string>((resolve) => holder.stdout.once('data', (d: Buffer) => resolve(d.toString())));
          assert.match(held, /^held 250/);
          // Long enough for every answer to be made and the server to look at what waits, twice.
          await new Promise((resolve) => setTimeout(resolve, 4000));
        },
        // Making 250 answers of 6 MB churns some 300 MB through the heap whatever is held; held, they were +1.2 GB.
        600 * MB,
      );
      assert.ok(s.log('too many answers waiting for their clients').lines >= 1, 'the slowest readers were closed');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a chunked body past the largest request is answered 413 RequestTooLargeException, not 429', async () => {
    const { hostname, port } = new URL(s.url);
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.setEncoding('latin1').on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /2015-03-31/functions HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const chunk = Buffer.alloc(MB, 0x20);
    // No Content-Length to refuse it by: 80 chunks of 1 MB, past the 72 MiB a request may hold.
    for (let i = 0; i < 80 && !socket.destroyed && answer === ''; i++) {
      await new Promise<void>((resolve) =>
        socket.write(`${chunk.length.toString(16)}\r\n`, () => socket.write(chunk, () => socket.write('\r\n', () => resolve()))),
      );
    }
    socket.end();
    await closed;
    assert.match(answer, /^HTTP\/1\.1 413 /, answer.split('\r\n')[0]);
    assert.match(answer, /RequestTooLargeException/);
  });

  /** Opens a request to a stage from `localAddress` that sends `head` and `size` bytes of its body, then nothing. */
  const stageUpload = (head: string, size: number, localAddress = '127.0.0.1') => {
    const { hostname, port } = new URL(s.url);
    const socket = net.connect({ port: Number(port), host: hostname, localAddress });
    let answer = '';
    socket.setEncoding('latin1').on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined);
    socket.write(head);
    const sent = new Promise<void>((resolve) => socket.write(Buffer.alloc(size, 0x20), () => resolve()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    return { socket, sent, closed, answer: () => answer, status: () => answer.split('\r\n')[0] ?? '' };
  };

  it("stage bodies: past API Gateway's 10 MiB a stage answers 413 as soon as the length says so or that many bytes came", async () => {
    const { hostname } = new URL(s.url);
    // 20 MB declared, none of it sent: answered at once, in API Gateway's words.
    const declared = stageUpload(
      `POST /restapis/abcdef1234/prod/_user_request_/x HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: ${20_000_000}\r\n\r\n`,
      0,
    );
    const execute = stageUpload(
      `POST /prod/x HTTP/1.1\r\nHost: abcdef1234.execute-api.localhost\r\nContent-Length: ${10 * MB + 1}\r\n\r\n`,
      0,
    );
    try {
      for (const upload of [declared, execute]) {
        await Promise.race([upload.closed, new Promise((r) => setTimeout(r, 3000))]);
        assert.match(upload.status(), /^HTTP\/1\.1 413 /, upload.status() || 'no answer');
        assert.match(upload.answer(), /HTTP content length exceeded 10485760 bytes\./);
      }
    } finally {
      declared.socket.destroy();
      execute.socket.destroy();
    }
    // Chunked, with no length to go by: refused once 10 MiB came, not read on to 72 MiB.
    const chunked = stageUpload(
      `POST /restapis/abcdef1234/prod/_user_request_/x HTTP/1.1\r\nHost: ${hostname}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      0,
    );
    const chunk = Buffer.alloc(MB, 0x20);
    let sent = 0;
    for (; sent < 40 && chunked.answer() === '' && !chunked.socket.destroyed; sent++) {
      await new Promise<void>((resolve) =>
        chunked.socket.write(`${chunk.length.toString(16)}\r\n`, () =>
          chunked.socket.write(chunk, () => chunked.socket.write('\r\n', () => resolve())),
        ),
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    chunked.socket.destroy();
    assert.match(chunked.status(), /^HTTP\/1\.1 413 /, chunked.status() || 'no answer');
    assert.ok(sent <= 16, `answered after ${sent} MiB`);
  });

  it("stage bodies: one source's uploads hold two stage bodies' worth at most; another source's still have room", async () => {
    const { hostname, port } = new URL(s.url);
    const head = `POST /restapis/abcdef1234/prod/_user_request_/x HTTP/1.1\r\nHost: ${hostname}\r\nContent-Length: ${10 * MB}\r\n\r\n`;
    // One caller's eight uploads of 9 MiB, kept coming at 200 KB/s so that none stalls: the whole 72 MiB
    // the unsigned callers share, were it not for the source's share.
    const held = Array.from({ length: 8 }, () => stageUpload(head, 9 * MB));
    const trickle = setInterval(() => {
      for (const h of held) if (!h.socket.destroyed && h.answer() === '') h.socket.write(Buffer.alloc(100_000, 0x20));
    }, 500);
    try {
      await Promise.all(held.map((h) => Promise.race([h.sent, h.closed])));
      // Another caller (another loopback address) uploads 5 MB whole: read and answered (no such API: 403), not 429.
      const other = await postWhole(
        hostname,
        Number(port),
        head.replace(`Content-Length: ${10 * MB}`, `Content-Length: ${5 * MB}`),
        Buffer.alloc(5 * MB, 0x20),
        '127.0.0.2',
      );
      assert.match(other, /^HTTP\/1\.1 403 /, other);
      const refused = held.filter((h) => / 429 /.test(h.status())).length;
      assert.ok(refused >= 5, held.map((h) => h.status() || 'held').join(' | '));
    } finally {
      clearInterval(trickle);
      for (const h of held) h.socket.destroy();
    }
  });

  it('versa deploy: a YAML alias bomb is refused with ValidationError naming the line and column, and no stack is made', async () => {
    const template = aliasBomb();
    assert.ok(template.length < 400);
    const res = await underAttack(s, 'YAML alias bomb', () => deployStack(s.url, 'laughs', template));
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-amzn-errortype'), 'ValidationError');
    const { message } = (await res.json()) as { message: string };
    assert.match(message, /alias \*\w at line \d+, column \d+ expands the template past 100000 values/);
    const stack = await fetch(`${s.url}/_versa/api/stacks/laughs`);
    assert.equal(stack.status, 400);
    assert.match(((await stack.json()) as { message: string }).message, /Stack with id laughs does not exist/);
  });

  it('versa deploy: aliases of one long scalar count by its characters: 5,000 copies of 100 KB are refused, not built', async () => {
    const lines = ['Description: &s ' + 'A'.repeat(100_000), 'Metadata:', '  X:', ...Array.from({ length: 5000 }, () => '    - *s')];
    const template = [...lines, 'Resources:', '  T:', '    Type: AWS::CloudFormation::WaitConditionHandle'].join('\n');
    assert.ok(template.length < 200_000);
    const res = await underAttack(s, 'YAML scalar aliases', () => deployStack(s.url, 'copies', template));
    assert.equal(res.status, 400);
    const { message } = (await res.json()) as { message: string };
    assert.match(message, /alias \*s at line \d+, column \d+ expands the template past 100000 values, 4194304 characters/);
  });

  it('versa deploy: SAM’s alias renames are looked up, not scanned: Globals with thousands of references in 200 functions plan without holding the server', async () => {
    const lines = [
      'Transform: AWS::Serverless-2016-10-31',
      'Globals:',
      '  Function:',
      '    Environment:',
      '      Variables:',
      `        V: !Sub "${'${z.a}'.repeat(8000)}"`,
      'Resources:',
      ...Array.from(
        { length: 200 },
        (_, i) =>
          `  F${i}: {Type: AWS::Serverless::Function, Properties: {Handler: a.h, Runtime: python3.12, CodeUri: s3://b/x.zip, AutoPublishAlias: l}}`,
      ),
    ];
    // The server's answers meanwhile: a rename scan per reference held the event loop for about 19 s.
    const { result: res, slowestMs } = await slowestHealthWhile(s.url, () => deployStack(s.url, 'renames', lines.join('\n'), true));
    // Refused once expanded: 200 functions with their versions and aliases are 800 resources.
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /Number of resources, 800, is greater than maximum allowed, 500/);
    assert.ok(slowestMs < 5000, `/_versa/health took ${slowestMs} ms while the template was planned`);
  });

  it('versa deploy: names every object inherits are no resource, attribute or condition of a template (4xx, no stack)', async () => {
    const alarm = (extra: string) =>
      `Resources:\n  Alarm:\n    Type: AWS::CloudWatch::Alarm\n${extra}    Properties:\n      MetricName: Errors\n      Namespace: AWS/Lambda\n      Statistic: Sum\n      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 1\n      ComparisonOperator: GreaterThanThreshold\n`;
    const cases: [string, string, RegExp][] = [
      ['getatt-proto', `Outputs:\n  Out:\n    Value: { "Fn::GetAtt": ["__proto__", "Arn"] }\n${alarm('')}`, /__proto__/],
      ['ref-constructor', `Outputs:\n  Out:\n    Value: { Ref: constructor }\n${alarm('')}`, /constructor/],
      ['condition-constructor', alarm('    Condition: constructor\n'), /constructor/],
      ['resource-proto', `Resources:\n  __proto__:\n    Type: AWS::CloudWatch::Alarm\n`, /Resource name __proto__ is non alphanumeric/],
    ];
    for (const [name, template, message] of cases) {
      const res = await deployStack(s.url, name, template);
      const text = await res.text();
      assert.ok(res.status >= 400 && res.status < 500, `${name}: ${res.status} ${text}`);
      assert.match(text, message, name);
      const stack = await fetch(`${s.url}/_versa/api/stacks/${name}`);
      assert.equal(stack.status, 400, name);
    }
  });

  it('Invoke: a function that prints 300 MB without a newline is logged in bounded memory, with a marker for what was dropped', async () => {
    await createFunction(
      s.lambda,
      'noisy',
      {
        // It waits for its output to be taken by the pipe, so that (nearly) all of it is this invocation's.
        'index.js': `exports.handler = async () => {
          for (let i = 0; i < 300; i++) process.stdout.write('x'.repeat(1 << 20));
          await new Promise((resolve) => process.stdout.write('', resolve));
          return 'done';
        };`,
      },
      // Node queues what the pipe has not taken yet: the function itself needs the memory, Versa must not.
      { Timeout: 60, MemorySize: 1536 },
    );
    const out = await underAttack(s, '300 MB without a newline', () =>
      s.lambda.send(new InvokeCommand({ FunctionName: 'noisy', LogType: 'Tail' })),
    );
    const tail = Buffer.from(out.LogResult ?? '', 'base64');
    assert.ok(tail.byteLength <= 4096, `the tail is ${tail.byteLength} bytes`);
    const dropped = /\[Versa\] (\d+) bytes of function output were dropped: an invocation logs at most 8388608 bytes\./.exec(
      tail.toString(),
    );
    assert.ok(dropped, tail.toString());
    assert.equal(out.FunctionError, undefined);
    assert.equal(payloadOf(out), 'done');
    // All of it but the 8 MiB logged, less what was still in the pipe when the function answered.
    assert.ok(Number(dropped[1]) > 290 * MB && Number(dropped[1]) <= 292 * MB, dropped[1]);
  });

  it('Invoke: sixteen environments printing their 8 MB at once are logged (or dropped) without holding the server', async () => {
    await createFunction(
      s.lambda,
      'loud',
      {
        'index.py': [
          'import os',
          'def handler(event, context):',
          "    line = ('x' * 200 + '\\n') * 5000",
          '    for _ in range(8):',
          '        os.write(1, line.encode())',
          "    return 'done'",
        ].join('\n'),
      },
      { Runtime: 'python3.12', Handler: 'index.handler', Timeout: 60 },
    );
    await s.lambda.send(new InvokeCommand({ FunctionName: 'loud' }));
    // 16 × 40,000 lines: past what the log buffer holds, faster than they are written.
    const { result: outs, slowestMs } = await slowestHealthWhile(s.url, () =>
      Promise.all(Array.from({ length: 16 }, () => s.lambda.send(new InvokeCommand({ FunctionName: 'loud' })))),
    );
    for (const out of outs) assert.equal(payloadOf(out), 'done');
    // Dropping the oldest one at a time shifted the whole buffer for every line: 12 s of a held event loop.
    assert.ok(slowestMs < 3000, `/_versa/health took ${slowestMs} ms while they printed`);
  });

  it('FilterLogEvents and GetLogEvents: 30 batches of 1,000 events in one second are read, every page, without holding the server', async () => {
    const logs = new CloudWatchLogsClient(clientConfig(s.url));
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'crowded' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'crowded', logStreamName: 's' }));
    // Every batch spans the same second, so every chunk holds events of every moment read.
    const second = Date.now() - 60_000;
    for (let batch = 0; batch < 30; batch++) {
      const logEvents = Array.from({ length: 1000 }, (_, i) => ({ timestamp: second + i, message: `${batch} ${'x'.repeat(990)}` }));
      await logs.send(new PutLogEventsCommand({ logGroupName: 'crowded', logStreamName: 's', logEvents }));
    }
    const started = Date.now();
    const { result, slowestMs } = await slowestHealthWhile(s.url, async () => {
      let filtered = 0;
      for await (const page of paginateFilterLogEvents({ client: logs }, { logGroupName: 'crowded', filterPattern: 'zz' })) {
        filtered += page.events?.length ?? 0;
      }
      let read = 0;
      let previous: string | undefined;
      for (let token: string | undefined; ;) {
        const page = await logs.send(
          new GetLogEventsCommand({ logGroupName: 'crowded', logStreamName: 's', startFromHead: true, nextToken: token }),
        );
        read += page.events?.length ?? 0;
        if (page.nextForwardToken === previous) break;
        previous = token = page.nextForwardToken;
      }
      return { filtered, read };
    });
    console.log(
      `# 30,000 events in one second, filtered and read page by page: ${Date.now() - started} ms; /_versa/health at most ${slowestMs} ms`,
    );
    assert.deepEqual(result, { filtered: 0, read: 30_000 });
    // Each step of a hundred events parsed all thirty chunks again: one FilterLogEvents held the server 50 s.
    assert.ok(slowestMs < 1500, `/_versa/health took ${slowestMs} ms while the log was read`);
  });

  it("Invoke: a function's 20,000 frames of an unknown type on its frame channel stop its environment at the first, one line of the server's log each time", async () => {
    const code = [
      "const fs = require('node:fs');",
      'exports.handler = async () => {',
      '  const frames = Buffer.alloc(5 * 20000);',
      '  for (let i = 0; i < 20000; i++) { frames.writeUInt32BE(1, i * 5); frames.writeUInt8(99, i * 5 + 4); }',
      '  try { for (let at = 0; at < frames.length; ) at += fs.writeSync(3, frames, at); } catch {}',
      "  return 'sent';",
      '};',
    ].join('\n');
    await createFunction(s.lambda, 'frames', { 'index.js': code });
    const before = s.log('').bytes;
    for (let i = 0; i < 2; i++) {
      const out = await s.lambda.send(new InvokeCommand({ FunctionName: 'frames' }));
      assert.equal(out.FunctionError, 'Unhandled');
      assert.equal((payloadOf(out) as { errorType: string }).errorType, 'Runtime.Unknown');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Each frame was once a line of its own: 124 MB of the server's log for a million. Now each
    // environment says it once, and is gone.
    assert.equal(s.log('a runtime broke the frame protocol').lines, 2);
    assert.ok(s.log('').bytes - before < 4096, `the server logged ${s.log('').bytes - before} bytes`);
  });

  it('Invoke: a function posting 6 MB reports for other request ids to its own Runtime API is answered unread, in bounded memory', async () => {
    // 80 connections to its own Runtime API (it knows the secret), each a response for an id that is not
    // the current invocation's, 6 MB of a 7 MB body sent and held: read, they would be 480 MB of the server.
    const code = [
      'import os, socket, time',
      'def handler(event, context):',
      '    hostport, secret = os.environ["AWS_LAMBDA_RUNTIME_API"].split("/", 1)',
      '    host, port = hostport.split(":")',
      '    held, refused = [], 0',
      '    for i in range(80):',
      '        s = socket.create_connection((host, int(port)))',
      '        s.sendall(("POST /%s/2018-06-01/runtime/invocation/bogus-%d/response HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 7000000\\r\\n\\r\\n" % (secret, i)).encode())',
      '        try:',
      '            s.sendall(b"x" * 6000000)',
      '        except OSError:',
      '            pass',
      '        held.append(s)',
      '    time.sleep(1)',
      '    for s in held:',
      '        s.settimeout(2)',
      '        try:',
      '            refused += s.recv(100).startswith(b"HTTP/1.1 400 ")',
      '        except OSError:',
      '            pass',
      '    return refused',
    ].join('\n');
    await createFunction(s.lambda, 'report-flood', { 'app.py': code }, { Runtime: 'python3.12', Handler: 'app.handler', Timeout: 60 });
    const out = await underAttack(s, '80 unread 6 MB reports to the Runtime API', () =>
      s.lambda.send(new InvokeCommand({ FunctionName: 'report-flood' })),
    );
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    assert.equal(payloadOf(out), 80);
  });

  it('FilterLogEvents: a pattern of 255 terms over 60 events of 256 KB pages through them without holding the server', async () => {
    const logs = new CloudWatchLogsClient(clientConfig(s.url));
    await logs.send(new CreateLogGroupCommand({ logGroupName: 'big' }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: 'big', logStreamName: 's' }));
    const terms: string[] = [];
    for (const x of 'bcdefghijklmnopqrstuvwxyz0123456789') for (const y of 'bcdefghijklmnopqrstuvwxyz') terms.push(`a${x}${y}`);
    const present = terms.slice(0, 254);
    // Every term is at the end, and every position before starts it: a search per term reads it all.
    const tail = present.join('');
    const message = 'a'.repeat(262_144 - 26 - tail.length) + tail;
    const now = Date.now();
    for (let batch = 0; batch < 20; batch++) {
      const logEvents = Array.from({ length: 3 }, (_, i) => ({ timestamp: now - 60_000 + batch * 3 + i, message }));
      await logs.send(new PutLogEventsCommand({ logGroupName: 'big', logStreamName: 's', logEvents }));
    }
    const filter = async (filterPattern: string) => {
      let pages = 0;
      let found = 0;
      for await (const page of paginateFilterLogEvents({ client: logs }, { logGroupName: 'big', filterPattern })) {
        pages++;
        found += page.events?.length ?? 0;
      }
      return { pages, found };
    };
    // 255 terms, the last one in no event: each event is read for all of them, and none matches.
    const none = `${present.join(' ')} zz`;
    assert.ok(none.length <= 1024);
    const started = Date.now();
    const { result, slowestMs } = await slowestHealthWhile(s.url, () =>
      Promise.all([filter(none), filter(none), filter(present.join(' '))]),
    );
    console.log(
      `# 3 × FilterLogEvents of 255 terms over 15 MB: ${Date.now() - started} ms, pages ${result.map((r) => r.pages).join('/')}; ` +
        `/_versa/health at most ${slowestMs} ms`,
    );
    // Two scan at once and the third waits its turn; the last finds every event, in answers of 1 MB.
    assert.deepEqual(
      result.map((r) => r.found),
      [0, 0, 60],
    );
    // One search per term held the event loop for 90 s over a third as many events.
    assert.ok(slowestMs < 1500, `/_versa/health took ${slowestMs} ms while the scans ran`);
  });

  it('request limits: each operation answers its AWS limit with AWS error and status', async () => {
    const post = (pathName: string, body: Buffer | string, headers: Record<string, string> = {}) =>
      awsFetch(`${s.url}${pathName}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const event = await errorOf(() =>
      s.lambda.send(new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event', Payload: Buffer.from(`"${'x'.repeat(MB)}"`) })),
    );
    assert.equal(event.name, 'RequestEntityTooLargeException');
    assert.equal(event.$metadata?.httpStatusCode, 413);
    assert.equal(event.message, `${MB + 2} byte payload is too large for the Event invocation type (limit 1048576 bytes)`);
    const sync = await errorOf(() =>
      s.lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(`"${'x'.repeat(6 * MB)}"`) })),
    );
    assert.equal(sync.name, 'RequestEntityTooLargeException');
    assert.equal(sync.message, 'Request must be smaller than 6291456 bytes for the InvokeFunction operation');
    const create = await post('/2015-03-31/functions', Buffer.alloc(70_167_212, 0x20));
    assert.equal(create.status, 413);
    assert.equal(create.headers.get('x-amzn-errortype'), 'RequestEntityTooLargeException');
    assert.equal(
      ((await create.json()) as { Message: string }).Message,
      'Request must be smaller than 70167211 bytes for the CreateFunction operation',
    );
    // A zip over 50 MB whose request is still under the request limit.
    const zipped = await errorOf(() => createFunction(s.lambda, 'fat', {}, { Code: { ZipFile: Buffer.alloc(52_428_801) } }));
    assert.equal(zipped.name, 'RequestEntityTooLargeException');
    assert.equal(zipped.message, 'Zipped size must be smaller than 52428800 bytes');
    // Refused as soon as its length is read, while the client still sends: the answer must reach a real
    // client (fetch), not be lost to a reset of the connection (18 of 30 were, before it lingered).
    for (let i = 0; i < 5; i++) {
      const gateway = await post('/restapis/abcdef1234/prod/_user_request_/upload', Buffer.alloc(10 * MB + 1, 0x20));
      assert.equal(gateway.status, 413);
      assert.equal(await gateway.text(), 'HTTP content length exceeded 10485760 bytes.');
    }
  });
});
