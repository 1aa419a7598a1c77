import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { zipSync, type Zippable } from 'fflate';
import { codeUris, parseTemplate, TemplateError } from '../stacks/template.js';
import type { Change } from '../stacks/stack-service.js';
import type { StackDoc, StackEvent } from '../domain/stack.js';
import { describeError, endpointUrl, signedFetch, stageUrl } from './client.js';
import { followDeployment, RECONNECT_MS, transient } from './deployments.js';
import { parseFlags } from './flags.js';
import { table } from './table.js';
import { printable } from './printable.js';

const DEPLOY_USAGE = `Usage: versa deploy --stack-name NAME [--template-file template.yaml] [--parameter-overrides K=V ...]
  Deploys a SAM template to Versa as \`sam deploy\` does to AWS: creates or updates the stack's functions,
  versions, aliases, alarms and APIs, moves each alias under a DeploymentPreference through a CodeDeploy
  deployment shown live, and prints the outputs. Exit status 0 when the stack is up to date; 1 when the
  update failed and was rolled back. --no-execute-changeset only prints what would change.
Options: --endpoint-url URL (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)`;

/** How often the stack is read while an operation runs, in real milliseconds. */
const POLL_MS = 250;
/** Files that never belong in a function's zip. */
const SKIP = new Set(['.git', '.aws-sam', '__pycache__', '.DS_Store']);
/** A fixed timestamp for every zip entry, so that the same folder always makes the same zip. */
const ZIP_TIME = new Date('1980-01-01T00:00:00Z');

class UsageError extends Error {}

async function request<T>(endpoint: string, method: string, pathName: string, body?: unknown): Promise<T> {
  const res = await signedFetch(`${endpoint.replace(/\/$/, '')}${pathName}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as T & { message?: string };
  if (!res.ok)
    throw Object.assign(new Error(json.message ?? `HTTP ${res.status}`), { name: res.headers.get('x-amzn-errortype') ?? 'Error' });
  return json;
}

const stackPath = (name: string) => `/_versa/api/stacks/${encodeURIComponent(name)}`;

/** Runs one of the stack commands; resolves to the exit status. */
/**
 * Runs one of the stack commands, turning its errors into a plain sentence; `work` sets the endpoint it
 * talks to on `ctx` once its flags are read, so that a failure can say which server did not answer.
 */
async function run(command: string, usage: string, work: (ctx: { endpoint: string }) => Promise<number>): Promise<number> {
  const ctx = { endpoint: endpointUrl(undefined) };
  try {
    return await work(ctx);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && err.message.startsWith('versa: '))) {
      process.stderr.write(`versa ${command}: ${err.message.replace(/^versa: /, '')}\n${usage}\n`);
      return 2;
    }
    process.stderr.write(`versa ${command}: ${describeError(err, ctx.endpoint)}\n`);
    return 1;
  }
}

// ---- versa deploy ----

export function deployCommand(args: string[]): Promise<number> {
  return run('deploy', DEPLOY_USAGE, async (ctx) => {
    const { values, positionals } = parseFlags({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        'template-file': { type: 'string', short: 't' },
        'stack-name': { type: 'string' },
        'parameter-overrides': { type: 'string', multiple: true },
        'endpoint-url': { type: 'string' },
        // Accepted for `sam deploy` compatibility; they change nothing on Versa.
        capabilities: { type: 'string', multiple: true },
        region: { type: 'string' },
        'no-confirm-changeset': { type: 'boolean' },
        'no-execute-changeset': { type: 'boolean' },
        'resolve-s3': { type: 'boolean' },
        guided: { type: 'boolean' },
        'config-env': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(`${DEPLOY_USAGE}\n`);
      return 0;
    }
    const endpoint = (ctx.endpoint = endpointUrl(values['endpoint-url']));
    // What `sam deploy --guided` saved in samconfig.toml fills in what the flags leave out.
    const saved = samConfig(path.resolve('samconfig.toml'), values['config-env'] ?? 'default');
    if (values.guided)
      process.stdout.write('Versa does not ask questions: it takes --stack-name and the rest from flags or samconfig.toml.\n');
    const stackName = values['stack-name'] ?? saved.stack_name;
    if (!stackName) throw new UsageError('--stack-name is required (or stack_name in samconfig.toml).');
    // `--parameter-overrides A=1 B=2`: the values after the first arrive as positionals.
    const given = [...(values['parameter-overrides'] ?? []), ...positionals];
    const overrides = parameterOverrides(given.length > 0 ? given : splitOverrides(saved.parameter_overrides ?? ''));
    const templateFile = path.resolve(values['template-file'] ?? saved.template_file ?? 'template.yaml');
    let text: string;
    try {
      text = readFileSync(templateFile, 'utf8');
    } catch {
      throw new UsageError(`cannot read the template ${templateFile}.`);
    }
    let artifacts: Record<string, string>;
    try {
      artifacts = packageCode(text, path.dirname(templateFile));
    } catch (err) {
      if (err instanceof TemplateError) {
        process.stderr.write(`versa deploy: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
    return deploy(endpoint, stackName, { template: text, parameters: overrides, artifacts }, values['no-execute-changeset'] === true);
  });
}

function parameterOverrides(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    // Both `Key=Value` and CloudFormation's `ParameterKey=Key,ParameterValue=Value`.
    const long = /^ParameterKey=([^,]+),ParameterValue=(.*)$/.exec(item);
    const eq = item.indexOf('=');
    if (long) out[long[1]!] = long[2]!;
    else if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
    else throw new UsageError(`parameter override ${JSON.stringify(item)} is not KEY=VALUE.`);
  }
  return out;
}

/**
 * The string settings of `[<env>.deploy.parameters]` (and `[<env>.global.parameters]`) in a SAM CLI
 * samconfig.toml, which is all `versa deploy` reads of it; an absent file gives nothing.
 */
export function samConfig(file: string, env: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const wanted = new Set([`${env}.deploy.parameters`, `${env}.global.parameters`]);
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) section = header[1]!.trim();
    const pair = /^([A-Za-z_]+)\s*=\s*"((?:[^"\\]|\\.)*)"$/.exec(line);
    if (pair && wanted.has(section)) out[pair[1]!] = pair[2]!.replace(/\\"/g, '"');
  }
  return out;
}

/** `A=1 B="two words"` as samconfig.toml writes parameter_overrides. */
function splitOverrides(text: string): string[] {
  return [...text.matchAll(/([^\s=]+)=("[^"]*"|\S*)/g)].map((m) => `${m[1]}=${m[2]!.replace(/^"|"$/g, '')}`);
}

/** Zips every CodeUri folder of the template (a .zip file is sent as it is), base64-encoded by CodeUri. */
export function packageCode(template: string, baseDir: string): Record<string, string> {
  const artifacts: Record<string, string> = {};
  const problems: string[] = [];
  for (const uri of codeUris(parseTemplate(template))) {
    if (/^s3:\/\//.test(uri)) continue; // the server reads it from its S3
    const full = path.resolve(baseDir, uri);
    let stat;
    try {
      stat = statSync(full);
    } catch {
      problems.push(`CodeUri ${uri}: no such folder or file (${full}).`);
      continue;
    }
    const zip = stat.isDirectory() ? zipFolder(full) : readFileSync(full);
    artifacts[uri] = Buffer.from(zip).toString('base64');
  }
  if (problems.length > 0) throw new TemplateError(problems);
  return artifacts;
}

/** A zip of the folder's files in name order, with fixed times: the same files make the same bytes. */
export function zipFolder(dir: string): Uint8Array {
  const files: Zippable = {};
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (SKIP.has(entry.name)) continue;
      const name = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(name);
      else if (entry.isFile()) {
        const mode = statSync(path.join(dir, name)).mode & 0o777;
        files[name] = [readFileSync(path.join(dir, name)), { mtime: ZIP_TIME, attrs: (0o100000 | mode) << 16, os: 3 }];
      }
    }
  };
  walk('');
  return zipSync(files, { level: 6 });
}

interface DeployAnswer {
  stack: StackDoc;
  changes: Change[];
}

async function deploy(endpoint: string, name: string, body: Record<string, unknown>, planOnly: boolean): Promise<number> {
  const out = process.stdout;
  out.write(`${planOnly ? 'Planning' : 'Deploying'} stack ${name} on ${endpoint}\n`);
  const started = Date.now();
  const { stack, changes } = await request<DeployAnswer>(endpoint, 'POST', `${stackPath(name)}/deploy`, { ...body, planOnly });
  if (planOnly) {
    out.write(
      changes.length === 0
        ? `No changes to deploy. Stack ${name} is up to date.\n`
        : `\nChanges (not applied):\n${changeTable(changes)}\nRun without --no-execute-changeset to apply them.\n`,
    );
    return 0;
  }
  if (changes.length === 0) {
    out.write(`No changes to deploy. Stack ${name} is up to date.\n`);
    printOutputs(endpoint, stack);
    return 0;
  }
  out.write(`\nChanges:\n${changeTable(changes)}\n`);
  return follow(endpoint, name, stack.events.length > 0 ? stack.events.at(-1)!.timestamp : started);
}

function changeTable(changes: Change[]): string {
  return table([['OPERATION', 'LOGICAL ID', 'TYPE', ''], ...changes.map((c) => [c.action, c.logicalId, c.resourceType, c.detail ?? ''])]);
}

/** Prints the stack's events as they happen, each CodeDeploy deployment live, then the outcome. */
async function follow(endpoint: string, name: string, since: number): Promise<number> {
  const shown = new Set<string>();
  const followed = new Set<string>();
  const key = (e: StackEvent) => `${e.timestamp}|${e.logicalId}|${e.status}`;
  const sleep = () => new Promise((r) => setTimeout(r, POLL_MS));
  let failures = 0;
  for (;;) {
    let stack: StackDoc;
    try {
      stack = (await request<{ stack: StackDoc }>(endpoint, 'GET', stackPath(name))).stack;
      if (failures > 0) process.stdout.write('(reconnected)\n');
      failures = 0;
    } catch (err) {
      // The operation lives on the server: a restart resumes it, so keep asking for a while.
      if (!transient(err) || ++failures * POLL_MS > RECONNECT_MS) throw err;
      if (failures === 1) process.stdout.write('(the server is not answering; still trying)\n');
      await sleep();
      continue;
    }
    for (const e of stack.events) {
      if (e.timestamp < since || shown.has(key(e))) continue;
      shown.add(key(e));
      process.stdout.write(
        `${e.status.padEnd(36)} ${e.resourceType.padEnd(34)} ${e.logicalId}${e.reason ? `  ${printable(e.reason)}` : ''}\n`,
      );
    }
    const deployment =
      stack.operation?.phase === 'traffic' ? stack.operation.deployments.find((d) => !followed.has(d.deploymentId)) : undefined;
    if (deployment) {
      followed.add(deployment.deploymentId);
      process.stdout.write(
        `\n${deployment.functionName}:${deployment.alias} moves from version ${deployment.fromVersion} to ${deployment.toVersion}:\n`,
      );
      const status = await followDeployment(endpoint, deployment.deploymentId, 'versa deploy');
      process.stdout.write('\n');
      if (status === 130) {
        process.stdout.write(
          `Stopped watching; the deployment goes on. Follow it with: versa deployments watch ${deployment.deploymentId}\n`,
        );
        return 130;
      }
      continue;
    }
    if (!stack.operation) return outcome(endpoint, stack);
    await sleep();
  }
}

function outcome(endpoint: string, stack: StackDoc): number {
  if (stack.status === 'CREATE_COMPLETE' || stack.status === 'UPDATE_COMPLETE') {
    process.stdout.write(`\nSuccessfully ${stack.status === 'CREATE_COMPLETE' ? 'created' : 'updated'} stack ${stack.name}.\n`);
    printOutputs(endpoint, stack);
    return 0;
  }
  const why = stack.reason ?? 'no reason was given';
  process.stdout.write(
    `\nStack ${stack.name} ${stack.status === 'ROLLBACK_COMPLETE' ? 'was not created' : 'was not updated'} and was rolled back: ${why}\n`,
  );
  return 1;
}

const EXECUTE_API = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)(\/.*)?$/;

function printOutputs(endpoint: string, stack: StackDoc): void {
  if (stack.outputs.length === 0) return;
  process.stdout.write('\nOutputs:\n');
  for (const o of stack.outputs) {
    process.stdout.write(`  ${o.key}: ${o.value}${o.description ? `  (${o.description})` : ''}\n`);
    const local = localUrl(endpoint, o.value);
    if (local) process.stdout.write(`  ${' '.repeat(o.key.length)}  on Versa: ${local}\n`);
  }
}

/** The Versa URL of an `https://{api}.execute-api.{region}.amazonaws.com/{stage}/...` output. */
export function localUrl(endpoint: string, value: string): string | undefined {
  const m = EXECUTE_API.exec(value);
  if (!m) return undefined;
  return `${stageUrl(endpoint, m[1]!, m[2]!)}${(m[3] ?? '/').replace(/^\//, '')}`;
}

// ---- versa rollback, versa delete, versa stacks ----

const STACK_USAGE = `Usage:
  versa rollback --stack-name NAME   stop the stack's running deployment with rollback, or move each alias
                                     back to the version it had before the last deploy
  versa delete --stack-name NAME     delete the stack and everything it created
  versa stacks                       list stacks with their status and outputs
Options: --endpoint-url URL (default $AWS_ENDPOINT_URL or http://127.0.0.1:4566)`;

function stackFlags(args: string[], needName: boolean) {
  const { values } = parseFlags({
    args,
    strict: true,
    options: { 'stack-name': { type: 'string' }, 'endpoint-url': { type: 'string' }, 'no-prompts': { type: 'boolean' } },
  });
  if (needName && !values['stack-name']) throw new UsageError('--stack-name is required.');
  return { name: values['stack-name'] ?? '', endpoint: endpointUrl(values['endpoint-url']) };
}

/** A stack command: `--stack-name` (required or not) and `--endpoint-url`, then `work`. */
function stackCommand(command: string, needName: boolean, work: (name: string, endpoint: string) => Promise<number>) {
  return (args: string[]): Promise<number> =>
    run(command, STACK_USAGE, (ctx) => {
      const flags = stackFlags(args, needName);
      ctx.endpoint = flags.endpoint;
      return work(flags.name, flags.endpoint);
    });
}

export const rollbackCommand = stackCommand('rollback', true, async (name, endpoint) => {
  const result = await request<{
    stopped: { deploymentId: string; functionName: string; alias: string; fromVersion: string }[];
    moved: { functionName: string; alias: string; from: string; to: string }[];
  }>(endpoint, 'POST', `${stackPath(name)}/rollback`);
  for (const d of result.stopped) {
    process.stdout.write(
      `Stopped deployment ${d.deploymentId} with rollback: ${d.functionName}:${d.alias} goes back wholly to version ${d.fromVersion}.\n`,
    );
  }
  for (const m of result.moved)
    process.stdout.write(`Moved ${m.functionName}:${m.alias} from version ${m.from} back to version ${m.to}.\n`);
  if (result.stopped.length === 0 && result.moved.length === 0) {
    process.stdout.write(`Every alias of ${name} is already on its earlier version.\n`);
  }
  return 0;
});

export const deleteCommand = stackCommand('delete', true, async (name, endpoint) => {
  await request(endpoint, 'DELETE', stackPath(name));
  process.stdout.write(`Deleted stack ${name} and its resources.\n`);
  return 0;
});

export const stacksCommand = stackCommand('stacks', false, async (_name, endpoint) => {
  const { stacks } = await request<{
    stacks: (Pick<StackDoc, 'name' | 'status' | 'reason' | 'updatedAt' | 'outputs'> & { resources: number })[];
  }>(endpoint, 'GET', '/_versa/api/stacks');
  if (stacks.length === 0) {
    process.stdout.write('No stacks yet. Deploy one with: versa deploy --stack-name NAME\n');
    return 0;
  }
  for (const s of stacks) {
    process.stdout.write(`${s.name}  ${s.status}  ${s.resources} resources  updated ${new Date(s.updatedAt).toISOString()}\n`);
    if (s.reason) process.stdout.write(`  why: ${printable(s.reason)}\n`);
    for (const o of s.outputs) {
      const local = localUrl(endpoint, o.value);
      process.stdout.write(`  ${o.key}: ${o.value}${local ? `  (on Versa: ${local})` : ''}\n`);
    }
  }
  return 0;
});
