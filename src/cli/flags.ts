import { parseArgs, type ParseArgsConfig } from 'node:util';

/** parseArgs with errors turned into one plain sentence. */
export function parseFlags<const T extends ParseArgsConfig>(config: T) {
  try {
    return parseArgs<T>(config);
  } catch (err) {
    throw new Error(`versa: ${(err as Error).message}`, { cause: err });
  }
}
