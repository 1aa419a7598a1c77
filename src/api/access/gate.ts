import { timingSafeEqual } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { header, type ApiRequest, type Caller } from '../aws/protocol/http.js';
import { ACCOUNT_ID } from '../../domain/arn.js';
import { FORWARDED_HOPS } from '../../gateway/data-plane.js';
import type { CodeLinks } from './code-links.js';
import { FailedSignatures } from './failures.js';
import { hasV2Query, readV2Claim, v2SignatureMatches } from './sigv2.js';
import { virtualBucket } from '../aws/s3/addressing.js';
import { mintedShape, type KeyEntry, type Keyring } from './keyring.js';
import type * as Signature from './signature.js';
import { checkTime, readClaim, unsignedHeaders, type AuthFailure, type SignatureClaim } from './sigv4.js';

export interface AccessSettings {
  keyring: Keyring;
  /** The address the listener is bound to. */
  boundHost: string;
  /** `--allowed-hosts`: exact names, or `*.example.com` for a domain's subdomains. */
  allowedHosts: readonly string[];
  /** `--cors-origins`: origins (`https://app.example.com`) whose pages may call the AWS APIs, or `*`. */
  corsOrigins: readonly string[];
  /** `--metrics-token`: opens `/_versa/metrics` to scrapers that are not on this machine. */
  metricsToken: string;
  /** The real time, for signature freshness (never the scaled platform clock). */
  now: () => number;
  /**
   * `--function-access`: `scoped` marks a request signed with a function's key (ApiRequest.caller) so
   * that its service refuses what function-scope.ts does not allow; `full` lets functions call everything.
   */
  functionAccess?: 'scoped' | 'full';
  /**
   * Whether a loopback request comes from a function's sandbox, told by who owns the connection (a
   * server running as root runs functions as a user of their own); undefined where it cannot be told.
   */
  fromSandbox?: (req: ApiRequest) => boolean | Promise<boolean>;
  /** GetFunction's code links, which open a code download on their own (code-links.ts). */
  codeLinks?: CodeLinks;
  /** Told once a window of a source shut out for its wrong signatures (failures.ts), to log it. */
  onShutOut?: (source: string) => void;
}

/** A request from a function's sandbox signed with no key of Versa's: some function, held to the scope of all. */
const SANDBOXED: Caller = { function: '', arn: `arn:aws:sts::${ACCOUNT_ID}:assumed-role/versa-function/unknown-function` };

const LOOPBACK_HOST = /^(localhost|[^:]*\.localhost|127(\.\d{1,3}){3}|\[::1\])$/;
const LOOPBACK_PEER = /^(127(\.\d{1,3}){3}|::1|::ffff:127(\.\d{1,3}){3})$/;
const WILDCARD = new Set(['0.0.0.0', '::', '[::]']);
const MAX_REMEMBERED_HOSTS = 64;

/**
 * Who may reach what, decided before any work: which `Host` names are served (against DNS rebinding),
 * whether a request's signature is good, which foreign origins may call the APIs from a page, and
 * which callers are on this machine. Holds no routing: the front door asks.
 */
export class AccessGate {
  private readonly exactHosts = new Set<string>();
  /** `Host` headers already found allowed, as sent: clients send the same one every time (asked twice per request). */
  private readonly allowedRaw = new Set<string>();
  private readonly hostSuffixes: string[] = [];
  private readonly anyOrigin: boolean;
  private readonly origins: Set<string>;
  /**
   * The signature check, which loads the AWS SDK's signer (~40 ms): a server that accepts any key never
   * loads it, and one that checks keys starts loading it here, so that it is there by the first request.
   */
  private signatures: Promise<typeof Signature> | undefined;
  /** The module once loaded: a check does not wait on a promise for it every time. */
  private loadedSignatures: typeof Signature | undefined;
  /** Wrong signatures by source, while credentials are enforced. */
  private readonly failures: FailedSignatures;

  constructor(private readonly settings: AccessSettings) {
    if (this.enforcing) this.signatures = loadSignatures();
    this.failures = new FailedSignatures(settings.now);
    const bound = settings.boundHost.toLowerCase();
    if (WILDCARD.has(bound)) {
      // Listening everywhere: the machine's own addresses are names clients use, and no page can rebind a literal IP.
      for (const addrs of Object.values(networkInterfaces())) {
        for (const a of addrs ?? []) this.exactHosts.add(a.family === 'IPv6' ? `[${a.address.toLowerCase()}]` : a.address);
      }
    } else {
      this.exactHosts.add(bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound);
    }
    for (const name of settings.allowedHosts.map((h) => h.toLowerCase())) {
      if (name.startsWith('*.')) this.hostSuffixes.push(name.slice(1));
      else this.exactHosts.add(name);
    }
    this.anyOrigin = settings.corsOrigins.includes('*');
    this.origins = new Set(settings.corsOrigins.map((o) => o.toLowerCase().replace(/\/$/, '')));
  }

  /** Whether functions' keys are held to function-scope.ts (`--function-access scoped`, the default). */
  private get scoped(): boolean {
    return this.settings.functionAccess !== 'full';
  }

  /** Whether credentials are configured: then every AWS API and console call must be signed by a known key. */
  get enforcing(): boolean {
    return this.settings.keyring.enforcing;
  }

  /** True when the request's `Host` names this server (its headers are enough: the server asks before reading a body). */
  hostAllowed(req: Pick<ApiRequest, 'headers'>): boolean {
    const raw = header(req, 'host');
    if (!raw) return false;
    if (this.allowedRaw.has(raw)) return true;
    const name = hostName(raw);
    if (name === undefined) return false;
    const allowed =
      LOOPBACK_HOST.test(name) || this.exactHosts.has(name) || this.hostSuffixes.some((s) => name.endsWith(s) && name.length > s.length);
    // Bounded: a client inventing names (every bucket its own host) only fills it once.
    if (allowed && this.allowedRaw.size < MAX_REMEMBERED_HOSTS) this.allowedRaw.add(raw);
    return allowed;
  }

  /**
   * Checks the request's signature. Without configured credentials any key is accepted, but the
   * request must still carry a whole SigV4 signature: every AWS client signs, a browser form cannot.
   * `toS3`: the request goes to S3, whose clients alone may leave the payload out of the signature.
   * A request signed with a function's key is marked as that function's (`req.caller`) when functions
   * are scoped, in both modes: without credentials a function's key is still the keyring's.
   */
  async authenticate(req: ApiRequest, toS3 = false): Promise<AuthFailure | undefined> {
    if (toS3 && hasV2Query(req.query)) return this.authenticateV2(req);
    const claim = readClaim(req);
    if (claim === undefined) return { kind: 'missing' };
    if ('kind' in claim) return claim;
    if (!this.enforcing) {
      // Any key passes, but a presigned URL still expires.
      if (claim.expiresIn !== undefined) {
        const late = checkTime(claim, this.settings.now());
        if (late) return late;
      }
      // Only the keys Versa mints (`ASIA…`, keyring.ts) can be a function's, and only when signed with
      // their secret: a key's id alone (which a function may find in another's log) does not make a
      // request that function's.
      const minted = claim.accessKeyId.startsWith('ASIA') && mintedShape(claim.accessKeyId, claim.sessionToken);
      if (claim.accessKeyId.startsWith('ASIA') && (this.scoped || minted)) {
        const key = await this.settings.keyring.resolve(claim.accessKeyId);
        // A temporary key Versa minted and no longer knows has ended: taken as "any key" it would carry
        // on as the account's root, and a client that assumed a role (the CDK's) would not notice.
        // Foreign keys (a developer's AWS session) do not have its shape and still pass.
        if (key === undefined && minted) return { kind: 'unknown-key' };
        if (this.scoped && key?.caller !== undefined && (await this.check(req, claim, key, toS3)) === undefined) req.caller = key.caller;
      }
      await this.markSandboxed(req);
      return undefined;
    }
    const key = this.settings.keyring.lookup(claim.accessKeyId) ?? (await this.settings.keyring.resolve(claim.accessKeyId));
    if (!key) return { kind: 'unknown-key' };
    if (key.caller !== undefined && this.scoped) req.caller = key.caller;
    // The keys Versa mints (a function's, STS's) have random secrets no one guesses: the guard is for
    // the operator's keys, each on its own, so that guesses at one key shut out no other.
    if (key.sessionToken !== undefined) return this.check(req, claim, key, toS3);
    const guarded = this.failures.quiet ? undefined : await this.guarded(req, claim.accessKeyId);
    if (typeof guarded === 'object') return guarded;
    const checked = this.check(req, claim, key, toS3);
    const failure = checked instanceof Promise ? await checked : checked;
    return failure?.kind === 'mismatch' ? this.failed(req, claim.accessKeyId, guarded, failure) : failure;
  }

  /**
   * A Signature Version 2 presigned URL of S3's (sigv2.ts): its expiry, and with credentials its
   * signature, by a key of the operator's (functions' keys, which carry session tokens, sign with SigV4).
   */
  private async authenticateV2(req: ApiRequest): Promise<AuthFailure | undefined> {
    const claim = readV2Claim(req.query);
    if ('kind' in claim) return claim;
    if (claim.expires * 1000 < this.settings.now()) return { kind: 'expired', message: 'Request has expired' };
    if (!this.enforcing) {
      await this.markSandboxed(req);
      return undefined;
    }
    const key = this.settings.keyring.lookup(claim.accessKeyId);
    if (!key || key.sessionToken !== undefined) return { kind: 'unknown-key' };
    const guarded = await this.guarded(req, claim.accessKeyId);
    if (typeof guarded === 'object') return guarded;
    return v2SignatureMatches(req, claim, key.secretAccessKey, virtualBucket(req))
      ? undefined
      : this.failed(req, claim.accessKeyId, guarded, { kind: 'mismatch' });
  }

  /**
   * Without credentials a key proves nothing: a request from a function's sandbox is a function's, even
   * signed with a key of its own making, where its connection says so (a root server's functions are a
   * user of their own). Told at once for a connection already asked about: most requests come on one.
   */
  private async markSandboxed(req: ApiRequest): Promise<void> {
    if (req.caller !== undefined || !this.scoped) return;
    const sandboxed = this.fromSandbox(req);
    if (typeof sandboxed === 'boolean' ? sandboxed : await sandboxed) req.caller = SANDBOXED;
  }

  /**
   * Guesses at an operator's key from a source that made too many lately are refused unchecked: the
   * refusal; else the guard's name for the source and key, when one was worked out (only once some
   * guess failed).
   */
  private async guarded(req: ApiRequest, accessKeyId: string): Promise<AuthFailure | string | undefined> {
    if (this.failures.quiet) return undefined;
    const guard = await this.guardOf(req, accessKeyId);
    const wait = this.failures.shutOut(guard);
    return wait === undefined ? guard : { kind: 'shut-out', seconds: wait };
  }

  /** Counts a wrong signature for an operator's key against its source (failures.ts); answers the failure. */
  private async failed(req: ApiRequest, accessKeyId: string, known: string | undefined, failure: AuthFailure): Promise<AuthFailure> {
    const guard = known ?? (await this.guardOf(req, accessKeyId));
    if (this.failures.failed(guard)) this.settings.onShutOut?.(guard);
    return failure;
  }

  /** The guard's name for a source and the operator key it signs for (failures.ts counts by it). */
  private async guardOf(req: ApiRequest, accessKeyId: string): Promise<string> {
    return `${await this.sourceOf(req)}, key ${accessKeyId}`;
  }

  /**
   * Where a request's wrong signatures come from: its address; on this machine, whichever loopback
   * address it came from (any process may bind any of 127.0.0.0/8), and whether a function's sandbox sent it.
   */
  private async sourceOf(req: ApiRequest): Promise<string> {
    if (!LOOPBACK_PEER.test(req.sourceIp)) return req.sourceIp;
    return (await this.fromSandbox(req)) ? "this machine (a function's sandbox)" : 'this machine';
  }

  /**
   * Whether `key` signed the request: its session token, the time, every `x-amz-*` header signed, the
   * signature. At once for a header-signed request once the signer is loaded (nearly every request):
   * no promise turns on the way of every call.
   */
  private check(
    req: ApiRequest,
    claim: SignatureClaim,
    key: KeyEntry,
    toS3: boolean,
  ): AuthFailure | undefined | Promise<AuthFailure | undefined> {
    if (key.sessionToken !== undefined && claim.sessionToken !== key.sessionToken) return { kind: 'unknown-key' };
    const late = checkTime(claim, this.settings.now());
    if (late) return late;
    const unsigned = unsignedHeaders(req.headers, claim.signedHeaders);
    if (unsigned.length > 0) return { kind: 'unsigned-headers', headers: unsigned };
    const verdict = (matched: boolean): AuthFailure | undefined => (matched ? undefined : { kind: 'mismatch' });
    const signatures = this.loadedSignatures;
    if (signatures === undefined) {
      return (this.signatures ??= loadSignatures()).then(async (loaded) => {
        this.loadedSignatures = loaded;
        return verdict(await loaded.signatureMatches(req, claim, key.secretAccessKey, toS3));
      });
    }
    const matched = signatures.signatureMatches(req, claim, key.secretAccessKey, toS3);
    return typeof matched === 'boolean' ? verdict(matched) : matched.then(verdict);
  }

  /**
   * The page of another site a request comes from, or undefined when it comes from this server's own
   * pages or from no page at all (curl, the CLI, the SDKs). `origin` is its `Origin` header when it sent
   * one (CORS applies); without one, `Sec-Fetch-Site` still tells a cross-site request.
   */
  foreignCaller(req: ApiRequest): ForeignCaller | undefined {
    const origin = header(req, 'origin');
    if (origin === undefined) {
      const site = header(req, 'sec-fetch-site');
      return site === undefined || site === 'same-origin' || site === 'none' ? undefined : { origin: undefined, named: `a ${site} page` };
    }
    return isSameOrigin(origin, header(req, 'host')) ? undefined : { origin, named: origin };
  }

  /** True when `--cors-origins` lets this foreign origin's pages call the AWS APIs. */
  corsAllowed(origin: string): boolean {
    return this.anyOrigin || this.origins.has(origin.toLowerCase());
  }

  /**
   * Whether a request is a function's or an outsider's though it may come from this machine: one that
   * an API stage's HTTP integration forwarded (the server's own connection, on anyone's behalf), or one
   * whose connection a function's sandbox owns (where that can be told: `fromSandbox`).
   */
  fromSandbox(req: ApiRequest): boolean | Promise<boolean> {
    return req.headers[FORWARDED_HOPS] !== undefined || (this.settings.fromSandbox?.(req) ?? false);
  }

  /** Whether the request is a code download through a good, unexpired link of GetFunction's. */
  codeLinkValid(req: ApiRequest): boolean {
    return req.method === 'GET' && (this.settings.codeLinks?.valid(req.path, req.query) ?? false);
  }

  /** `/_versa/metrics`: callers on this machine, the bearer token, or (with credentials) a signed request. */
  async metricsAllowed(req: ApiRequest): Promise<boolean> {
    // Loopback is this machine's scrapers, not the functions that share its network.
    if (LOOPBACK_PEER.test(req.sourceIp) && !(await this.fromSandbox(req))) return true;
    const token = this.settings.metricsToken;
    const given = /^Bearer (.+)$/.exec(header(req, 'authorization') ?? '')?.[1];
    if (token !== '' && given !== undefined) {
      const a = Buffer.from(given);
      const b = Buffer.from(token);
      return a.length === b.length && timingSafeEqual(a, b);
    }
    return this.enforcing && (await this.authenticate(req)) === undefined;
  }
}

/** A request from another site's page. */
export interface ForeignCaller {
  /** Its `Origin` header, when it sent one. */
  origin: string | undefined;
  /** How to name it in a refusal. */
  named: string;
}

/** The lower-cased host name of a `Host` header, without the port (IPv6 keeps its brackets). */
function hostName(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/.exec(value);
  return m?.[1];
}

function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || origin === 'null') return false;
  try {
    return new URL(origin).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}

function loadSignatures(): Promise<typeof Signature> {
  const loading = import('./signature.js');
  // Loaded ahead of need: a failure is the first check's to report, not an unhandled rejection now.
  loading.catch(() => undefined);
  return loading;
}
