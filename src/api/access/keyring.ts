import { createHash, randomBytes } from 'node:crypto';
import { PlatformError } from '../../core/errors.js';
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
  /** For an STS key kept in the store as well: dropped from memory, it is read again when next used. */
  stored?: true;
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
 * Live STS sessions kept at most, and of them for one owner: a function (the sessions its environments'
 * keys mint), or an operator's access key (those its callers ask for, each key apart). Issuing beyond an
 * owner's share drops that owner's own closest to expiry; at the whole, one of the issuer's own goes,
 * or, when it holds none, the call is refused (Throttling): one owner's burst never ends another's
 * sessions. The store keeps operators' callers' sessions under the same bounds (SessionRepository.put).
 */
const MAX_SESSIONS = 10_000;
const MAX_SESSIONS_PER_OWNER = 1_000;
/** Whose the sessions an operator's key asked for are: that key's (`issuer`), each key apart. */
const operatorOwner = (issuer: string) => `operator:${issuer}`;

function sessionsFull(): PlatformError {
  return new PlatformError(
    'Throttling',
    `Rate exceeded: Versa holds ${MAX_SESSIONS} live STS sessions, none of them this caller's; retry once some expire.`,
  );
}
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
    const { secretAccessKey, sessionToken, expiresAt, identity, issuer } = stored;
    const entry: KeyEntry = {
      secretAccessKey,
      sessionToken,
      expiresAt,
      owner: operatorOwner(issuer ?? ''),
      stored: true,
      ...(identity && { identity }),
    };
    // Another request may have read it meanwhile; with memory full of sessions only memory holds, it is
    // used without being kept (and read again next time).
    if (!this.sessions.has(accessKeyId)) this.keep(accessKeyId, entry);
    return this.sessions.has(accessKeyId) ? this.lookup(accessKeyId) : entry;
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
   * function's calls go to the node that runs it, and its line ends with that environment. `issuer` is
   * the operator's access key that asked (without a parent): whose share of the bound the session is in.
   */
  async issueSession(durationSeconds: number, identity?: CallerIdentity, parent?: string, issuer = ''): Promise<SessionCredentials> {
    const now = this.now();
    const root = parent === undefined ? undefined : (this.lookup(parent)?.root ?? parent);
    const rootEntry = root === undefined ? undefined : this.lookup(root);
    const owner = root === undefined ? operatorOwner(issuer) : (rootEntry?.holder ?? root);
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
    if (root === undefined && this.shared) {
      const limits = { perIssuer: MAX_SESSIONS_PER_OWNER, total: MAX_SESSIONS };
      if (!(await this.shared.put({ ...credentials, ...(identity && { identity }), issuer }, now, limits))) throw sessionsFull();
      entry.stored = true;
    }
    this.keep(accessKeyId, entry);
    return credentials;
  }

  /**
   * Holds a session in memory, within the bounds: past an owner's share its own closest to expiry goes;
   * at the whole, first a session the store holds as well (read again when next used), else one of the
   * owner's own, else it is refused, or, for one the store holds, not kept. Never another owner's only copy.
   */
  private keep(accessKeyId: string, entry: KeyEntry): void {
    const owner = entry.owner!;
    const mine = (held: KeyEntry) => held.owner === owner;
    if (this.sessions.size >= MAX_SESSIONS) {
      const now = this.now();
      for (const [id, held] of this.sessions) if (held.expiresAt! <= now) this.dropSession(id);
    }
    // As the store drops an issuer's own past its share (a session read from it was kept there).
    if ((this.owned.get(owner) ?? 0) >= MAX_SESSIONS_PER_OWNER) this.dropSoonest(mine);
    if (this.sessions.size >= MAX_SESSIONS && !this.dropSoonest((held) => held.stored === true)) {
      if (entry.stored) return;
      if (!this.dropSoonest(mine)) throw sessionsFull();
    }
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

  /** Drops the session closest to expiry of those `which` picks; false when it picks none. */
  private dropSoonest(which: (entry: KeyEntry) => boolean): boolean {
    let soonest: [string, number] | undefined;
    for (const [id, entry] of this.sessions) {
      if (which(entry) && (soonest === undefined || entry.expiresAt! < soonest[1])) soonest = [id, entry.expiresAt!];
    }
    if (soonest) this.dropSession(soonest[0]);
    return soonest !== undefined;
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
