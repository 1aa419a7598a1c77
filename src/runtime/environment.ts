import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hexId } from '../core/ids.js';
import type { Logger } from '../core/logger.js';
import { FRAMES_FD, FRAMES_FD_VARIABLE, FrameChannel, FrameType, splitReport } from './frames.js';
import { UnsafeEnvironmentError, type Confinement, type Isolation } from './isolation.js';
import { RUNTIME_ONLY_VARIABLE, launcherFor, speaksFrames } from './launchers.js';
import type { EnvironmentTarget, InvocationOutcome, InvocationRequest } from './types.js';

/** Largest response a function may return synchronously (AWS's figure). */
export const MAX_RESPONSE_BYTES = 6_291_556;
/** How long the runtime may take to initialise before the first invocation fails. */
const INIT_TIMEOUT_MS = 10_000;
/** Longest log line: a longer one is cut into events of this many bytes, as Lambda cuts log events at 256 KB. */
export const MAX_LOG_LINE_BYTES = 262_144;
/**
 * Most function output (stdout and stderr) logged per invocation; the rest is read and dropped, and one
 * marker line says how much. Output between invocations counts toward the one before.
 */
export const MAX_LOG_BYTES_PER_INVOCATION = 8 * 1024 * 1024;
/** The exit status of a bootstrap that ended because of the Runtime API, not the function (bootstrap/). */
const RUNTIME_API_FAILED = 70;
/** The `LogType: Tail` answer is the last 4 KB of the invocation's log, as on AWS. */
const TAIL_BYTES = 4096;

/**
 * An environment's life. Transitions:
 *   starting → idle (runtime asked for its first event) | stopped (init failed or process died)
 *   idle → busy (an invocation was assigned) | stopped
 *   busy → idle (the invocation ended) | stopped (timeout, crash, init error)
 *   any → stopped (stop())
 */
export type EnvironmentState = 'starting' | 'idle' | 'busy' | 'stopped';

export interface EnvironmentOptions {
  id: string;
  target: EnvironmentTarget;
  codeDir: string;
  logStreamName: string;
  /** Variables every environment gets (endpoint, credentials, region). */
  baseEnv: Record<string, string>;
  /** The sandbox and limits around the runtime process. */
  isolation: Isolation;
  logger: Logger;
  /** Receives each line the function's process writes. */
  onLogLine: (line: string) => void;
  onStopped: (env: ExecutionEnvironment) => void;
  /** Receives the Runtime API listener, to count and shed its connections with the server's (server/connections.ts). */
  watchConnections?: (runtimeApi: http.Server) => void;
}

interface Current {
  request: InvocationRequest;
  delivered: boolean;
  /** Set once the outcome is decided: later reports (a crash after a timeout, say) are ignored. */
  finished: boolean;
  startedAt: number;
  /** The end of the invocation's log, enough for the `Tail` answer; kept only when the caller asked for it. */
  log: LogTail | undefined;
  cold: boolean;
  /** (Re)arms the invocation's deadline timer, replacing any earlier one. */
  armTimer: (ms: number) => void;
  cancelTimer: () => void;
  finish: (outcome: Omit<InvocationOutcome, 'logLines' | 'durationMs' | 'initDurationMs'>) => void;
  /** Gives the invocation up unrun: invoke() rejects with RuntimeGoneError. */
  abandon: () => void;
}

/** From invoke(): a warm runtime ended before it took the event, so nothing ran and it may be run elsewhere. */
export class RuntimeGoneError extends Error {}

/**
 * One execution environment: a child process running a runtime, and the Runtime API endpoint it talks
 * to. Runs one invocation at a time; reused while warm.
 */
export class ExecutionEnvironment {
  state: EnvironmentState = 'starting';
  lastUsed = Date.now();
  invocations = 0;
  private readonly server: http.Server;
  /**
   * The path prefix every Runtime API request must carry (`AWS_LAMBDA_RUNTIME_API` is `host:port/<secret>`):
   * the port is no secret on a shared network, so this is what makes the endpoint this environment's alone.
   */
  private readonly apiPrefix = Buffer.from(`/${hexId(16)}/`);
  private child: ChildProcess | undefined;
  private confinement: Confinement | undefined;
  private waitingNext: http.ServerResponse | undefined;
  /**
   * Versa's own Node and Python runtimes talk over a framed pipe instead of HTTP (frames.ts); the Runtime
   * API stays open beside it for code that reads AWS_LAMBDA_RUNTIME_API.
   */
  private frames: FrameChannel | undefined;
  /**
   * Where the runtime on the frame channel is in its lifecycle, and so what it may send: any other frame
   * ends the environment (onFrameViolation). `waiting` is what an open `next` poll is over HTTP.
   */
  private channel: ChannelPhase = { phase: 'loading' };
  /** A Runtime API report's body is being read (onRuntimeApi): until it is whole, another is refused. */
  private readingReport = false;
  private current: Current | undefined;

  /** The chain of the invocation this environment runs now (InvocationRequest.chain), if it runs one. */
  currentChain(): number | undefined {
    return this.current?.request.chain;
  }
  private readonly spawnedAt = performance.now();
  private initDurationMs: number | undefined;
  private initError: Buffer | undefined;
  /** Set when there is nothing to run: the first invocation fails with Runtime.InvalidEntrypoint. */
  private entrypointError: string | undefined;
  /** Output since the last newline (less than MAX_LOG_LINE_BYTES). */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Output logged, and dropped, since the current invocation was delivered. */
  private loggedBytes = 0;
  private droppedBytes = 0;
  private memorySampledAt = 0;
  private maxMemoryMb = 0;
  private markExited: () => void = () => undefined;
  /** What `warnOnce` has said about this environment. */
  private readonly warned = new Set<string>();
  /** Set when the platform stopped the environment: the runtime's output no longer goes to the function's log. */
  private silenced = false;
  /** Settles once the runtime process has ended (or never started). */
  readonly exited: Promise<void>;

  private constructor(private readonly opts: EnvironmentOptions) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.server = http.createServer((req, res) => {
      // The function's code can call its Runtime API: whatever it sends, a fault here is this
      // environment's to report, never an exception that ends the server.
      try {
        this.onRuntimeApi(req, res);
      } catch (err) {
        this.opts.logger.error('the Runtime API failed to answer a request', { env: this.id, err });
        this.failCurrent('Runtime.Unknown', undefined, 'The platform could not hand the event to the runtime');
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
    this.server.keepAliveTimeout = 0;
    opts.watchConnections?.(this.server);
  }

  get id(): string {
    return this.opts.id;
  }

  get target(): EnvironmentTarget {
    return this.opts.target;
  }

  get logStreamName(): string {
    return this.opts.logStreamName;
  }

  /** The id of the process Versa started (in a sandbox, bubblewrap's), once it has been spawned. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The runtime's own process id on the host: in a sandbox it is bubblewrap's grandchild. */
  get runtimePid(): number | undefined {
    const pid = this.child?.pid;
    if (pid === undefined || !this.confinement?.sandboxed) return pid;
    return processTree(pid)[2];
  }

  /** Opens the Runtime API endpoint and starts the runtime process. */
  static async start(opts: EnvironmentOptions): Promise<ExecutionEnvironment> {
    const env = new ExecutionEnvironment(opts);
    const { spec } = opts.target;
    env.confinement = await opts.isolation.confine(
      opts.id,
      { runtime: spec.runtime, memoryMb: spec.memorySize, tmpMb: spec.ephemeralStorageSize },
      opts.codeDir,
    );
    try {
      await new Promise<void>((resolve, reject) => {
        env.server.once('error', reject);
        env.server.listen(0, '127.0.0.1', () => resolve());
      });
    } catch (err) {
      await env.confinement.release();
      throw err;
    }
    env.spawnRuntime(env.confinement);
    return env;
  }

  /** An environment whose runtime could not be started: every invocation answers `why` (Runtime.InvalidEntrypoint). */
  private notStarted(confinement: Confinement, why: string): void {
    this.entrypointError = why;
    this.markExited();
    void confinement.release();
  }

  private spawnRuntime(confinement: Confinement): void {
    const { target, baseEnv } = this.opts;
    const port = (this.server.address() as AddressInfo).port;
    const launch = launcherFor(
      target.spec.runtime,
      confinement.paths,
      confinement.pythonExecutable,
      target.spec.memorySize,
      !confinement.limitsMemory,
    );
    // Versa's own bootstraps (Node and Python) speak frames over an inherited pipe; `provided.*` runs the
    // function's own bootstrap, which speaks HTTP.
    const framed = speaksFrames(target.spec.runtime);
    // The runtime's own variables, unless the function sets the same ones (then its values stay, and stay visible).
    const runtimeOnly = Object.entries(launch.runtimeOnlyEnv).filter(([name]) => !(name in (target.spec.environment ?? {})));
    const reserved: Record<string, string> = {
      ...baseEnv,
      ...launch.env,
      ...Object.fromEntries(runtimeOnly),
      ...(runtimeOnly.length > 0 ? { [RUNTIME_ONLY_VARIABLE]: runtimeOnly.map(([name]) => name).join(',') } : {}),
      AWS_LAMBDA_FUNCTION_NAME: target.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: target.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(target.spec.memorySize),
      AWS_EXECUTION_ENV: `AWS_Lambda_${target.spec.runtime}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}${this.apiPrefix.toString().slice(0, -1)}`,
      ...(framed ? { [FRAMES_FD_VARIABLE]: String(FRAMES_FD) } : {}),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${target.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: this.opts.logStreamName,
      _HANDLER: target.spec.handler,
      LAMBDA_TASK_ROOT: confinement.paths.taskRoot,
      LAMBDA_RUNTIME_DIR: launch.runtimeDir,
    };
    // User variables first: the reserved ones cannot be overridden.
    const env = confinement.adjustEnv({ ...target.spec.environment, ...reserved });
    // Inside the sandbox bwrap would start and then fail to find it: answer as AWS does, without starting.
    if (confinement.missingBootstrap()) return this.notStarted(confinement, `Couldn't find valid bootstrap(s): [${launch.command}]`);
    // The runtime (or the sandbox) leads its own process group, so stopping the environment ends everything
    // the function started too (killGroup); the sandbox's PID namespace and the cgroup catch what left the group.
    let child: ChildProcess;
    try {
      child = confinement.spawn(launch, env, framed);
    } catch (err) {
      if (!(err instanceof UnsafeEnvironmentError)) throw err;
      return this.notStarted(confinement, `Runtime failed to start: ${err.message}`);
    }
    this.child = child;
    if (framed && child.stdio[FRAMES_FD]) {
      const socket = child.stdio[FRAMES_FD] as Socket;
      // A runtime that is gone is seen through the process's exit; a write to it just fails.
      socket.on('error', () => undefined);
      // The limit leaves room for a report's request id; its payload is held to MAX_RESPONSE_BYTES in onFrame.
      this.frames = new FrameChannel(
        socket,
        MAX_RESPONSE_BYTES + 2 + 0xffff,
        (type, body, tooLarge) => this.onFrame(type, body, tooLarge),
        { allows: (type, length) => frameAllowed(this.channel, type, length), onViolation: (type) => this.onFrameViolation(type) },
      );
    }
    child.stdout!.on('data', (chunk: Buffer) => this.onOutput(chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.onOutput(chunk));
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.opts.logger.warn('runtime process failed to start', { env: this.id, err });
      // AWS's answer when there is nothing it can run: a missing or unrunnable `bootstrap`, above all.
      const missing = err.code === 'ENOENT' || err.code === 'EACCES';
      this.failCurrent(
        'Runtime.InvalidEntrypoint',
        undefined,
        missing ? `Couldn't find valid bootstrap(s): [${launch.command}]` : `Runtime failed to start: ${err.message}`,
      );
      this.shutDown();
      void confinement.release().finally(() => this.markExited());
    });
    child.on('exit', () => {
      // Processes the runtime left behind would hold its output pipes open and so delay 'close'.
      this.killGroup();
      void confinement.release().finally(() => this.markExited());
    });
    // 'close' rather than 'exit': it comes after the last output has been read.
    child.on('close', (code, signal) => {
      const signalled = signal ?? signalName(confinement.signalFromStatus(code));
      this.onExit(
        signalled
          ? `Runtime exited with error: signal: ${signalled === 'SIGKILL' ? 'killed' : signalled}`
          : code
            ? `Runtime exited with error: exit status ${code}`
            : 'Runtime exited without providing a reason',
      );
    });
  }

  /**
   * Runs one invocation. Function failures, timeouts and crashes resolve as an error outcome with the AWS
   * error payload; the promise rejects only with RuntimeGoneError.
   */
  invoke(request: InvocationRequest): Promise<InvocationOutcome> {
    if (this.state !== 'idle' && this.state !== 'starting') throw new Error(`environment ${this.id} is ${this.state}`);
    this.confinement?.thaw();
    const cold = this.state === 'starting';
    this.state = 'busy';
    this.invocations++;
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const current: Current = {
        request,
        delivered: false,
        finished: false,
        startedAt,
        log: request.tailLog ? new LogTail(TAIL_BYTES) : undefined,
        cold,
        armTimer: (ms) => {
          clearTimeout(timer);
          timer = setTimeout(() => this.onTimeout(), ms);
        },
        cancelTimer: () => clearTimeout(timer),
        finish: (outcome) => {
          if (this.current !== current || current.finished) return;
          current.finished = true;
          current.cancelTimer();
          // Let output the process wrote before it replied reach us before the log is sealed.
          setImmediate(() => {
            this.flushPartialLine();
            this.reportDropped();
            this.current = undefined;
            const durationMs = performance.now() - (current.delivered ? current.startedAt : startedAt);
            const report = this.reportLines(current, durationMs);
            for (const line of report) this.opts.onLogLine(line);
            for (const line of report) current.log?.push(line);
            if (this.state === 'busy') this.state = 'idle';
            this.lastUsed = Date.now();
            resolve({
              ...outcome,
              durationMs,
              initDurationMs: cold ? this.initDurationMs : undefined,
              logLines: current.log?.lines() ?? [],
            });
          });
        },
        abandon: () => {
          if (this.current !== current || current.finished) return;
          current.finished = true;
          current.cancelTimer();
          this.current = undefined;
          reject(new RuntimeGoneError(`the runtime of environment ${this.id} ended before it took the event`));
        },
      };
      this.current = current;
      if (this.initError) {
        this.failCurrent('Runtime.Unknown', this.initError);
        return;
      }
      if (this.entrypointError) {
        this.failCurrent('Runtime.InvalidEntrypoint', undefined, this.entrypointError);
        this.shutDown();
        return;
      }
      this.deliver();
      // Until the runtime takes the event this bounds its start-up; deliver() arms it for the handler.
      if (!current.delivered) current.armTimer(request.timeoutSeconds * 1000 + (cold ? INIT_TIMEOUT_MS : 0));
    });
  }

  private deliver(): void {
    const current = this.current;
    // The frame channel first: on it waits Versa's own runtime; an HTTP poll in such an environment is
    // the function's code, which gets the event only when the runtime is not waiting.
    const frames = this.channel.phase === 'waiting' ? this.frames : undefined;
    const res = frames ? undefined : this.waitingNext;
    if (!current || current.delivered || (!frames && !res)) return;
    if (frames) this.channel = { phase: 'running', requestId: current.request.requestId };
    else this.waitingNext = undefined;
    current.delivered = true;
    current.startedAt = performance.now();
    // The output budget is per invocation: what was dropped before this one is reported, then it restarts.
    this.reportDropped();
    this.loggedBytes = 0;
    const { request } = current;
    // The function's Timeout runs from here, as on AWS: time spent initialising is not counted against it.
    current.armTimer(request.timeoutSeconds * 1000);
    const start = `START RequestId: ${request.requestId} Version: ${this.target.version}`;
    this.opts.onLogLine(start);
    current.log?.push(start);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': request.requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + request.timeoutSeconds * 1000),
      'lambda-runtime-invoked-function-arn': request.invokedArn,
      'lambda-runtime-trace-id': request.traceId,
    };
    if (request.clientContext) headers['lambda-runtime-client-context'] = request.clientContext;
    if (frames) {
      frames.invoke(headers, request.payload);
      return;
    }
    headers['content-length'] = String(request.payload.byteLength);
    res!.writeHead(200, headers).end(request.payload);
  }

  /**
   * Says once per environment what its runtime did wrong: the function's own code can do it in a loop
   * (its frame channel and Runtime API are open to it), and the server's log is the operator's.
   */
  private warnOnce(message: string, fields: Record<string, unknown> = {}): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.opts.logger.warn(message, { env: this.id, function: this.target.functionName, version: this.target.version, ...fields });
  }

  /**
   * A frame from the runtime (frames.ts), one its phase allows (frameAllowed): the same lifecycle as the
   * Runtime API's requests.
   */
  private onFrame(type: number, body: Buffer, tooLarge: boolean): void {
    if (this.state === 'stopped') return;
    switch (type) {
      case FrameType.READY:
        this.markInitialised();
        this.channel = { phase: 'waiting' };
        this.deliver();
        return;
      case FrameType.RESPONSE:
      case FrameType.ERROR: {
        const { requestId, payload } = splitReport(body);
        const owed = this.channel.phase === 'running' ? this.channel.requestId : undefined;
        if (requestId !== owed) return this.onFrameViolation(type, 'a report for another invocation than the one it was sent');
        // Having reported, the runtime waits for its next event, whatever became of the report (the
        // invocation may have ended otherwise: the function's code can answer it over HTTP).
        this.channel = { phase: 'waiting' };
        const kind = type === FrameType.RESPONSE ? 'response' : 'error';
        this.onReport(kind, requestId, payload, tooLarge || payload.length > MAX_RESPONSE_BYTES);
        return;
      }
      case FrameType.INIT_ERROR:
        this.onInitError(body);
        return;
    }
  }

  /**
   * The runtime sent a frame its phase does not allow: a second READY, a report it does not owe, a frame
   * while it waits, an unknown type. Versa's runtimes never do; the function's code can (the descriptor
   * is in its process), and a runtime that may not be parsed forever is ended, as one that left would be.
   */
  private onFrameViolation(type: number, what = `a frame of type ${frameName(type)} while ${this.channel.phase}`): void {
    if (this.state === 'stopped') return;
    this.warnOnce('a runtime broke the frame protocol; its environment is stopped', { frame: what });
    this.failCurrent(
      'Runtime.Unknown',
      undefined,
      `The runtime sent ${what} on its frame channel, and its environment was stopped. A function's code must not write to the runtime's descriptor ${FRAMES_FD}`,
    );
    this.shutDown();
  }

  /**
   * A runtime's report of an invocation's outcome, from either transport: accepted, or refused because it
   * is not the current invocation's or its payload is too large (which ends the invocation with an error).
   */
  private onReport(
    kind: 'response' | 'error',
    requestId: string,
    body: Buffer,
    tooLarge: boolean,
  ): 'accepted' | 'invalid-id' | 'too-large' {
    const current = this.current;
    if (!current || current.request.requestId !== requestId) return 'invalid-id';
    if (tooLarge) {
      current.finish({
        status: 'error',
        payload: Buffer.from(
          JSON.stringify({
            errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
            errorType: 'Function.ResponseSizeTooLarge',
          }),
        ),
      });
      return 'too-large';
    }
    current.finish(kind === 'response' ? { status: 'ok', payload: body } : { status: 'error', payload: body });
    return 'accepted';
  }

  /** The runtime could not initialise: this invocation and any later one fail with its error. */
  private onInitError(body: Buffer): void {
    this.initError = body;
    this.failCurrent('Runtime.Unknown', body);
    this.shutDown();
  }

  private onRuntimeApi(req: http.IncomingMessage, res: http.ServerResponse): void {
    const raw = req.url ?? '';
    // Checked before anything else, so that a request without the secret changes nothing for anyone.
    const prefix = Buffer.from(raw.slice(0, this.apiPrefix.length));
    if (prefix.length !== this.apiPrefix.length || !timingSafeEqual(prefix, this.apiPrefix)) {
      drain(req, () => json(res, 403, { errorType: 'AccessDenied', errorMessage: 'This is not your Runtime API endpoint.' }));
      return;
    }
    const url = raw.slice(this.apiPrefix.length - 1);
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      this.markInitialised();
      const superseded = this.waitingNext;
      this.waitingNext = res;
      // A poll whose connection goes before it is answered is forgotten: an event delivered into it would
      // be lost, and the runtime's next poll (on a new connection) is no conflict with it.
      res.once('close', () => {
        if (this.waitingNext === res) this.waitingNext = undefined;
      });
      if (superseded && !superseded.socket?.destroyed) {
        // Two live polls: the newest is the one the runtime waits on. The runtimes Versa ships poll again
        // on 409; this is the platform's business, so it is said here rather than in the function's log.
        this.warnOnce(
          'a runtime polled next while an earlier poll was still open; the earlier one is answered 409 (and any more, unlogged)',
        );
        superseded.writeHead(409).end();
      }
      this.deliver();
      return;
    }
    const m = /^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|init\/(error))$/.exec(url);
    if (req.method !== 'POST' || !m) {
      drain(req, () => json(res, 404, { errorType: 'InvalidRequest', errorMessage: `No route for ${req.method ?? ''} ${url}` }));
      return;
    }
    const [, requestId, kind, initError] = m;
    // A body is up to 6 MB of the server's memory, and the function holds the secret: only a report that can
    // be the one awaited is read, one at a time; any other is answered at once, its body unread.
    const current = this.current;
    const awaited = initError !== undefined || (current?.delivered === true && current.request.requestId === requestId);
    if (!awaited || this.readingReport) {
      res.shouldKeepAlive = false;
      json(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      return;
    }
    this.readingReport = true;
    req.once('close', () => (this.readingReport = false));
    readLimited(req, MAX_RESPONSE_BYTES, (body, tooLarge) => {
      this.readingReport = false;
      if (initError) {
        json(res, 202, { status: 'OK' });
        this.onInitError(body);
        return;
      }
      const outcome = this.onReport(kind as 'response' | 'error', requestId!, body, tooLarge);
      if (outcome === 'invalid-id') json(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      else if (outcome === 'too-large') {
        json(res, 413, { errorType: 'RequestEntityTooLarge', errorMessage: 'Response payload size exceeded maximum allowed payload size' });
      } else json(res, 202, { status: 'OK' });
    });
  }

  private markInitialised(): void {
    this.initDurationMs ??= performance.now() - this.spawnedAt;
    if (this.state === 'starting') this.state = 'idle';
  }

  private onTimeout(): void {
    const current = this.current;
    if (!current) return;
    const seconds = current.request.timeoutSeconds.toFixed(2);
    const message = `${new Date().toISOString()} ${current.request.requestId} Task timed out after ${seconds} seconds`;
    this.opts.onLogLine(message);
    current.log?.push(message);
    current.finish({
      status: 'error',
      payload: Buffer.from(
        JSON.stringify({
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${current.request.requestId} Error: Task timed out after ${seconds} seconds`,
        }),
      ),
    });
    // The runtime may still be running the handler: this environment cannot be trusted again.
    this.shutDown();
  }

  private onExit(reason: string): void {
    const current = this.current;
    if (!current && this.state !== 'stopped') {
      // Nothing was running and Versa did not stop it: the runtime itself left. Said in the platform's log,
      // since no invocation is there to report it.
      this.opts.logger.warn('a runtime ended between invocations', {
        env: this.id,
        function: this.target.functionName,
        version: this.target.version,
        reason: reason.endsWith(`exit status ${RUNTIME_API_FAILED}`) ? `${reason} (the Runtime API failed it)` : reason,
      });
    }
    // A warm runtime that ended between invocations (one that exits after each response, say) never saw
    // this event: nothing ran, so it is handed back to run on a new environment rather than failed.
    if (current && !current.delivered && !current.cold) current.abandon();
    else if (current) this.failCurrent('Runtime.ExitError', undefined, reason);
    this.shutDown();
  }

  private failCurrent(errorType: string, body: Buffer | undefined, reason?: string): void {
    const current = this.current;
    if (!current) return;
    const payload =
      body ??
      Buffer.from(
        JSON.stringify({ errorType, errorMessage: `RequestId: ${current.request.requestId} Error: ${reason ?? 'Runtime failed'}` }),
      );
    current.finish({ status: 'error', payload });
  }

  /**
   * Splits the runtime's output into log lines without ever holding more than one line (at most
   * MAX_LOG_LINE_BYTES) of it: a longer line is cut into pieces of that size, and once the invocation's
   * budget is spent the output is only counted.
   */
  private onOutput(chunk: Buffer): void {
    if (this.silenced) {
      // The platform stopped this environment: what its runtime still writes is not the function's. A
      // sandboxed runtime outlives the kill for a moment (it is in a session of its own, ended by
      // bubblewrap's death or the cgroup), long enough to see its connection cut and print a traceback.
      this.opts.logger.debug('output of a stopped environment left out of the function log', { env: this.id, bytes: chunk.length });
      return;
    }
    let start = 0;
    while (start < chunk.length) {
      if (this.loggedBytes >= MAX_LOG_BYTES_PER_INVOCATION) {
        this.droppedBytes += this.partialBytes + chunk.length - start;
        this.partial = [];
        this.partialBytes = 0;
        return;
      }
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      this.partial.push(chunk.subarray(start, end));
      this.partialBytes += end - start;
      while (this.partialBytes >= MAX_LOG_LINE_BYTES) {
        const all = Buffer.concat(this.partial, this.partialBytes);
        const cut = utf8Boundary(all, MAX_LOG_LINE_BYTES);
        this.emitLine(all.subarray(0, cut));
        this.partial = [all.subarray(cut)];
        this.partialBytes = all.length - cut;
      }
      if (newline >= 0) this.flushPartialLine(true);
      start = end + 1;
    }
  }

  /** Emits the output since the last newline as a line (an empty one only when a newline ended it). */
  private flushPartialLine(atNewline = false): void {
    if (this.partialBytes > 0 || atNewline) this.emitLine(Buffer.concat(this.partial, this.partialBytes));
    this.partial = [];
    this.partialBytes = 0;
  }

  private emitLine(bytes: Buffer): void {
    if (this.loggedBytes + bytes.length > MAX_LOG_BYTES_PER_INVOCATION) {
      this.droppedBytes += bytes.length;
      this.loggedBytes = MAX_LOG_BYTES_PER_INVOCATION;
      return;
    }
    this.loggedBytes += bytes.length;
    const line = bytes.toString('utf8');
    this.opts.onLogLine(line);
    this.current?.log?.push(line);
  }

  /** One marker line for output dropped over the budget, so a reader knows the log is not whole. */
  private reportDropped(): void {
    if (this.droppedBytes === 0) return;
    const line = `[Versa] ${this.droppedBytes} bytes of function output were dropped: an invocation logs at most ${MAX_LOG_BYTES_PER_INVOCATION} bytes.`;
    this.droppedBytes = 0;
    this.opts.onLogLine(line);
    this.current?.log?.push(line);
  }

  private reportLines(current: Current, durationMs: number): string[] {
    const id = current.request.requestId;
    const init = current.cold && this.initDurationMs !== undefined ? `\tInit Duration: ${this.initDurationMs.toFixed(2)} ms` : '';
    return [
      `END RequestId: ${id}`,
      `REPORT RequestId: ${id}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${this.target.spec.memorySize} MB\tMax Memory Used: ${this.sampleMemoryMb()} MB${init}\t`,
    ];
  }

  /**
   * Peak memory of the environment, read at most once a second: the cgroup's high-water mark, or else
   * the largest peak resident size among the runtime's processes (inside a sandbox, the runtime is a
   * grandchild of the process Versa started).
   */
  private sampleMemoryMb(): number {
    const pid = this.child?.pid;
    const now = Date.now();
    if (pid && now - this.memorySampledAt > 1000) {
      this.memorySampledAt = now;
      const bytes = this.confinement?.peakBytes() ?? Math.max(0, ...processTree(pid).map((p) => statusKb(p, 'VmHWM') ?? 0)) * 1024;
      if (bytes > 0) this.maxMemoryMb = Math.ceil(bytes / 1024 / 1024);
    }
    return this.maxMemoryMb;
  }

  /** The runtime process's resident memory in bytes right now (for benchmarks and the console). */
  residentBytes(): number | undefined {
    const pid = this.runtimePid;
    const kb = pid === undefined ? undefined : statusKb(pid, 'VmRSS');
    return kb === undefined ? undefined : kb * 1024;
  }

  /**
   * Freezes an idle environment, as AWS does between invocations: its runtime and everything the function
   * started (processes, threads, timers) stop where they are until invoke() thaws them. Nothing while it
   * starts or runs an invocation, or where there is no freezer cgroup.
   */
  freeze(): void {
    if (this.state === 'idle') this.confinement?.freeze();
  }

  /** SIGKILLs the runtime's process group: the runtime and whatever it started that is still running. */
  private killGroup(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // The group is already empty.
    }
  }

  /**
   * Ends the runtime process (and its process group) and closes the endpoint, for the platform's own
   * reasons (retired, evicted, idle, shutting down): whatever the dying runtime still writes is left out
   * of the function's log. Safe to call more than once.
   */
  stop(): void {
    this.silenced = true;
    this.shutDown();
  }

  /** Ends the runtime and closes the endpoint; its last output (an init error's, say) is still logged. */
  private shutDown(): void {
    if (this.state === 'stopped') return;
    this.reportDropped();
    this.state = 'stopped';
    // The runtime is killed before its poll is cut off, so that it has as little time as possible to see
    // the Runtime API go (in a sandbox it outlives the kill for a moment: see onOutput).
    this.killGroup();
    this.confinement?.killAll();
    this.waitingNext?.destroy();
    this.waitingNext = undefined;
    this.frames?.destroy();
    this.server.closeAllConnections();
    this.server.close();
    this.opts.onStopped(this);
  }
}

/**
 * The frame channel's phases (what the runtime may send in each):
 *   loading → waiting (READY, once) | stopped (INIT_ERROR)
 *   waiting → running (the server sent an INVOKE; the runtime may send nothing meanwhile)
 *   running → waiting (the RESPONSE or ERROR for that request id, once)
 */
type ChannelPhase = { phase: 'loading' } | { phase: 'waiting' } | { phase: 'running'; requestId: string };

/** Whether the runtime may send a frame of `type` (with a body of `length` bytes) in this phase. */
function frameAllowed(channel: ChannelPhase, type: number, length: number): boolean {
  switch (channel.phase) {
    case 'loading':
      return (type === FrameType.READY && length === 0) || type === FrameType.INIT_ERROR;
    case 'waiting':
      return false;
    case 'running':
      return type === FrameType.RESPONSE || type === FrameType.ERROR;
  }
}

function frameName(type: number): string {
  return Object.entries(FrameType).find(([, t]) => t === type)?.[0] ?? String(type);
}

function signalName(signal: number | undefined): string | undefined {
  if (signal === undefined) return undefined;
  return Object.entries(osConstants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`;
}

/** `pid` and its descendants, through /proc's children lists (empty where there is no /proc). */
function processTree(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0 && out.length < 64) {
    const p = queue.shift()!;
    let children: string;
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8');
    } catch {
      continue;
    }
    out.push(p);
    for (const c of children.split(' ').filter(Boolean)) queue.push(Number(c));
  }
  return out;
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The last lines of a log, enough to make up its last `bytes` bytes (the `Tail` answer). */
class LogTail {
  private readonly kept: string[] = [];
  private size = 0;

  constructor(private readonly bytes: number) {}

  push(line: string): void {
    this.kept.push(line);
    this.size += Buffer.byteLength(line) + 1;
    while (this.kept.length > 1 && this.size - Buffer.byteLength(this.kept[0]!) - 1 >= this.bytes) {
      this.size -= Buffer.byteLength(this.kept.shift()!) + 1;
    }
  }

  lines(): readonly string[] {
    return this.kept;
  }
}

/** The largest cut at or below `max` that does not split a UTF-8 character. */
function utf8Boundary(bytes: Buffer, max: number): number {
  let cut = max;
  while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--;
  return cut > 0 ? cut : max;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

function drain(req: http.IncomingMessage, then: () => void): void {
  req.resume();
  req.on('end', then);
}

/** Reads a request body, keeping at most `limit` bytes; reports whether it was larger. */
function readLimited(req: http.IncomingMessage, limit: number, then: (body: Buffer, tooLarge: boolean) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  req.on('end', () => then(Buffer.concat(chunks), size > limit));
}
