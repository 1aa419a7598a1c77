import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ScaledClock, continueClock, type Clock, type ClockAnchor } from '../core/clock.js';
import { PlatformError } from '../core/errors.js';
import { alnumId, uuid } from '../core/ids.js';
import { createLogger, type Logger } from '../core/logger.js';
import { systemRandom, type Random } from '../core/random.js';
import { apiGatewayApi } from '../api/aws/apigateway/operations.js';
import { cloudWatchApi } from '../api/aws/cloudwatch/operations.js';
import { codeDeployApi } from '../api/aws/codedeploy/operations.js';
import { lambdaApi } from '../api/aws/lambda/operations.js';
import { logsApi } from '../api/aws/logs/operations.js';
import { ResourceTags } from '../api/aws/tagging.js';
import { s3Address } from '../api/aws/s3/addressing.js';
import { s3Api } from '../api/aws/s3/operations.js';
import { restXmlError } from '../api/aws/protocol/rest-xml.js';
import { ssmApi } from '../api/aws/ssm/operations.js';
import { stsApi } from '../api/aws/sts/operations.js';
import { credentialScopeOf, type ApiHandler, type ApiRequest, type Peer } from '../api/aws/protocol/http.js';
import { jsonResponse, restJsonError } from '../api/aws/protocol/rest-json.js';
import { MAX_FAILURES, WINDOW_MS } from '../api/access/failures.js';
import { AccessGate } from '../api/access/gate.js';
import { functionCaller } from '../api/access/function-scope.js';
import { Keyring } from '../api/access/keyring.js';
import { CODE_PATH, CodeLinks } from '../api/access/code-links.js';
import { frontDoor, isStageRequest } from '../api/front-door.js';
import { stacksApi } from '../api/versa/stacks.js';
import { cloudFormationApi } from '../api/aws/cloudformation/operations.js';
import type { Options } from '../config/options.js';
import type { Change } from '../console/change-feed.js';
import { consoleEndpoints } from '../console/console-endpoints.js';
import { CodeDeployService } from '../deploy/code-deploy-service.js';
import { DeploymentController } from '../deploy/deployment-controller.js';
import { GatewayDataPlane, MAX_GATEWAY_PAYLOAD_BYTES, payloadTooLarge } from '../gateway/data-plane.js';
import { RestApiService } from '../gateway/rest-api-service.js';
import type { AttemptOutcome } from '../domain/async-event.js';
import type { Observation } from '../domain/deployment.js';
import { AsyncEventQueue, type QueueLimit } from '../invoke/async-queue.js';
import { InvocationService } from '../invoke/invocation-service.js';
import { EventInvokeConfigService } from '../lambda/event-invoke-configs.js';
import { FunctionService } from '../lambda/function-service.js';
import { ReservedConcurrencyService } from '../lambda/reserved-concurrency.js';
import { FunctionRegistry } from '../lambda/registry.js';
import { CodeCache } from '../runtime/code-cache.js';
import { EnvironmentManager } from '../runtime/environment-manager.js';
import { Isolation, type IsolationStatus } from '../runtime/isolation.js';
import { resolvePython } from '../runtime/python.js';
import { SANDBOX_UID } from '../runtime/sandbox.js';
import { BlobStore } from '../s3/blob-store.js';
import { lambdaCodeReader } from '../s3/lambda-code.js';
import { MAX_BUCKET_BODY_BYTES, MAX_PUT_BYTES } from '../s3/limits.js';
import { S3Service } from '../s3/s3-service.js';
import { ParameterService } from '../ssm/parameter-service.js';
import { StackService } from '../stacks/stack-service.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { fencedStore } from '../store/fenced.js';
import type { Store } from '../store/store.js';
import { BodyCollector } from './body.js';
import { BodyBudget, sourceOf, type BodyHolder } from './body-budget.js';
import { ClusterNode } from './cluster-node.js';
import { ConnectionShedder, openFilesLimit } from './connections.js';
import { peerOwner } from './peer-owner.js';
import { GatewayMetrics } from '../telemetry/gateway-metrics.js';
import { LambdaMetrics } from '../telemetry/lambda-metrics.js';
import { LogSink } from '../telemetry/log-sink.js';
import { AlarmService } from '../telemetry/alarms.js';
import { Metrics } from '../telemetry/metrics.js';
import { renderPrometheus } from '../telemetry/prometheus.js';

/**
 * Largest request body read: just above CreateFunction's 70,167,211 bytes on AWS (a 50 MB zip in base64
 * JSON), so that each operation's own limit answers with AWS's exact words.
 */
const MAX_BODY_BYTES = 72 * 1024 * 1024;
/** Request bytes held in memory at once across all requests; beyond it new bodies are refused until some finish. */
const MAX_BUFFERED_BYTES = 4 * MAX_BODY_BYTES;
/** Of that, what guests (BodyBudget) may hold together: half; and each guest alone: one whole body. */
const MAX_GUEST_BUFFERED_BYTES = MAX_BUFFERED_BYTES / 2;
/**
 * Of the unsigned callers' share, what the bodies sent to public stages from one source (an address; an
 * IPv6 /64) may hold together: two whole stage bodies. A caller that keeps its uploads coming never
 * stalls, and without it two of them held the whole share and every other caller of every stage got 429.
 */
const MAX_SOURCE_STAGE_BYTES = 2 * MAX_GATEWAY_PAYLOAD_BYTES;
/** How long a connection refused mid-body is read (and what comes dropped) after its answer, before it is closed. */
const LINGER_MS = 2000;

/**
 * Closes a refused request's connection without a reset. Node closes a `connection: close` answer's
 * socket once the answer is written (destroySoon), and closed while the client still sends its body, a
 * socket is reset, which discards the answer before most clients have read it (fetch failed 18 times in
 * 30 on a stage's 10 MiB + 1). So the answer is followed by a FIN only; what is left of the body is read
 * and dropped, and the socket is closed once the body has come, or LINGER_MS after the answer.
 */
function lingerAfter(req: http.IncomingMessage): void {
  const socket = req.socket;
  req.resume();
  socket.destroySoon = () => {
    socket.end();
    // Closed once the answer is written and the body has come; LINGER_MS after the answer at the latest.
    let written = socket.writableFinished;
    let read = req.complete;
    const close = () => {
      if (written && read) socket.destroy();
    };
    if (!written)
      socket.once('finish', () => {
        written = true;
        close();
      });
    if (!read) {
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
      req.once('end', () => {
        read = true;
        close();
      });
    }
    close();
  };
}

export interface RunningServer {
  /** Where clients on this machine reach the server. */
  url: string;
  /** This node's id among the nodes sharing the store. */
  node: string;
  /** The address and port the listener is bound to, as it is (`0.0.0.0:4566` when on every interface). */
  listening: string;
  port: number;
  options: Options;
  /** What isolates functions here (the sandbox, or why there is none, and the limits). */
  isolation: IsolationStatus;
  /** The services, for in-process use by tests and tools. */
  services: {
    functions: FunctionService;
    invocations: InvocationService;
    queue: AsyncEventQueue;
    eventInvokeConfigs: EventInvokeConfigService;
    environments: EnvironmentManager;
    restApis: RestApiService;
    gateway: GatewayDataPlane;
    metrics: Metrics;
    alarms: AlarmService;
    deployments: DeploymentController;
    codeDeploy: CodeDeployService;
    stacks: StackService;
    s3: S3Service;
    logs: LogSink;
    store: Store;
    clock: Clock;
  };
  close(): Promise<void>;
}

export interface StartOverrides {
  /** A platform clock to use instead of the scaled real one (tests pass a FakeClock). */
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** What one function's asynchronous queue may hold (tests make it small enough to fill). */
  asyncQueueLimit?: QueueLimit;
  /** How long a GetMetricData request reads before it answers a page (tests make it 0 to page every query). */
  metricQueryBudgetMs?: number;
}

/**
 * Makes the data directory, or closes an existing one of the server's own, to everyone but the server's
 * user: it holds every function's variables (`versa.db`), code and objects. Runtimes see only their own
 * code, bound into their sandbox.
 */
function privateDataDir(dir: string, logger: Logger): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = statSync(dir);
  if ((stat.mode & 0o077) === 0 || stat.uid !== process.getuid?.()) return;
  chmodSync(dir, stat.mode & 0o700);
  logger.info('the data directory was open to other users; it is now its owner’s alone', { dataDir: dir });
}

/** Builds the concrete clock, store and services, and opens the listener. */
export async function startServer(options: Options, overrides: StartOverrides = {}): Promise<RunningServer> {
  const logger = overrides.logger ?? createLogger(options.logLevel);
  const random = overrides.random ?? systemRandom;
  privateDataDir(options.dataDir, logger);
  // First, so that `--sandbox bwrap` on a machine without bubblewrap refuses before anything is opened.
  // The Python interpreter is not waited for: only environments need it.
  const isolation = await Isolation.create({
    mode: options.sandbox,
    supportDir: path.join(options.dataDir, 'sandbox'),
    python: resolvePython(options.pythonCommand),
    logger,
  });
  const store = await openStore(options);
  // Set once the listener is bound (port 0 picks one); no environment starts before that.
  let url = '';
  const node = new ClusterNode(store, { id: nodeIdentity(options.dataDir), url: () => url, logger });
  // What is opened before the listener is closed again if starting fails (a PostgreSQL pool would keep the process alive).
  const abandon = async (err: unknown): Promise<never> => {
    await store.close().catch(() => undefined);
    throw err;
  };
  const clock = overrides.clock ?? (await platformClock(store, options.timeScale, node.id).catch(abandon));

  // With a shared store, object bytes are kept in it too, so that any node can serve any object.
  const s3 = new S3Service(store, new BlobStore(path.join(options.dataDir, 's3'), options.store ? store.s3 : undefined), clock, logger);
  await s3.start();
  const registry = new FunctionRegistry(store);
  const functions = new FunctionService(store, registry, clock, lambdaCodeReader(s3));
  const logs = new LogSink({
    store,
    clock,
    logger,
    retentionDays: options.retentionDays,
    maxGroupBytes: options.logGroupLimitMb * 1024 * 1024,
    leadership: node,
  });
  logs.start();
  const codeCache = new CodeCache(path.join(options.dataDir, 'code'), (sha) => store.code.get(sha));

  const keyring = new Keyring(options.credentials, Date.now, store.sessions);
  const codeLinks = new CodeLinks(
    options.credentials.map((c) => c.secretAccessKey),
    () => Date.now(),
  );
  const connections = new ConnectionShedder(logger);
  const environments = new EnvironmentManager({
    maxEnvironments: options.maxEnvironments,
    idleTimeoutMs: options.idleTimeoutSeconds * 1000,
    baseEnv: {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      NODE_PATH: path.join(options.dataDir, 'code', 'node_modules'),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(process.env.HOME && { HOME: process.env.HOME }),
    },
    endpointUrl: () => url,
    issueCredentials: (functionName, role) => keyring.issue(`function:${functionName}`, functionCaller(functionName, role)),
    isolation,
    codeCache,
    logs,
    clock,
    logger,
    watchConnections: (runtimeApi) => connections.watch(runtimeApi),
  });
  // Reserved concurrency: changes made here are applied before they are answered; the rest (a deleted
  // function, another node's change) when the function is reloaded, and all of it at start and on a resync.
  const concurrency = new ReservedConcurrencyService(store, registry, options.maxEnvironments, (name, reserved) =>
    environments.setReservation(name, reserved),
  );
  const reloadReservations = async () => environments.setReservations(await concurrency.all());
  await reloadReservations().catch(abandon);
  // Environments whose code and configuration no function version serves any more are stopped.
  registry.onChange((name) => {
    void Promise.resolve(registry.get(name)).then(
      (snapshot) => {
        const live = new Set<string>(snapshot ? [snapshot.latestDigest, ...[...snapshot.versions.values()].map((v) => v.digest)] : []);
        environments.retireStale(name, live);
        environments.setReservation(name, snapshot?.record.reservedConcurrency);
      },
      (err: unknown) => logger.warn('could not reload function after a change', { function: name, err }),
    );
  });
  const DAY_MS = 86_400_000;
  const metrics = new Metrics(store, clock, logger, {
    flushIntervalMs: 1000,
    retentionMs: options.retentionDays * DAY_MS,
    memoryWindowMs: Math.min(options.retentionDays * DAY_MS, 3 * 3_600_000),
    node: node.id,
    leadership: node,
  });
  metrics.start();
  const alarms = new AlarmService(store, metrics, clock, logger, (tx) => node.fence(tx));
  const lambdaMetrics = new LambdaMetrics(metrics, options.metrics === 'on');
  const gatewayMetrics = new GatewayMetrics(metrics, options.metrics === 'on');
  // Asynchronous attempts take at most half the environments, so that synchronous invokes keep room; and
  // one function's at most half of those, so that its backlog never holds another function's events back.
  const asyncSlots = Math.max(1, Math.floor(options.maxEnvironments / 2));
  const queue: AsyncEventQueue = new AsyncEventQueue({
    store,
    run: (event): Promise<AttemptOutcome> => invocations.runEvent(event),
    clock,
    metrics: lambdaMetrics,
    logger,
    maxInFlight: asyncSlots,
    maxPerFunction: Math.max(1, Math.ceil(asyncSlots / 2)),
    leadership: node,
    ...(overrides.asyncQueueLimit && { limit: overrides.asyncQueueLimit }),
  });
  const invocations = new InvocationService(registry, environments, random, lambdaMetrics, logger, queue);
  const eventInvokeConfigs = new EventInvokeConfigService(store, clock);
  // The controller's writes check the leader lease: a deposed leader cannot move an alias or record a step.
  const fenced = fencedStore(store, (tx) => node.fence(tx));
  const fencedFunctions = new FunctionService(fenced, registry, clock, lambdaCodeReader(s3));
  const deployments = new DeploymentController(store, fencedFunctions, invocations, alarms, clock, logger, node);
  const codeDeploy = new CodeDeployService(store, deployments, clock);
  const restApis = new RestApiService(store, clock);
  // HTTP integration exchanges under way: a sixteenth of the descriptors, two each (the shedder acts at three quarters).
  const gateway = new GatewayDataPlane(store, invocations, random, clock, logger, Math.max(16, Math.floor(openFilesLimit() / 16)));
  restApis.onChange((id) => gateway.invalidate(id));
  shareChanges(node, registry, restApis, gateway);
  node.onResync(() => {
    reloadReservations().catch((err: unknown) => logger.warn('could not reload reserved concurrency', { err }));
  });
  gateway.onRequest((r) => gatewayMetrics.record(r));
  const parameters = new ParameterService(store, clock);
  const stacks = new StackService(
    store,
    { functions, concurrency, restApis, alarms, codeDeploy, s3, parameters },
    deployments,
    clock,
    logger,
    node,
  );
  leadControllers(node, { deployments, stacks, queue, alarms, logs });
  const stackApi = stacksApi({ stacks, logger });

  const web = consoleEndpoints({
    registry,
    restApis,
    deployments,
    alarms,
    stacks,
    queue,
    clock,
    timeScale: options.timeScale,
    cluster: () => node.status(),
    peers: { broadcast: (change) => node.broadcast('console', change), on: (listener) => node.on('console', (m) => listener(m as Change)) },
    credentialsRequired: keyring.enforcing,
  });
  const versa: ApiHandler = async (req) => {
    if (stackApi.owns(req)) return stackApi.handle(req);
    if (web.owns(req)) return web.handle(req);
    if (req.method === 'GET' && req.path === '/_versa/health') {
      return jsonResponse(200, {
        status: 'ok',
        timeScale: options.timeScale,
        environments: environments.stats(),
        cluster: node.status(),
        sandbox: isolation.status.sandbox,
        sandboxDetail: isolation.status.sandboxDetail,
        limits: isolation.status.limits,
      });
    }
    if (req.method === 'GET' && req.path === '/_versa/metrics') {
      const text = renderPrometheus({
        lambda: lambdaMetrics.counterSnapshot(),
        api: gatewayMetrics.counterSnapshot(),
        environments: environments.stats(),
      });
      return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, body: text };
    }
    const code = CODE_PATH.exec(req.path);
    if (req.method === 'GET' && code) {
      const zip = await functions.getCode(Buffer.from(code[1]!, 'hex').toString('base64'));
      if (zip) return { status: 200, headers: { 'content-type': 'application/zip' }, body: Buffer.from(zip) };
    }
    return restJsonError(new PlatformError('ResourceNotFoundException', `Nothing at ${req.path}.`));
  };
  const tags = new ResourceTags(store);
  const cloudWatch = cloudWatchApi({ metrics, alarms, tags, logger, queryBudgetMs: overrides.metricQueryBudgetMs });
  let unplacedWarnedAt = -Infinity;
  const access = new AccessGate({
    keyring,
    boundHost: options.host,
    allowedHosts: options.allowedHosts,
    corsOrigins: options.corsOrigins,
    metricsToken: options.metricsToken,
    now: () => Date.now(),
    functionAccess: options.functionAccess,
    codeLinks,
    onShutOut: (source) =>
      logger.warn("refusing a source's requests with an operator's key: it sent too many wrong signatures for it", {
        source,
        failures: MAX_FAILURES,
        forSeconds: WINDOW_MS / 1000,
      }),
    // Only a server whose functions run as a user of their own can tell their connections apart.
    // A connection whose owner cannot be told is taken for a function's.
    ...(isolation.runsAsHostUser && {
      fromSandbox: (req: ApiRequest) => {
        if (req.peer === undefined) return false;
        const peer = req.peer;
        const owner = peerOwner(peer);
        const told = (found: number | null) => {
          // Said at most every ten seconds: a function's connection the kernel cannot place is expected, an operator's is not.
          if (found === null && performance.now() - unplacedWarnedAt > 10_000) {
            unplacedWarnedAt = performance.now();
            logger.warn("could not tell whose a loopback connection is: taken for a function's", {
              client: `${peer.address}:${peer.port}`,
            });
          }
          return ownedBySandbox(found);
        };
        return owner instanceof Promise ? owner.then(told) : told(owner);
      },
    }),
  });
  const handle = frontDoor({
    lambda: lambdaApi({
      functions,
      eventInvokeConfigs,
      invocations,
      concurrency,
      tags,
      logger,
      codeLocation: (origin, sha) => codeLinks.location(origin, sha),
      chainOf: (accessKeyId) => environments.chainOf(accessKeyId),
    }),
    apiGateway: apiGatewayApi({ restApis, dataPlane: gateway, logger }),
    byTarget: new Map([
      ['Logs_20140328', logsApi({ logs, tags, logger })],
      ['GraniteServiceVersion20100801', cloudWatch.json],
      ['CodeDeploy_20141006', codeDeployApi({ codeDeploy, tags, logger })],
      ['AmazonSSM', ssmApi({ parameters, logger })],
    ]),
    // Query-protocol services by the service their requests are signed for.
    query: new Map([
      ['monitoring', cloudWatch.query],
      ['cloudformation', cloudFormationApi({ stacks, logger, objects: s3 })],
      ['sts', stsApi({ keyring, logger })],
    ]),
    s3: s3Api({
      s3,
      logger,
      // Bytes an operation reads into memory for a request, on the share its body would have drawn on.
      hold: (req, bytes) => {
        const guest = keyring.guestOf(credentialScopeOf(req.headers.authorization, req.query).accessKeyId);
        return budget.take(guest, bytes) ? () => budget.give(guest, bytes) : undefined;
      },
    }),
    gateway,
    versa,
    access,
  });

  // The handler is in place before the listener opens: no request can arrive to find nothing answering it.
  const server = http.createServer();
  server.keepAliveTimeout = 65_000;
  connections.watch(server);
  const budget = new BodyBudget({
    total: MAX_BUFFERED_BYTES,
    guests: MAX_GUEST_BUFFERED_BYTES,
    perGuest: MAX_BODY_BYTES,
    perSource: MAX_SOURCE_STAGE_BYTES,
  });
  server.on('request', (req, res) => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    // Whether the request goes to a public stage: asked only of what is big, refused or unsigned (an
    // SDK's small Invoke never asks), and then once.
    let toStage: boolean | undefined;
    const stage = () => (toStage ??= isStageRequest(req.headers.host, q >= 0 ? rawUrl.slice(0, q) : rawUrl));
    // A stage's body is refused past API Gateway's payload limit as soon as its length says so or that
    // many bytes have come, in API Gateway's words; not read on up to the 72 MiB any other body may have.
    // Likewise a body sent to an S3 bucket itself (a setting's document) past what any of them needs,
    // asked only of a body past that bound.
    let toBucket: boolean | undefined;
    const bucket = () => (toBucket ??= isS3Request(req) === 'bucket');
    const tooBig = (bytes: number) =>
      bytes > MAX_BODY_BYTES || (bytes > MAX_GATEWAY_PAYLOAD_BYTES && stage()) || (bytes > MAX_BUCKET_BODY_BYTES && bucket());
    const tooLarge = () => new PlatformError('RequestTooLargeException', `Request must be smaller than ${MAX_BODY_BYTES} bytes.`);
    const refuse = (status: number, error: PlatformError) => {
      const s3 = isS3Request(req) !== undefined;
      const out =
        status === 413 && stage()
          ? payloadTooLarge()
          : status === 413 && bucket()
            ? restXmlError(req.method ?? 'GET', 400, 'MaxMessageLengthExceeded', 'Your request was too big.', uuid(), {})
            : s3
              ? s3Refusal(req, status, error)
              : restJsonError(error);
      lingerAfter(req);
      res.writeHead(s3 ? out.status : status, { ...out.headers, connection: 'close' });
      res.end(out.body);
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (tooBig(declared)) {
      refuse(413, tooLarge());
      return;
    }
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    const scope = credentialScopeOf(req.headers.authorization, query);
    // A Host this server does not serve is refused before its body is read (the front door answers it).
    const early = !access.hostAllowed(req);
    // Whose share a body draws on (a request without one holds nothing); undefined for an operator.
    let holder: BodyHolder | undefined;
    const body = new BodyCollector(() => isS3Request(req) === 'object');
    let refused = false;
    let ended = false;
    const release = () => holder && budget.release(holder);
    const giveUp = (status: number, error: PlatformError) => {
      refused = true;
      release();
      body.drop();
      refuse(status, error);
    };
    const read = (guest: string | undefined) => {
      req.on('data', (chunk: Buffer) => {
        if (refused) return;
        holder ??= budget.holder(
          guest,
          (why) =>
            why === 'stalled'
              ? giveUp(
                  408,
                  new PlatformError(
                    'RequestTimeout',
                    'Your socket connection to the server was not read from or written to within the timeout period: its body stalled while others needed the room.',
                  ),
                )
              : giveUp(
                  429,
                  new PlatformError(
                    'TooManyRequestsException',
                    'Versa is receiving too much data from your address at once; retry shortly.',
                  ),
                ),
          // An unsigned caller of a public stage draws on its source's share of the unsigned callers' too.
          guest === '' && stage() ? sourceOf(req.socket.remoteAddress ?? '') : undefined,
        );
        if (tooBig(holder.held + chunk.length)) {
          giveUp(413, tooLarge());
        } else if (!budget.take(holder.guest, chunk.length, holder)) {
          giveUp(429, new PlatformError('TooManyRequestsException', 'Versa is receiving too much data at once; retry shortly.'));
        } else {
          body.add(chunk);
        }
      });
      // A client that goes away mid-body frees its share; a whole body is held until it has been answered.
      req.on('close', () => ended || release());
      req.on('end', () => {
        ended = true;
        if (holder) budget.complete(holder);
        if (!refused) answer();
      });
    };
    const answer = () => {
      const requestId = uuid();
      const digests = body.digests();
      const apiReq: ApiRequest = {
        method: req.method ?? 'GET',
        path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
        query,
        headers: req.headers,
        body: body.body(),
        ...(digests && { bodyDigests: digests }),
        region: scope.region,
        ...(scope.service && { signingService: scope.service }),
        requestId,
        origin: `http://${req.headers.host ?? new URL(url).host}`,
        sourceIp: req.socket.remoteAddress ?? '',
        peer: peerOf(req.socket),
      };
      handle(apiReq)
        .then(async (out) => {
          if (out.stream) {
            // An S3 object streamed from disk: its handler set the content-length.
            res.writeHead(out.status, { ...out.headers, 'x-amzn-requestid': requestId });
            await pipeline(out.stream, res).catch((err: unknown) => {
              logger.warn('response stream failed', { err });
              res.destroy();
            });
            return;
          }
          const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
          // A HEAD answer carries the length of what a GET would send (S3's HeadObject).
          const length =
            req.method === 'HEAD' && out.headers['content-length'] !== undefined ? out.headers['content-length'] : body.byteLength;
          // The handler's headers are this answer's own (as the front door's Object.assign assumes too).
          const headers = out.headers as Record<string, string | string[] | number>;
          headers['x-amzn-requestid'] = requestId;
          // A 204 or 304 has no body, and so no length: a client that took one would read the next answer's bytes.
          const bodiless = out.status === 204 || out.status === 304;
          if (bodiless) delete headers['content-length'];
          else headers['content-length'] = length;
          res.writeHead(out.status, headers);
          res.end(bodiless ? undefined : body);
          connections.answered(res);
        })
        .catch((err: unknown) => {
          logger.error('request failed', { err });
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"message":"internal error"}');
        })
        .finally(release);
    };
    if (early) {
      // Answered without its body, which is dropped; the connection closes once the answer is out, as a refused one does.
      res.shouldKeepAlive = false;
      lingerAfter(req);
      answer();
      return;
    }
    // Any key is an operator's in developer mode, but not from a function's sandbox (where that can be
    // told): a function signing with a key of its own making draws on the unsigned callers' share, as
    // one signing with none does, not on the operator's. The body waits unread while the owner is looked up.
    const guest = keyring.guestOf(scope.accessKeyId);
    const hasBody = declared > 0 || req.headers['transfer-encoding'] !== undefined;
    if (guest !== undefined || keyring.enforcing || !isolation.runsAsHostUser || !hasBody) {
      read(guest);
      return;
    }
    const sandboxed = (owner: number | null) => (ownedBySandbox(owner) ? '' : undefined);
    const owner = peerOwner(peerOf(req.socket));
    if (owner instanceof Promise) void owner.then(sandboxed, () => '').then(read);
    else read(sandboxed(owner));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  }).catch(async (err: unknown) => {
    await Promise.allSettled([logs.close(), metrics.close(), isolation.close()]);
    return abandon(err);
  });
  const port = (server.address() as AddressInfo).port;
  url = `http://${urlHost(options.host)}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      web.close();
      // Steps down first (the controllers stop, the lease is let go), so another node can take over at once.
      await node.close();
      await stacks.close();
      await environments.close();
      await isolation.close();
      await logs.close();
      await metrics.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        setTimeout(() => {
          server.closeAllConnections();
        }, 2000).unref();
      });
      await store.close();
    })());

  // Joins the cluster once the server can answer hooks: the first beat leads when nobody else does.
  await node.start();

  return {
    url,
    node: node.id,
    listening: `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    options,
    isolation: isolation.status,
    services: {
      functions,
      invocations,
      queue,
      eventInvokeConfigs,
      environments,
      restApis,
      gateway,
      metrics,
      alarms,
      deployments,
      codeDeploy,
      stacks,
      s3,
      logs,
      store,
      clock,
    },
    close,
  };
}

/** The server cannot start as asked (its store cannot be opened, or disagrees); the CLI prints the message as it is. */
export class StartRefusedError extends Error {}

/** SQLite in the data directory, or the PostgreSQL database that `--store` names (shared with other nodes). */
async function openStore(options: Options): Promise<Store> {
  if (!options.store) return openSqliteStore(path.join(options.dataDir, 'versa.db'));
  try {
    // Loaded only for a shared store: a single node on SQLite would otherwise load the PostgreSQL driver before listening.
    const { openPostgresStore } = await import('../store/postgres/postgres-store.js');
    return await openPostgresStore(options.store);
  } catch (err) {
    const where = new URL(options.store).host;
    throw new StartRefusedError(
      `could not open the PostgreSQL store at ${where} (${(err as Error).message}); is PostgreSQL running, and does the database exist?`,
      { cause: err },
    );
  }
}

/**
 * The platform clock, continued from the one the store last ran with, so that a deployment resumed
 * after a restart keeps its real-time schedule whatever the time scale; anchored in the store, so that
 * every node sharing it reads the same time.
 */
async function platformClock(store: Store, scale: number, nodeId: string): Promise<Clock> {
  const anchor = await store.transaction(async (tx) => {
    const raw = await tx.settings.get('clock');
    const stored = raw ? (JSON.parse(raw) as { anchor: ClockAnchor; scale: number }) : undefined;
    // A new scale re-anchors the clock every node reads: never under nodes still running at the old one.
    const leader = stored && stored.scale !== scale ? await tx.cluster.lease('leader') : undefined;
    if (leader && leader.nodeId !== nodeId && leader.expiresAt > Date.now()) {
      throw new StartRefusedError(
        `the nodes sharing this store run the platform clock at --time-scale ${stored!.scale}; start this one with the same scale (got ${scale}), or stop them all first.`,
      );
    }
    const next = continueClock(stored, scale);
    if (stored?.anchor !== next) {
      await tx.settings.put('clock', JSON.stringify({ anchor: next, scale }));
      await tx.settings.put('timeScale', String(scale));
    }
    return next;
  });
  return new ScaledClock(scale, anchor);
}

/** This node's id, kept in its data directory so that a restarted node is the same node. */
function nodeIdentity(dataDir: string): string {
  const file = path.join(dataDir, 'node-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^node-[a-z0-9]{8}$/.test(id)) return id;
  } catch {
    // First start: make one.
  }
  const id = `node-${alnumId(8).toLowerCase()}`;
  writeFileSync(file, `${id}\n`);
  return id;
}

/**
 * What the leader runs (deployments, stack operations, asynchronous dispatch, alarm evaluation,
 * retention), each resuming from the store when this node starts leading, and how the other nodes hand
 * it their work.
 */
function leadControllers(
  node: ClusterNode,
  c: { deployments: DeploymentController; stacks: StackService; queue: AsyncEventQueue; alarms: AlarmService; logs: LogSink },
): void {
  const { deployments, stacks, queue, alarms, logs } = c;
  node.on('deployment.kick', (m) => {
    const { deploymentId, observations } = m as { deploymentId: string; observations: Observation[] };
    void deployments.kick(deploymentId, observations);
  });
  node.on('deployment.alarms', (m) => {
    const { names, inAlarm } = m as { names: string[]; inAlarm: boolean };
    deployments.alarmsChanged(names, inAlarm);
  });
  node.on('async.wake', () => void queue.wake());
  node.on('stack.launch', (name) => void stacks.launch(String(name)));
  // Work handed to the leader while its listening connection was down is found again in the store.
  node.onResync(() => {
    if (!node.leading) return;
    void deployments.start();
    void stacks.start();
    void queue.wake();
  });
  node.onLeadership(
    async () => {
      // Unfinished deployments, stack operations and asynchronous events resume from the store.
      await deployments.start();
      await stacks.start();
      await queue.start();
      alarms.start();
      logs.sweep();
    },
    async () => {
      await deployments.close();
      await alarms.close();
      await queue.close();
    },
  );
}

/**
 * What one node changes, the others must stop caching: functions (versions, aliases) and APIs
 * (stages, deployments) written here are announced, and those announced elsewhere are dropped here.
 */
function shareChanges(node: ClusterNode, registry: FunctionRegistry, restApis: RestApiService, gateway: GatewayDataPlane): void {
  registry.onChange((name, elsewhere) => {
    if (!elsewhere) node.broadcast('function', name);
  });
  node.on('function', (name) => registry.invalidate(String(name), true));
  restApis.onChange((id) => node.broadcast('restApi', id));
  node.on('restApi', (id) => gateway.invalidate(String(id)));
  node.onResync(() => {
    registry.invalidateAll();
    gateway.invalidateAll();
  });
}

/**
 * Whether the front door would send this request to S3 (its host or signature), judged before the body
 * is read: 'bucket' when it is for a bucket itself, 'object' for anything else of S3's, else undefined.
 */
function isS3Request(req: http.IncomingMessage): 'bucket' | 'object' | undefined {
  const rawUrl = req.url ?? '/';
  const q = rawUrl.indexOf('?');
  const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
  const { service } = credentialScopeOf(req.headers.authorization, query);
  const head = {
    method: req.method ?? 'GET',
    path: q >= 0 ? rawUrl.slice(0, q) : rawUrl,
    query,
    headers: req.headers,
    signingService: service,
  };
  const address = s3Address(head as ApiRequest);
  if (address === undefined) return undefined;
  return address.bucket !== undefined && address.key === undefined ? 'bucket' : 'object';
}

/** A body refused at the door, in S3's words: too large is EntityTooLarge, too much at once SlowDown. */
function s3Refusal(req: http.IncomingMessage, status: number, error: PlatformError) {
  const method = req.method ?? 'GET';
  if (status === 413) {
    const message = `Your proposed upload exceeds the maximum allowed size; send objects over ${MAX_PUT_BYTES} bytes as a multipart upload.`;
    return restXmlError(method, 400, 'EntityTooLarge', message, uuid(), { MaxSizeAllowed: MAX_PUT_BYTES });
  }
  if (status === 408) return restXmlError(method, 400, 'RequestTimeout', error.message, uuid(), {});
  return restXmlError(method, 503, 'SlowDown', error.message, uuid(), {});
}

/** Whether a connection's owner is a function's sandbox: its user, or one that cannot be told (taken for a function's). */
const ownedBySandbox = (owner: number | null): boolean => owner === SANDBOX_UID || owner === null;

/** The host for this machine's clients' URL: the bound address, or loopback when bound to every interface. */
function urlHost(host: string): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return h.includes(':') ? `[${h}]` : h;
}

const PEER = Symbol('versa.peer');

/** The connection's Peer, made with its first request and shared by the rest. */
function peerOf(socket: Socket & { [PEER]?: Peer }): Peer {
  return (socket[PEER] ??= {
    address: socket.remoteAddress ?? '',
    port: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
  });
}
