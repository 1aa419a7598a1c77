import { parseArgs, type ParseArgsConfig } from 'node:util';
import { startCommand } from './start.js';
import { invokeCommand } from './invoke.js';

const USAGE = `Usage: versa <command> [options]

Commands:
  start                       Start a Versa server
      --port N                  port to listen on (default 4566)
      --host H                  address to listen on (default 127.0.0.1)
      --data-dir DIR            where data is kept (default ./.versa)
      --time-scale N            run the platform clock N times faster (default 1)
      --max-environments N      most execution environments alive at once (default 32)
  invoke FUNCTION[:QUALIFIER] Invoke a function and print its answer
      --payload JSON            the event (default {})
      --count N                 invoke N times and print how many each version served
      --endpoint-url URL        the Versa server (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)
  help                        Show this help
`;

/** Runs the `versa` command line; resolves to the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return startCommand(rest);
    case 'invoke':
      return invokeCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`versa: unknown command '${command}'.\n\n${USAGE}`);
      return 2;
  }
}

/** parseArgs with errors turned into one plain sentence. */
export function parseFlags<const T extends ParseArgsConfig>(config: T) {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    throw new Error(`versa: ${(err as Error).message}`, { cause: err });
  }
}
