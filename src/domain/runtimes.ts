/** The runtimes Versa can run, and which bootstrap family each belongs to. */
export type RuntimeFamily = 'nodejs' | 'python' | 'provided';

const RUNTIMES: Record<string, RuntimeFamily> = {
  'nodejs18.x': 'nodejs',
  'nodejs20.x': 'nodejs',
  'nodejs22.x': 'nodejs',
  'python3.9': 'python',
  'python3.10': 'python',
  'python3.11': 'python',
  'python3.12': 'python',
  'python3.13': 'python',
  'provided.al2': 'provided',
  'provided.al2023': 'provided',
};

export const SUPPORTED_RUNTIMES = Object.keys(RUNTIMES);

export function runtimeFamily(runtime: string): RuntimeFamily | undefined {
  return RUNTIMES[runtime];
}
