/**
 * The Node.js runtime that runs inside an execution environment (a child process). It speaks the Lambda
 * Runtime API to the server like AWS's own runtime interface client: load the handler, then loop on
 * `next` → run → report. Started by Versa, it does so over a framed pipe instead of HTTP (FrameClient
 * below, runtime/frames.ts on the server's side). It imports nothing from Versa, so it starts as fast as
 * Node itself does.
 */
import { existsSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import type net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

// The frame channel's descriptor, when Versa gave one: the variable is for this runtime, not the function.
const FRAMES_FD = process.env._VERSA_RUNTIME_FD;
delete process.env._VERSA_RUNTIME_FD;
// Variables Versa set for this process itself (launchers.ts), read when it started: not the function's.
for (const name of (process.env._VERSA_RUNTIME_ONLY ?? '').split(',')) if (name) delete process.env[name];
delete process.env._VERSA_RUNTIME_ONLY;
const API = process.env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001';
// `host:port` or `host:port/prefix`: Versa puts the environment's secret in a path prefix.
const [, apiHost = '127.0.0.1', apiPort = '9001', apiPrefix = ''] = /^([^:/]+):(\d+)(\/[^?#]*)?$/.exec(API) ?? [];
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const HANDLER = process.env._HANDLER ?? '';
/** What every invocation's context says of the environment, read once: each read of process.env is a getenv. */
const ENVIRONMENT_DATA = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
};
/** How often in a row a poll may be superseded by another of ours before the runtime gives up. */
const MAX_SUPERSEDED_POLLS = 3;
/** The exit status of a runtime that ended because of the Runtime API, not the function (Versa's logs name it). */
const RUNTIME_API_FAILED = 70;

// Stack traces show the function's code under /var/task and this runtime as file:///var/runtime/index.mjs,
// as on AWS, wherever they really are (without a sandbox the code is in Versa's data folder).
const RUNTIME_URL = import.meta.url;
const STABLE_RUNTIME_URL = 'file:///var/runtime/index.mjs';
const TASK_DIR = TASK_ROOT.replace(/\/+$/, '');
const TASK_URL = pathToFileURL(TASK_DIR).href;
const rewritesPaths = TASK_DIR !== '/var/task' || RUNTIME_URL !== STABLE_RUNTIME_URL;

/** `text` with the code's and the runtime's real locations replaced by the stable ones. */
function stablePaths(text: string): string {
  if (!rewritesPaths) return text;
  let out = text;
  if (out.includes(RUNTIME_URL)) out = out.replaceAll(RUNTIME_URL, STABLE_RUNTIME_URL);
  if (TASK_DIR !== '/var/task') {
    if (out.includes(`${TASK_URL}/`)) out = out.replaceAll(`${TASK_URL}/`, 'file:///var/task/');
    if (out.includes(`${TASK_DIR}/`)) out = out.replaceAll(`${TASK_DIR}/`, '/var/task/');
  }
  return out;
}

interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * A minimal HTTP/1.1 client for the Runtime API over one keep-alive socket. Node's `http` client costs
 * several times more CPU per request, and every invocation makes two requests. The socket is unref'd
 * while idle so that an empty event loop still means "the handler is done" (beforeExit below).
 */
class RuntimeClient {
  private socket: net.Socket | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: ApiResponse) => void; reject: (e: Error) => void } | undefined;

  call(method: string, urlPath: string, body?: string, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const socket = this.connect();
    const payload = body === undefined ? undefined : Buffer.from(body);
    let head = `${method} ${apiPrefix}/2018-06-01${urlPath} HTTP/1.1\r\nHost: ${apiHost}:${apiPort}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (payload) head += `Content-Type: application/json\r\nContent-Length: ${payload.length}\r\n`;
    head += '\r\n';
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      socket.ref();
      socket.write(payload ? Buffer.concat([Buffer.from(head), payload]) : head);
    });
  }

  private connect(): net.Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    // Loaded only here: the frame channel does without `net`, whose modules are 1.5 MiB of a runtime's memory.
    const { connect } = createRequire(import.meta.url)('node:net') as typeof net;
    const socket = connect(Number(apiPort), apiHost);
    socket.setNoDelay(true);
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.tryParse();
    });
    const fail = (err: Error) => {
      this.socket = undefined;
      const p = this.pending;
      this.pending = undefined;
      p?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('runtime API connection closed')));
    this.socket = socket;
    return socket;
  }

  private tryParse(): void {
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end < 0 || !this.pending) return;
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0]?.split(' ')[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let rest = this.buffer.subarray(end + 4);
    let body: Buffer;
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        if (lineEnd < 0) return;
        const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
        if (rest.length < lineEnd + 2 + size + 2) return;
        parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
        rest = rest.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (rest.length < length) return;
      body = rest.subarray(0, length);
      rest = rest.subarray(length);
    }
    this.buffer = Buffer.from(rest);
    const p = this.pending;
    this.pending = undefined;
    this.socket?.unref();
    if (headers.connection?.toLowerCase() === 'close') this.socket?.destroy();
    p.resolve({ status, headers, body: body.toString('utf8') });
  }
}

/** How the runtime gets its events and reports their outcomes: HTTP, or frames. */
interface Transport {
  next(): Promise<ApiResponse>;
  report(kind: 'response' | 'error', requestId: string, body: string, errorType?: string): Promise<unknown>;
  initError(body: string, errorType: string): Promise<unknown>;
}

/** The Runtime API over HTTP. */
class HttpTransport implements Transport {
  private readonly client = new RuntimeClient();

  async next(): Promise<ApiResponse> {
    for (let superseded = 0; ; superseded++) {
      const next = await this.client.call('GET', '/runtime/invocation/next');
      // 409: another poll of ours took this one's place; poll again rather than end.
      if (next.status === 409 && superseded < MAX_SUPERSEDED_POLLS) continue;
      if (next.status !== 200) throw new Error(`the Runtime API answered ${next.status} to next`);
      return next;
    }
  }

  report(kind: 'response' | 'error', requestId: string, body: string, errorType?: string): Promise<unknown> {
    const headers: Record<string, string> = errorType ? { 'lambda-runtime-function-error-type': errorType } : {};
    return this.client.call('POST', `/runtime/invocation/${requestId}/${kind}`, body, headers);
  }

  initError(body: string, errorType: string): Promise<unknown> {
    return this.client.call('POST', '/runtime/init/error', body, { 'lambda-runtime-function-error-type': errorType });
  }
}

// Frame types and layout: see runtime/frames.ts (a 4-byte length, a 1-byte type, the body).
const INVOKE = 1;
const READY = 2;
const RESPONSE = 3;
const ERROR = 4;
const INIT_ERROR = 5;

/**
 * The Runtime API as frames over the pipe Versa opened on FRAMES_FD: an INVOKE frame is a `next` poll's
 * answer, RESPONSE/ERROR frames the posts (after which the server knows the runtime waits again). The
 * descriptor (a blocking one) is read and written directly, without `net`, whose modules are 1.5 MiB of
 * a runtime's memory that a function without sockets of its own would not otherwise pay. Between two
 * invocations the runtime blocks in the read, after one turn of the event loop: what the function left
 * running waits for the next event, as on AWS, which freezes an environment between invocations. (A
 * read on the thread pool instead cost 15-25 % of warm throughput, in two more thread hand-overs per
 * invocation.) No read is pending while the handler runs, so an empty event loop still means "the
 * handler is done" (beforeExit below).
 */
class FrameClient implements Transport {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly chunk = Buffer.allocUnsafe(64 * 1024);
  private closed: Error | undefined;
  private ready = false;

  constructor(private readonly fd: number) {}

  async next(): Promise<ApiResponse> {
    if (!this.ready) {
      // The first wait is said; later ones follow from each report.
      this.ready = true;
      this.send(READY, Buffer.alloc(0));
    }
    // One turn of the event loop first: what is ready to run (an immediate, I/O that completed, V8's own
    // tasks) runs before the runtime blocks, not only once the next event is in.
    await new Promise((resolve) => setImmediate(resolve));
    for (;;) {
      const event = this.parse();
      if (event) return event;
      if (this.closed) throw this.closed;
      this.read();
    }
  }

  report(kind: 'response' | 'error', requestId: string, body: string): Promise<unknown> {
    // One buffer for the whole frame: header, request id, payload.
    const idLength = Buffer.byteLength(requestId, 'latin1');
    const bodyLength = Buffer.byteLength(body);
    const frame = Buffer.allocUnsafe(7 + idLength + bodyLength);
    frame.writeUInt32BE(3 + idLength + bodyLength, 0);
    frame.writeUInt8(kind === 'response' ? RESPONSE : ERROR, 4);
    frame.writeUInt16BE(idLength, 5);
    frame.write(requestId, 7, 'latin1');
    frame.write(body, 7 + idLength, 'utf8');
    this.write(frame);
    return Promise.resolve();
  }

  initError(body: string): Promise<unknown> {
    this.send(INIT_ERROR, Buffer.from(body));
    return Promise.resolve();
  }

  private send(type: number, body: Buffer): void {
    const frame = Buffer.allocUnsafe(5 + body.length);
    frame.writeUInt32BE(body.length + 1, 0);
    frame.writeUInt8(type, 4);
    body.copy(frame, 5);
    this.write(frame);
  }

  /** Writes all of `frame`; a channel that is gone is noted, and the next wait ends with it. */
  private write(frame: Buffer): void {
    let offset = 0;
    while (offset < frame.length && !this.closed) {
      try {
        offset += writeSync(this.fd, frame, offset);
      } catch (err) {
        // EAGAIN: the descriptor is non-blocking after all (it is not, as Versa makes it); try again.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.closed = err as Error;
      }
    }
  }

  private read(): void {
    try {
      const n = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      if (n === 0) this.closed = new Error('runtime frame channel closed');
      else this.buffer = Buffer.concat([this.buffer, this.chunk.subarray(0, n)]);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') this.closed = err as Error;
    }
  }

  /** The next INVOKE frame in what was read, if it is whole (frames of other types are skipped). */
  private parse(): ApiResponse | undefined {
    while (this.buffer.length >= 5) {
      const length = this.buffer.readUInt32BE(0) - 1;
      if (this.buffer.length < 5 + length) return undefined;
      const type = this.buffer.readUInt8(4);
      const body = this.buffer.subarray(5, 5 + length);
      this.buffer = this.buffer.subarray(5 + length);
      if (type !== INVOKE) continue;
      const headLength = body.readUInt32BE(0);
      const headers = JSON.parse(body.toString('utf8', 4, 4 + headLength)) as Record<string, string>;
      return { status: 200, headers, body: body.toString('utf8', 4 + headLength) };
    }
    return undefined;
  }
}

const transport: Transport = FRAMES_FD ? new FrameClient(Number(FRAMES_FD)) : new HttpTransport();

interface ErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

function toErrorBody(err: unknown, fallbackType = 'Error'): ErrorBody {
  if (err instanceof Error) {
    return { errorType: err.name || fallbackType, errorMessage: err.message, trace: stablePaths(err.stack ?? '').split('\n') };
  }
  if (typeof err === 'object' && err !== null) {
    try {
      return { errorType: 'object', errorMessage: JSON.stringify(err), trace: [] };
    } catch {
      /* fall through */
    }
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

// ---- The invocation's trace id, in process.env as on AWS, without the C library's environment ----
const TRACE_ID = '_X_AMZN_TRACE_ID';
let traceId: string | undefined;

/**
 * Makes `process.env._X_AMZN_TRACE_ID` a variable held here rather than in the process's real
 * environment. glibc's setenv never frees a variable's old value, and every invocation brings a new
 * trace id: setting it for real made a warm environment grow by about 150 bytes per invocation, without
 * end (1 MiB every 10 s under load). process.env becomes a proxy that answers for this one name
 * everywhere JavaScript looks (reads, `in`, keys, spreading, the environment child processes get) and
 * leaves every other variable to the real environment.
 */
function keepTraceIdInJs(): void {
  const real = process.env;
  traceId = real[TRACE_ID];
  delete real[TRACE_ID];
  const own = (value: string) => ({ value, writable: true, enumerable: true, configurable: true });
  process.env = new Proxy(real, {
    get: (target, key) => (key === TRACE_ID ? traceId : (Reflect.get(target, key) as unknown)),
    set: (target, key, value) => {
      if (key !== TRACE_ID) return Reflect.set(target, key, value);
      traceId = String(value);
      return true;
    },
    has: (target, key) => (key === TRACE_ID ? traceId !== undefined : Reflect.has(target, key)),
    deleteProperty: (target, key) => {
      if (key !== TRACE_ID) return Reflect.deleteProperty(target, key);
      traceId = undefined;
      return true;
    },
    defineProperty: (target, key, descriptor) => {
      if (key !== TRACE_ID) return Reflect.defineProperty(target, key, descriptor);
      traceId = String(descriptor.value);
      return true;
    },
    ownKeys: (target) => (traceId === undefined ? Reflect.ownKeys(target) : [...Reflect.ownKeys(target), TRACE_ID]),
    getOwnPropertyDescriptor: (target, key) => {
      if (key !== TRACE_ID) return Reflect.getOwnPropertyDescriptor(target, key);
      return traceId === undefined ? undefined : own(traceId);
    },
  });
}
keepTraceIdInJs();

// ---- Logging: console lines carry the time, request id and level as on AWS. ----
// stdout and stderr are sockets to Versa, which Node writes without blocking: what the socket cannot take at
// once waits for the event loop, which the frame channel's wait for the next event blocks. A function that
// printed more than the socket holds would see the rest of its log held until its next invocation (or
// lost with its environment). Blocking writes, as a process's output is on Lambda, put every line in the
// socket before the function's answer.
for (const stream of [process.stdout, process.stderr]) {
  (stream as unknown as { _handle?: { setBlocking?: (on: boolean) => void } })._handle?.setBlocking?.(true);
}
let currentRequestId = 'undefined';
const write = (level: string, args: unknown[]) => {
  const text = stablePaths(format(...args)).replace(/\n/g, '\r');
  process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${text}\n`);
};
console.log = (...a: unknown[]) => write('INFO', a);
console.info = (...a: unknown[]) => write('INFO', a);
console.warn = (...a: unknown[]) => write('WARN', a);
console.error = (...a: unknown[]) => write('ERROR', a);
console.debug = (...a: unknown[]) => write('DEBUG', a);
console.trace = (...a: unknown[]) => write('TRACE', a);

// ---- Handler loading ----
type Handler = (event: unknown, context: unknown, callback: (err?: unknown, result?: unknown) => void) => unknown;

async function loadHandler(): Promise<Handler> {
  const lastSlash = HANDLER.lastIndexOf('/');
  const dot = HANDLER.indexOf('.', lastSlash + 1);
  if (dot < 0) {
    throw Object.assign(new Error(`Bad handler ${HANDLER}: expected the form module.function`), { name: 'Runtime.MalformedHandlerName' });
  }
  const modulePath = HANDLER.slice(0, dot);
  const exportPath = HANDLER.slice(dot + 1).split('.');
  const base = path.resolve(TASK_ROOT, modulePath);
  const file = ['.js', '.mjs', '.cjs', ''].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) {
    const name = path.basename(modulePath);
    throw Object.assign(new Error(`Error: Cannot find module '${name}'\nRequire stack:\n- ${STABLE_RUNTIME_URL.slice('file://'.length)}`), {
      name: 'Runtime.ImportModuleError',
    });
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SyntaxError) throw Object.assign(err, { name: 'Runtime.UserCodeSyntaxError' });
    throw err;
  }
  const pick = (root: unknown): unknown =>
    exportPath.reduce<unknown>((obj, key) => (obj == null ? undefined : (obj as Record<string, unknown>)[key]), root);
  const fn = pick(mod) ?? pick(mod.default);
  if (typeof fn !== 'function') {
    throw Object.assign(new Error(`${HANDLER} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  }
  return fn as Handler;
}

// ---- The invoke loop ----
/**
 * What the process does when its event loop empties with a result pending: callback-style handlers
 * reply only then (unless `callbackWaitsForEmptyEventLoop` is false), and a handler that never answered
 * replies `null`, as AWS's runtime does.
 */
let onEmptyLoop: (() => void) | undefined;
process.on('beforeExit', () => {
  const fn = onEmptyLoop;
  onEmptyLoop = undefined;
  fn?.();
});

function runOnce(handler: Handler, next: ApiResponse): Promise<void> {
  const requestId = String(next.headers['lambda-runtime-aws-request-id'] ?? '');
  const deadline = Number(next.headers['lambda-runtime-deadline-ms'] ?? Date.now() + 3000);
  const trace = next.headers['lambda-runtime-trace-id'];
  traceId = typeof trace === 'string' ? trace : undefined;
  currentRequestId = requestId;

  return new Promise<void>((done) => {
    let settled = false;
    let reported = false;
    const report = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => {
      if (reported) return;
      reported = true;
      onEmptyLoop = undefined;
      let send: Promise<unknown>;
      if (outcome.ok) {
        let body: string;
        try {
          body = JSON.stringify(outcome.value) ?? 'null';
        } catch (err) {
          send = transport.report('error', requestId, JSON.stringify(toErrorBody(err)));
          send.then(
            () => done(),
            () => done(),
          );
          return;
        }
        send = transport.report('response', requestId, body);
      } else {
        const errBody = toErrorBody(outcome.error);
        send = transport.report('error', requestId, JSON.stringify(errBody), errBody.errorType);
      }
      send.then(
        () => done(),
        () => done(),
      );
    };
    const settle = (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }, waitForEmptyLoop: boolean) => {
      if (settled) return;
      settled = true;
      if (waitForEmptyLoop && outcome.ok) onEmptyLoop = () => setImmediate(() => report(outcome));
      else report(outcome);
    };

    const context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: ENVIRONMENT_DATA.functionName,
      functionVersion: ENVIRONMENT_DATA.functionVersion,
      invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
      memoryLimitInMB: ENVIRONMENT_DATA.memoryLimitInMB,
      awsRequestId: requestId,
      logGroupName: ENVIRONMENT_DATA.logGroupName,
      logStreamName: ENVIRONMENT_DATA.logStreamName,
      identity: parseHeaderJson(next.headers['lambda-runtime-cognito-identity']),
      clientContext: parseHeaderJson(next.headers['lambda-runtime-client-context']),
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      succeed: (value: unknown) => settle({ ok: true, value }, false),
      fail: (error: unknown) => settle({ ok: false, error }, false),
      done: (error: unknown, value: unknown) => settle(error == null ? { ok: true, value } : { ok: false, error }, false),
    };
    const callback = (error?: unknown, value?: unknown) =>
      settle(error == null ? { ok: true, value } : { ok: false, error }, context.callbackWaitsForEmptyEventLoop);

    // A handler that never answers and leaves nothing running replies null.
    onEmptyLoop = () => settle({ ok: true, value: null }, false);

    let event: unknown;
    try {
      event = JSON.parse(next.body || 'null');
    } catch (err) {
      settle({ ok: false, error: err }, false);
      return;
    }
    try {
      const result = handler(event, context, callback);
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(
          (value) => settle({ ok: true, value }, false),
          (error: unknown) => settle({ ok: false, error }, false),
        );
      }
    } catch (error) {
      settle({ ok: false, error }, false);
    }
  });
}

function parseHeaderJson(value: string | undefined): unknown {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    handler = await loadHandler();
  } catch (err) {
    const body = toErrorBody(err, 'Runtime.ImportModuleError');
    if (!(err instanceof Error && err.name.startsWith('Runtime.'))) {
      body.errorType = 'Runtime.ImportModuleError';
      body.errorMessage = `${err instanceof Error ? err.name : 'Error'}: ${body.errorMessage}`;
    }
    console.error(`${body.errorType}: ${body.errorMessage}`);
    await transport.initError(JSON.stringify(body), body.errorType).catch(() => undefined);
    process.exit(1);
  }
  for (;;) await runOnce(handler, await transport.next());
}

process.on('uncaughtException', (err) => {
  console.error('Uncaught Exception', err);
  process.exit(129);
});
process.on('unhandledRejection', (reason) => {
  console.error('Unhandled Promise Rejection', reason);
  process.exit(128);
});

// The Runtime API going away means the environment is being torn down: leave without a word, so the
// function's log does not end with an error the function did not make. Versa says it in its own log.
main().catch(() => process.exit(RUNTIME_API_FAILED));
