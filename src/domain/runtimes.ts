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

/**
 * The runtimes AWS takes for a new function, in the order its refusal of any other value lists them (as
 * recorded against AWS in November 2025; AWS's list moves as runtimes come and go).
 */
export const AWS_RUNTIMES = [
  'nodejs20.x',
  'python3.14',
  'provided.al2023',
  'python3.12',
  'python3.13',
  'nodejs24.x',
  'nodejs22.x',
  'java25',
  'python3.10',
  'python3.11',
  'java21',
  'ruby3.3',
  'ruby3.4',
  'ruby3.2',
  'python3.8',
  'python3.9',
  'java17',
  'nodejs16.x',
  'dotnet10',
  'dotnet8',
  'java11',
  'dotnet6',
  'nodejs18.x',
  'provided.al2',
  'java8.al2',
];

/** Runtimes AWS once ran and now refuses for creating or updating a function, with a message of their own. */
export const RETIRED_RUNTIMES = new Set([
  'nodejs',
  'nodejs4.3',
  'nodejs4.3-edge',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'java8',
  'python2.7',
  'python3.6',
  'python3.7',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
  'go1.x',
  'ruby2.5',
  'ruby2.7',
  'provided',
]);
