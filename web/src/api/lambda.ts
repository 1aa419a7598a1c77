import { strToU8, unzipSync, zipSync, strFromU8 } from 'fflate';
import { apiFetch, AwsError, restJson, seg } from './aws';

const P = '/2015-03-31/functions';

export interface FunctionConfig {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Handler: string;
  Description: string;
  CodeSha256: string;
  CodeSize: number;
  LastModified: string;
  Version: string;
  State?: string;
  Timeout: number;
  MemorySize: number;
}

export interface AliasConfig {
  Name: string;
  FunctionVersion: string;
  Description?: string;
  RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
  RevisionId: string;
}

export interface InvokeResult {
  status: number;
  executedVersion: string;
  functionError: string | undefined;
  payload: string;
  logTail: string | undefined;
}

export const listFunctions = async () => (await restJson<{ Functions: FunctionConfig[] }>('GET', `${P}?MaxItems=50`)).Functions;

export const getFunction = (name: string) =>
  restJson<{ Configuration: FunctionConfig; Code: { Location: string } }>('GET', `${P}/${seg(name)}`);

/** Every version, `$LATEST` first, following pages. */
export async function listVersions(name: string): Promise<FunctionConfig[]> {
  const all: FunctionConfig[] = [];
  let marker: string | undefined;
  do {
    const page = await restJson<{ Versions: FunctionConfig[]; NextMarker?: string }>(
      'GET',
      `${P}/${seg(name)}/versions${marker ? `?Marker=${encodeURIComponent(marker)}` : ''}`,
    );
    all.push(...page.Versions);
    marker = page.NextMarker;
  } while (marker);
  return all;
}

/** The function's asynchronous invocation queue: events waiting and running (a Versa endpoint; no AWS API tells it). */
export interface QueueDepth {
  pending: number;
  running: number;
}
export async function queueDepth(name: string): Promise<QueueDepth> {
  const res = await apiFetch(`/_versa/api/functions/${seg(name)}/queue`);
  if (!res.ok) throw new Error(`queue depth: HTTP ${res.status}`);
  return (await res.json()) as QueueDepth;
}

export const listAliases = async (name: string) => (await restJson<{ Aliases: AliasConfig[] }>('GET', `${P}/${seg(name)}/aliases`)).Aliases;

export const publishVersion = (name: string, description: string) =>
  restJson<FunctionConfig>('POST', `${P}/${seg(name)}/versions`, { ...(description && { Description: description }) });

export interface AliasInput {
  FunctionVersion: string;
  Description?: string;
  /** Additional version → weight (0–1); `{}` clears the routing. */
  weights: Record<string, number>;
}

const aliasBody = (a: AliasInput) => ({
  FunctionVersion: a.FunctionVersion,
  ...(a.Description !== undefined && { Description: a.Description }),
  RoutingConfig: { AdditionalVersionWeights: a.weights },
});

export const createAlias = (fn: string, name: string, a: AliasInput) =>
  restJson<AliasConfig>('POST', `${P}/${seg(fn)}/aliases`, { Name: name, ...aliasBody(a) });

export const updateAlias = (fn: string, name: string, a: AliasInput) =>
  restJson<AliasConfig>('PUT', `${P}/${seg(fn)}/aliases/${seg(name)}`, aliasBody(a));

export const deleteAlias = (fn: string, name: string) => restJson<undefined>('DELETE', `${P}/${seg(fn)}/aliases/${seg(name)}`);

function decodeBase64(text: string): string {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/** Invoke (RequestResponse) with the log tail; function errors come back as results, not exceptions. */
export async function invoke(name: string, qualifier: string, payload: string): Promise<InvokeResult> {
  const q = qualifier ? `?Qualifier=${encodeURIComponent(qualifier)}` : '';
  const res = await apiFetch(`${P}/${seg(name)}/invocations${q}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-amz-log-type': 'Tail' },
    body: payload,
  });
  const text = await res.text();
  if (!res.ok) {
    let message = text;
    try {
      const body = JSON.parse(text) as { message?: string; Message?: string };
      message = body.message ?? body.Message ?? text;
    } catch {
      // keep the text
    }
    throw new AwsError(res.headers.get('x-amzn-errortype') ?? `HTTP ${res.status}`, message, res.status);
  }
  const log = res.headers.get('x-amz-log-result');
  return {
    status: res.status,
    executedVersion: res.headers.get('x-amz-executed-version') ?? '?',
    functionError: res.headers.get('x-amz-function-error') ?? undefined,
    payload: text,
    logTail: log ? decodeBase64(log) : undefined,
  };
}

export interface NewFunction {
  name: string;
  runtime: string;
  handler: string;
  description: string;
  files: PackageFiles;
}

/** A package's files: text, or bytes kept as they were. */
export type PackageFiles = Record<string, string | Uint8Array>;

const zipBase64 = (files: PackageFiles) => {
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([n, t]) => [n, typeof t === 'string' ? strToU8(t) : t])));
  let binary = '';
  for (const b of zip) binary += String.fromCharCode(b);
  return btoa(binary);
};

export const createFunction = (f: NewFunction) =>
  restJson<FunctionConfig>('POST', P, {
    FunctionName: f.name,
    Runtime: f.runtime,
    Handler: f.handler,
    Role: 'arn:aws:iam::000000000000:role/versa-console',
    ...(f.description && { Description: f.description }),
    Code: { ZipFile: zipBase64(f.files) },
  });

export const updateFunctionCode = (name: string, files: PackageFiles) =>
  restJson<FunctionConfig>('PUT', `${P}/${seg(name)}/code`, { ZipFile: zipBase64(files) });

/**
 * A function's package (from GetFunction's code location, which Versa itself serves): text files as
 * text, anything else as bytes so that saving an edit keeps it.
 */
export async function readCode(location: string): Promise<PackageFiles> {
  const url = new URL(location, window.location.href);
  // The location names the host the server was reached on; fetch the same path from this page's origin.
  const res = await apiFetch(url.pathname);
  if (!res.ok) throw new Error(`Could not read the function's code (HTTP ${res.status}).`);
  const entries = unzipSync(new Uint8Array(await res.arrayBuffer()));
  const out: PackageFiles = {};
  for (const [name, bytes] of Object.entries(entries)) {
    if (name.endsWith('/')) continue;
    const text = bytes.length <= 200_000 ? strFromU8(bytes) : '\u0000';
    out[name] = text.includes('\u0000') || text.includes('\ufffd') ? bytes : text;
  }
  return out;
}
