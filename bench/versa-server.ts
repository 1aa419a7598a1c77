/**
 * A Versa server in its own process, started exactly as `versa start` starts one (startServer with
 * resolved options), plus an IPC channel through which the benchmark can read the resident memory of
 * the live execution environments (which only the server knows) and turn a CPU profile on and off.
 *
 * Argument: a JSON object with dataDir, maxEnvironments, pythonCommand and logLevel.
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
  },
  {},
);
const server = await startServer(options);
let profiler: Session | undefined;

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
        ...sharing(env.pid),
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
process.send?.({ type: 'ready', url: server.url });
