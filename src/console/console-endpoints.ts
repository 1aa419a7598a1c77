import type { ApiRequest, ApiResponse } from '../api/aws/protocol/http.js';
import { jsonResponse } from '../api/aws/protocol/rest-json.js';
import type { Clock } from '../core/clock.js';
import type { DeploymentController } from '../deploy/deployment-controller.js';
import type { RestApiService } from '../gateway/rest-api-service.js';
import type { AsyncEventQueue } from '../invoke/async-queue.js';
import type { FunctionRegistry } from '../lambda/registry.js';
import type { StackService } from '../stacks/stack-service.js';
import type { AlarmService } from '../telemetry/alarms.js';
import { ChangeFeed, type Change } from './change-feed.js';
import { StaticFiles } from './static-files.js';

export interface ConsoleDeps {
  registry: Pick<FunctionRegistry, 'onChange'>;
  restApis: Pick<RestApiService, 'onChange'>;
  deployments: Pick<DeploymentController, 'onChange'>;
  alarms: Pick<AlarmService, 'onTransition'>;
  stacks: Pick<StackService, 'onChange'>;
  /** The asynchronous invocation queue, for a function's depth. */
  queue: Pick<AsyncEventQueue, 'depth'>;
  clock: Clock;
  timeScale: number;
  /**
   * The other nodes sharing the store: the changes this node's feed carries are told to them, and theirs
   * heard here, so that a page served by any node follows deployments, alarms and stacks run by the leader.
   */
  peers?: { broadcast(change: Change): void; on(listener: (change: Change) => void): void };
  /** The nodes sharing the store, as this node sees them (who it is, who leads, who was seen lately). */
  cluster: () => ClusterView;
  /** Whether the server checks signatures: the page then asks for an access key before calling anything. */
  credentialsRequired: boolean;
  /** Where the built console lives (tests point elsewhere). */
  webRoot?: string;
}

export interface ClusterView {
  node: string;
  leader: string | undefined;
  nodes: { id: string; url: string; startedAt: number; seenAt: number }[];
}

export interface ConsoleEndpoints {
  /** True for the requests this module answers: the page, its assets and its three `/_versa/api/` endpoints. */
  owns(req: ApiRequest): boolean;
  handle(req: ApiRequest): Promise<ApiResponse>;
  /** Answers every waiting long-poll so the server can close. */
  close(): void;
}

/** How long a long-poll of `/_versa/api/events` waits for a change, at most (real time). */
const MAX_WAIT_MS = 25_000;
/** Traffic points kept per deployment, and deployments remembered. */
const MAX_POINTS = 400;
const MAX_DEPLOYMENTS = 200;
const TRAFFIC = /^\/_versa\/api\/deployments\/([\w-]+)\/traffic$/;
const QUEUE = /^\/_versa\/api\/functions\/([a-zA-Z0-9-_]{1,64})\/queue$/;

/**
 * The console's own endpoints. Everything the console shows it reads through the AWS APIs; these only
 * serve the page and say *that* something changed (and, for deployments, the traffic weights seen so
 * far, which no AWS API keeps):
 *
 * - `GET /_versa/` and `/_versa` — the page; `GET /_versa/assets/*` and `/_versa/favicon.svg` — its files.
 * - `GET /_versa/api/events?after=N&wait=S` — the changes after cursor N, waiting up to S seconds for one.
 * - `GET /_versa/auth` — whether the server checks signatures (open, so the page knows to ask for a key).
 * - `GET /_versa/api/clock` — the platform time and time scale (charts draw on the platform clock).
 * - `GET /_versa/api/cluster` — this node, the leader and the nodes seen lately (see docs/scaling.md).
 * - `GET /_versa/api/deployments/{id}/traffic` — the target version's weight after each step.
 * - `GET /_versa/api/functions/{name}/queue` — the function's asynchronous events waiting (pending) and
 *   being run (running); no AWS API tells the queue's depth.
 */
export function consoleEndpoints(deps: ConsoleDeps): ConsoleEndpoints {
  const feed = new ChangeFeed();
  const files = new StaticFiles(deps.webRoot);
  const traffic = new Map<string, { time: number; weight: number }[]>();

  /** A deployment's target weight after a step, kept for its traffic chart. */
  const recordTraffic = (id: string, weight: number) => {
    let points = traffic.get(id);
    if (!points) {
      traffic.set(id, (points = []));
      if (traffic.size > MAX_DEPLOYMENTS) traffic.delete(traffic.keys().next().value!);
    }
    const last = points[points.length - 1];
    if (!last || last.weight !== weight) points.push({ time: deps.clock.now(), weight });
    if (points.length > MAX_POINTS) points.splice(1, points.length - MAX_POINTS);
  };
  const publish = (change: Change) => {
    feed.publish(change);
    deps.peers?.broadcast(change);
  };
  // Function changes reach other nodes through their registries already.
  deps.registry.onChange((name) => feed.publish({ kind: 'function', name }));
  deps.restApis.onChange((id) => publish({ kind: 'api', id }));
  deps.stacks.onChange((name) => publish({ kind: 'stack', name }));
  deps.alarms.onTransition(({ alarm, to }) => publish({ kind: 'alarm', name: alarm.AlarmName, state: to }));
  deps.deployments.onChange((d) => {
    recordTraffic(d.deploymentId, d.targetWeight);
    publish({ kind: 'deployment', id: d.deploymentId, status: d.status, weight: d.targetWeight });
  });
  deps.peers?.on((change) => {
    if (change.kind === 'deployment' && typeof change.weight === 'number') recordTraffic(change.id, change.weight);
    feed.publish(change);
  });

  const clock = () => ({ now: deps.clock.now(), timeScale: deps.timeScale });
  const noStore = { 'cache-control': 'no-store' };

  const owns = (req: ApiRequest) =>
    req.path === '/_versa' ||
    req.path === '/_versa/' ||
    req.path === '/_versa/favicon.svg' ||
    req.path === '/_versa/auth' ||
    req.path === '/_versa/api/events' ||
    req.path === '/_versa/api/clock' ||
    req.path === '/_versa/api/cluster' ||
    TRAFFIC.test(req.path) ||
    QUEUE.test(req.path) ||
    req.path.startsWith('/_versa/assets/');

  async function handle(req: ApiRequest): Promise<ApiResponse> {
    const notFound = () => jsonResponse(404, { message: `Nothing at ${req.path}.` });
    if (req.method !== 'GET' && req.method !== 'HEAD') return jsonResponse(405, { message: 'The console endpoints are read-only.' });
    if (req.path === '/_versa' || req.path === '/_versa/') return files.index();
    if (req.path.startsWith('/_versa/assets/') || req.path === '/_versa/favicon.svg')
      return (await files.file(req.path.slice('/_versa/'.length))) ?? notFound();
    if (req.path === '/_versa/auth') return jsonResponse(200, { credentials: deps.credentialsRequired ? 'required' : 'any' }, noStore);
    if (req.path === '/_versa/api/clock') return jsonResponse(200, clock(), noStore);
    if (req.path === '/_versa/api/cluster') return jsonResponse(200, deps.cluster(), noStore);
    if (req.path === '/_versa/api/events') {
      const after = Number(req.query.get('after') ?? 'NaN');
      if (!Number.isInteger(after) || after < 0)
        return jsonResponse(200, { cursor: feed.cursor, changes: [], reset: true, ...clock() }, noStore);
      const waitSeconds = Number(req.query.get('wait') ?? '20');
      const waitMs = Number.isFinite(waitSeconds) ? Math.min(Math.max(0, waitSeconds * 1000), MAX_WAIT_MS) : 0;
      const page = await feed.read(after, waitMs);
      return jsonResponse(200, { ...page, ...clock() }, noStore);
    }
    const weights = TRAFFIC.exec(req.path);
    if (weights) return jsonResponse(200, { points: traffic.get(weights[1]!) ?? [] }, noStore);
    const queued = QUEUE.exec(req.path);
    if (queued) return jsonResponse(200, await deps.queue.depth(queued[1]!), noStore);
    return notFound();
  }

  return { owns, handle, close: () => feed.close() };
}
