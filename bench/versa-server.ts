/**
 * A Versa server in its own process, started exactly as `versa start` starts one (startServer with
 * resolved options), plus an IPC channel through which the benchmark can read the resident memory of
 * the live execution environments (which only the server knows) and turn a CPU profile on and off.
 *
 * It also collects the deployment controller's step timings on request, for the deployments phase.
 *
 * Argument: a JSON object with dataDir, maxEnvironments, pythonCommand and logLevel (and optionally
 * metrics, timeScale, sandbox, credentials and store).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { resolveOptions } from '../src/config/options.js';
import { startServer } from '../src/server/server.js';
import { serve, type EnvironmentInfo } from './protocol.js';

interface Config {
  dataDir: string;
  maxEnvironments: number;
  pythonCommand: string;
  logLevel: string;
  /** "off" measures what recording metrics costs. */
  metrics?: string;
  /** How much faster than real time the platform clock runs (the deployments phase). */
  timeScale?: number;
  /** "off" measures what the function sandbox costs (default auto: bubblewrap where it runs). */
  sandbox?: string;
  /** A key every request must be signed with (measures what checking signatures costs). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** A PostgreSQL URL: the node keeps its state there, shared with the other nodes on it (default: SQLite in dataDir). */
  store?: string;
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
// Explicit options only (no VERSA_* variables from the caller's shell), so runs are comparable.
const options = resolveOptions(
  {
    host: '127.0.0.1',
    port: 0,
    dataDir: config.dataDir,
    maxEnvironments: config.maxEnvironments,
    pythonCommand: config.pythonCommand,
    logLevel: config.logLevel,
    metrics: config.metrics ?? 'on',
    timeScale: config.timeScale ?? 1,
    sandbox: config.sandbox ?? 'auto',
    store: config.store ?? '',
  },
  {},
  { credentials: config.credentials ? [config.credentials] : [] },
);
const server = await startServer(options);
let profiler: Session | undefined;

/** Step timings collected since 'deployment-timings-start', and when each deployment ended (Date.now()). */
interface Timings {
  stepMs: number[];
  actMs: number[];
  endedAt: Map<string, number>;
  stop: () => void;
  /** Wakes a pending 'deployment-timings-wait'. */
  changed?: () => void;
}
let timings: Timings | undefined;

/**
 * A process's proportional and private memory (Linux smaps_rollup): RSS counts the pages every Node or
 * Python process shares (the interpreter's code, for one) in full, in each of them.
 */
function sharing(pid: number | undefined): { pssBytes: number | null; privateBytes: number | null } {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { pssBytes: kb('Pss'), privateBytes: kb('Private_Clean') + kb('Private_Dirty') };
  } catch {
    return { pssBytes: null, privateBytes: null };
  }
}

/**
 * For each deployment, how much longer than `shiftMs` (platform time, from the first traffic shift to the
 * last as its config schedules them) its AllowTraffic took, read from the stored state, in real ms.
 */
async function lateness(ids: string[], shiftMs: number): Promise<number[]> {
  const late: number[] = [];
  for (const id of ids) {
    const d = await server.services.store.codeDeploy.getDeployment(id);
    const shift = d?.events.find((e) => e.lifecycleEventName === 'AllowTraffic');
    if (shift?.startTime !== undefined && shift.endTime !== undefined)
      late.push((shift.endTime - shift.startTime - shiftMs) / options.timeScale);
  }
  return late;
}

let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  ));

serve(async (req) => {
  switch (req.type) {
    case 'environments': {
      const items: EnvironmentInfo[] = server.services.environments.environments().map((env) => ({
        id: env.id,
        functionName: env.target.functionName,
        runtime: env.target.spec.runtime,
        state: env.state,
        invocations: env.invocations,
        residentBytes: env.residentBytes() ?? null,
        ...sharing(env.runtimePid),
      }));
      return { items };
    }
    case 'profile-start': {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: Number(req.intervalUs ?? 250) });
      await profiler.post('Profiler.start');
      return {};
    }
    case 'profile-stop': {
      if (!profiler) throw new Error('the profiler is not running');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      await writeFile(String(req.file), JSON.stringify(profile));
      return { file: req.file };
    }
    case 'deployment-timings-start': {
      timings?.stop();
      const t: Timings = {
        stepMs: [],
        actMs: [],
        endedAt: new Map(),
        stop: server.services.deployments.onStepTiming((step) => {
          t.stepMs.push(step.stepMs);
          t.actMs.push(step.actMs);
          if (step.status !== 'Created' && step.status !== 'InProgress') {
            t.endedAt.set(step.deploymentId, Date.now());
            t.changed?.();
          }
        }),
      };
      timings = t;
      return {};
    }
    case 'deployment-timings-wait': {
      // Answers once `count` deployments have ended (or at `timeoutMs`), and stops collecting.
      const t = timings;
      if (!t) throw new Error('deployment timings were not started');
      const count = Number(req.count);
      const deadline = Date.now() + Number(req.timeoutMs ?? 60_000);
      while (t.endedAt.size < count && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          t.changed = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      t.stop();
      timings = undefined;
      return {
        stepMs: t.stepMs,
        actMs: t.actMs,
        endedAt: [...t.endedAt.values()],
        lateMs: await lateness([...t.endedAt.keys()], Number(req.shiftMs)),
      };
    }
    case 'stop':
      void stop();
      return {};
    default:
      throw new Error(`unknown request ${req.type}`);
  }
});
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
// The benchmark went away: stop the environments and go.
process.on('disconnect', () => void stop());
process.send?.({ type: 'ready', url: server.url, sandbox: server.isolation.sandbox });
