/**
 * Boots a real Versa server on port 0 with a temporary data directory, and gives tests AWS SDK v3
 * clients pointed at it. No part of the server is mocked.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateFunctionCommand, LambdaClient, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { zipSync, strToU8 } from 'fflate';
import type { Clock } from '../src/core/clock.js';
import type { Random } from '../src/core/random.js';
import { signedFetch } from '../src/cli/client.js';
import type { OperatorKey } from '../src/config/credentials-file.js';
import { resolveOptions, type Setting } from '../src/config/options.js';
import { startServer, type RunningServer, type StartOverrides } from '../src/server/server.js';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  lambda: LambdaClient;
  /** Stops the server and starts a new one on the same data directory. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export type TestServerOptions = { [K in Exclude<Setting, 'port' | 'dataDir'>]?: string | number } & {
  clock?: Clock;
  random?: Random;
  /** Access keys the server accepts; none means any key. */
  credentials?: OperatorKey[];
  /** The server's test-only settings (StartOverrides) besides the clock and the random source. */
  overrides?: Omit<StartOverrides, 'clock' | 'random' | 'logger'>;
};

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const { clock, random, credentials, overrides, ...rest } = opts;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-test-'));
  const options = resolveOptions({ logLevel: 'warn', ...rest, port: 0, dataDir }, {}, { ...(credentials && { credentials }) });
  const boot = () => startServer(options, { ...overrides, ...(clock && { clock }), ...(random && { random }) });
  const state = { server: await boot() };
  const t: TestServer = {
    get server() {
      return state.server;
    },
    get url() {
      return state.server.url;
    },
    dataDir,
    lambda: lambdaClientFor(state.server.url),
    async restart() {
      await state.server.close();
      state.server = await boot();
      t.lambda.destroy();
      t.lambda = lambdaClientFor(state.server.url);
    },
    async close() {
      t.lambda.destroy();
      await state.server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return t;
}

/** How a test's SDK v3 client reaches the test server: any key (the server accepts any), no retries. */
export function clientConfig(endpoint: string, region = 'us-east-1') {
  return { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 };
}

export function lambdaClientFor(endpoint: string, region = 'us-east-1'): LambdaClient {
  return new LambdaClient(clientConfig(endpoint, region));
}

/** A zip holding the given files (name → text). */
/** A zip of `files`, the same bytes whenever it is built (a fixed time on every entry: a zip records one). */
export function zipOf(files: Record<string, string>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([name, text]) => [name, strToU8(text)])), { mtime: '2024-01-01T00:00:00Z' });
}

/** Creates a function from inline source files with sensible defaults. */
export async function createFunction(
  lambda: LambdaClient,
  name: string,
  files: Record<string, string>,
  extra: Partial<CreateFunctionCommandInput> = {},
) {
  return lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: { ZipFile: zipOf(files) },
      ...extra,
    }),
  );
}

/** The decoded JSON of an Invoke answer's payload. */
export function payloadOf(out: { Payload?: Uint8Array }): unknown {
  const text = Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

/** Runs `fn` and returns the error it throws (failing if it does not). */
export async function errorOf(
  fn: () => Promise<unknown>,
): Promise<{ name: string; message: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await fn();
  } catch (err) {
    return err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Asserts that `call` fails with the AWS error `code`, HTTP `status` and exactly `message`. */
export async function refused(call: () => Promise<unknown>, code: string, status: number, message: string): Promise<void> {
  const err = await errorOf(call);
  assert.equal(err.name, code, `expected ${code}, got ${err.name}: ${err.message}`);
  assert.equal(err.$metadata?.httpStatusCode, status, `status of ${code}: ${err.message}`);
  assert.equal(err.message, message);
}

/** `fetch` signed with the tests' placeholder key, for raw wire requests to the AWS APIs (real clients always sign). */
export function awsFetch(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array } = {},
): Promise<Response> {
  return signedFetch(url, init, { accessKeyId: 'test', secretAccessKey: 'test' });
}
