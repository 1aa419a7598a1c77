import { createHash, randomBytes } from 'node:crypto';
import type { Caller } from '../aws/protocol/http.js';
import type { SessionRepository } from '../../store/store.js';

/** An access key pair, as in an AWS shared-credentials file. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a signed request's access key resolves to. */
export interface KeyEntry {
  secretAccessKey: string;
  /** Set for keys issued to execution environments and by STS: the request must carry this session token. */
  sessionToken?: string;
  /** Epoch milliseconds (real time) after which STS's temporary keys are refused. */
  expiresAt?: number;
  /** Who the key's holder is, for GetCallerIdentity (the assumed role of an AssumeRole key). */
  identity?: CallerIdentity;
  /**
   * The first temporary key of an STS key's line (the environment's key whose function asked, through
   * however many chained AssumeRole calls): it is refused once that one is (the environment stopped, say).
   */
  root?: string;
  /** For an environment's key, the function it runs: the guest its requests count as (guestOf). */
  holder?: string;
  /** For an STS key, whose sessions it counts among (MAX_SESSIONS_PER_OWNER). */
  owner?: string;
  /**
   * For a function's key (its environment's, or an STS key of that key's line): the function, whose
   * scope the gate applies (function-scope.ts). Made once, when the key is issued.
   */
  caller?: Caller;
}

/**
 * A role's id as STS's answers carry it (`AROA…`, 21 characters): stable for a role, made from its ARN
 * (`arn:aws:iam::ACCOUNT:role/NAME`) or an assumed-role ARN of it, which give the same id.
 */
export function roleIdOf(arn: string): string {
  const role = /^arn:aws[\w-]*:(?:iam::(\d{12}):role\/(?:.*\/)?|sts::(\d{12}):assumed-role\/)([^/]+)/.exec(arn);
  const canonical = role ? `arn:aws:iam::${role[1] ?? role[2]}:role/${role[3]}` : arn;
  return `AROA${createHash('sha256').update(canonical).digest('hex').slice(0, 17).toUpperCase()}`;
}

/** The answer to STS GetCallerIdentity for a key. */
export interface CallerIdentity {
  arn: string;
  userId: string;
}

/** Temporary credentials from STS (AssumeRole, GetSessionToken). */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
}

/**
 * Live STS sessions kept at most, and of them for one function; issuing beyond a function's drops its
 * own closest to expiry, and beyond the whole the one closest to expiry of whoever holds the most
 * (the operator's keys count as one owner), so that a function minting sessions ends its own first.
 */
const MAX_SESSIONS = 10_000;
const MAX_SESSIONS_PER_OWNER = 1_000;
/** Whose the sessions of the operator's keys are: one owner, however many keys. */
const OPERATOR = 'operator';
/** The shape of the key ids Versa mints: what may be looked for in the store. */
const SESSION_KEY_ID = /^ASIA[0-9A-F]{16}$/;

/** The shape of the session tokens Versa mints: 48 random bytes in base64. */
const SESSION_TOKEN = /^[A-Za-z0-9+/]{64}$/;

/**
 * Whether a key id and session token have the shape of those Versa mints (AWS's are base32 ids and
 * tokens of hundreds of characters): a pair of this shape the keyring does not know is one that ended
 * (expired, evicted, or its environment stopped), not a foreign key.
 */
export function mintedShape(accessKeyId: string, sessionToken: string | undefined): boolean {
  return SESSION_KEY_ID.test(accessKeyId) && sessionToken !== undefined && SESSION_TOKEN.test(sessionToken);
}

/** Credentials handed to one execution environment, and how to withdraw them when it stops. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  revoke(): void;
}

/**
 * The keys Versa accepts: the operator's (from `--credentials` or `VERSA_ACCESS_KEY_ID`), and one
 * short-lived key per execution environment, so a function calls back into Versa as itself and never
 * sees the operator's secret.
 */
export class Keyring {
  private readonly operator = new Map<string, KeyEntry>();
  private readonly issued = new Map<string, KeyEntry>();
  private readonly sessions = new Map<string, KeyEntry>();
  /** Live sessions per owner. */
  private readonly owned = new Map<string, number>();
  /** Key ids looked for in `shared` and not found there: a client repeating one costs one read. */
  private readonly notShared = new Set<string>();

  constructor(
    operatorKeys: readonly AccessKey[],
    /** Real time, for the expiry of STS's temporary keys. */
    private readonly now: () => number = Date.now,
    /**
     * Where the sessions of operators' callers are kept, so that every node sharing the store accepts
     * them and a restart keeps them; without it they live in this keyring alone.
     */
    private readonly shared?: SessionRepository,
  ) {
    for (const key of operatorKeys) this.operator.set(key.accessKeyId, { secretAccessKey: key.secretAccessKey });
  }

  /** True when the operator configured credentials: every AWS API request must then be signed by a known key. */
  get enforcing(): boolean {
    return this.operator.size > 0;
  }

  lookup(accessKeyId: string): KeyEntry | undefined {
    const key = this.operator.get(accessKeyId) ?? this.issued.get(accessKeyId);
    if (key) return key;
    const session = this.sessions.get(accessKeyId);
    // A root is never itself a descendant: one more lookup, whatever the length of the line.
    if (session && (session.expiresAt! <= this.now() || (session.root !== undefined && !this.lookup(session.root)))) {
      this.dropSession(accessKeyId);
      return undefined;
    }
    return session;
  }

  /**
   * The key as lookup() finds it, or else an operator's caller's session another node issued (or this
   * one, before a restart), read from the store once and kept: the same as lookup() for any key but a
   * session id (`ASIA` and 16 hexadecimal digits) this keyring has not seen.
   */
  async resolve(accessKeyId: string): Promise<KeyEntry | undefined> {
    const known = this.lookup(accessKeyId);
    if (known || !this.shared || !SESSION_KEY_ID.test(accessKeyId) || this.notShared.has(accessKeyId)) return known;
    const stored = await this.shared.get(accessKeyId);
    if (!stored || stored.expiresAt <= this.now()) {
      if (this.notShared.size >= MAX_SESSIONS) this.notShared.clear();
      this.notShared.add(accessKeyId);
      return undefined;
    }
    // Another request may have read it meanwhile.
    if (!this.sessions.has(accessKeyId)) {
      const { secretAccessKey, sessionToken, expiresAt, identity } = stored;
      this.keep(accessKeyId, { secretAccessKey, sessionToken, expiresAt, owner: OPERATOR, ...(identity && { identity }) });
    }
    return this.lookup(accessKeyId);
  }

  /**
   * Whose share of the guests' memory a request signed with this key draws on (server.ts): undefined for
   * an operator's key (any key but a temporary one when none is configured); for a temporary key, the
   * holder of the first of its line (the function whose environment's key an STS key descends from), so
   * that one function counts once however many environments it has and sessions it mints; '' for an
   * unknown key or none.
   */
  guestOf(accessKeyId: string | undefined): string | undefined {
    const key = accessKeyId === undefined ? undefined : this.lookup(accessKeyId);
    if (!key) return accessKeyId === undefined || this.enforcing ? '' : undefined;
    if (key.sessionToken === undefined) return undefined;
    // An STS key of a line counts as its owner (issueSession: the function of the line's first key).
    return key.root === undefined ? (key.holder ?? accessKeyId) : key.owner;
  }

  /**
   * Temporary credentials valid for `durationSeconds` (STS AssumeRole and GetSessionToken), accepted
   * until they expire, or until the first temporary key of `parent`'s line (`parent` itself, or the one
   * it descends from: an environment's key, say) is no longer accepted. An operator's caller's session
   * is stored in `shared` as well, when there is one: any node then accepts it, and a restart keeps it.
   * A function's (one with a parent) lives in this keyring alone, as its environment's key does: the
   * function's calls go to the node that runs it, and its line ends with that environment.
   */
  async issueSession(durationSeconds: number, identity?: CallerIdentity, parent?: string): Promise<SessionCredentials> {
    const now = this.now();
    const root = parent === undefined ? undefined : (this.lookup(parent)?.root ?? parent);
    const rootEntry = root === undefined ? undefined : this.lookup(root);
    const owner = root === undefined ? OPERATOR : (rootEntry?.holder ?? root);
    // A key minted with a function's is that function's still, however it names itself.
    const caller = rootEntry?.caller && { function: rootEntry.caller.function, arn: identity?.arn ?? rootEntry.caller.arn };
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    const entry: KeyEntry = {
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiresAt: now + durationSeconds * 1000,
      owner,
      ...(identity && { identity }),
      ...(root !== undefined && { root }),
      ...(caller && { caller }),
    };
    const credentials = {
      accessKeyId,
      secretAccessKey: entry.secretAccessKey,
      sessionToken: entry.sessionToken!,
      expiresAt: entry.expiresAt!,
    };
    if (owner === OPERATOR && this.shared) await this.shared.put({ ...credentials, ...(identity && { identity }) }, now, MAX_SESSIONS);
    this.keep(accessKeyId, entry);
    return credentials;
  }

  /**
   * Holds a session in memory, within the bounds: past a function's share its own closest to expiry
   * goes, past the whole the closest to expiry of whoever holds the most (an operator's session read
   * from the store is read again when next used).
   */
  private keep(accessKeyId: string, entry: KeyEntry): void {
    const owner = entry.owner!;
    if (this.sessions.size >= MAX_SESSIONS) {
      const now = this.now();
      for (const [id, held] of this.sessions) if (held.expiresAt! <= now) this.dropSession(id);
    }
    if (owner !== OPERATOR && (this.owned.get(owner) ?? 0) >= MAX_SESSIONS_PER_OWNER) this.dropSoonest(owner);
    else if (this.sessions.size >= MAX_SESSIONS) this.dropSoonest([...this.owned].sort((a, b) => b[1] - a[1])[0]![0]);
    this.sessions.set(accessKeyId, entry);
    this.owned.set(owner, (this.owned.get(owner) ?? 0) + 1);
  }

  private dropSession(accessKeyId: string): void {
    const entry = this.sessions.get(accessKeyId);
    if (!entry) return;
    this.sessions.delete(accessKeyId);
    const left = (this.owned.get(entry.owner!) ?? 1) - 1;
    if (left > 0) this.owned.set(entry.owner!, left);
    else this.owned.delete(entry.owner!);
  }

  /** Drops the session of `owner` closest to expiry. */
  private dropSoonest(owner: string): void {
    let soonest: [string, number] | undefined;
    for (const [id, entry] of this.sessions) {
      if (entry.owner === owner && (soonest === undefined || entry.expiresAt! < soonest[1])) soonest = [id, entry.expiresAt!];
    }
    if (soonest) this.dropSession(soonest[0]);
  }

  /**
   * A fresh key pair and session token for one execution environment of `holder` (a function), valid
   * until revoked; `caller` names the function in its requests (ApiRequest.caller), so that its scope applies.
   */
  issue(holder: string, caller?: Caller): IssuedCredentials {
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    const entry = { secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(48).toString('base64') };
    // As on Lambda, GetCallerIdentity names the function's role, assumed in a session named after it.
    const identity = caller && { arn: caller.arn, userId: `${roleIdOf(caller.arn)}:${caller.function}` };
    this.issued.set(accessKeyId, { ...entry, holder, ...(caller && { caller, identity }) });
    return { accessKeyId, ...entry, revoke: () => this.issued.delete(accessKeyId) };
  }
}
