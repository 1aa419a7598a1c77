import { randomBytes } from 'node:crypto';

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
  /** The temporary key an STS key was issued to: it is refused once that one is (an environment's that stopped, say). */
  parent?: string;
  /** For an environment's key, the function it runs: the guest its requests count as (guestOf). */
  holder?: string;
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

/** Live STS sessions kept at most; issuing another drops the one closest to expiry. */
const MAX_SESSIONS = 10_000;

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

  constructor(
    operatorKeys: readonly AccessKey[],
    /** Real time, for the expiry of STS's temporary keys. */
    private readonly now: () => number = Date.now,
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
    if (session && (session.expiresAt! <= this.now() || (session.parent !== undefined && !this.lookup(session.parent)))) {
      this.sessions.delete(accessKeyId);
      return undefined;
    }
    return session;
  }

  /**
   * Whose share of the guests' memory a request signed with this key draws on (server.ts): undefined for
   * an operator's key (any key but a temporary one when none is configured); for a temporary key, the
   * holder of the first of its line (the function whose environment's key an STS key descends from), so
   * that one function counts once however many environments it has and sessions it mints; '' for an
   * unknown key or none.
   */
  guestOf(accessKeyId: string | undefined): string | undefined {
    let key = accessKeyId === undefined ? undefined : this.lookup(accessKeyId);
    if (!key) return accessKeyId === undefined || this.enforcing ? '' : undefined;
    if (key.sessionToken === undefined) return undefined;
    let first = accessKeyId!;
    for (let up = key.parent && this.lookup(key.parent); up; up = key.parent && this.lookup(key.parent)) {
      first = key.parent!;
      key = up;
    }
    return key.holder ?? first;
  }

  /**
   * Temporary credentials valid for `durationSeconds` (STS AssumeRole and GetSessionToken), accepted
   * until they expire, or until `parent` (the temporary key that asked for them) is no longer accepted.
   * Kept in memory: a restart ends every session, as a client then asks again.
   */
  issueSession(durationSeconds: number, identity?: CallerIdentity, parent?: string): SessionCredentials {
    const now = this.now();
    if (this.sessions.size >= MAX_SESSIONS) {
      for (const [id, entry] of this.sessions) if (entry.expiresAt! <= now) this.sessions.delete(id);
      if (this.sessions.size >= MAX_SESSIONS) {
        const soonest = [...this.sessions].sort((a, b) => a[1].expiresAt! - b[1].expiresAt!)[0]!;
        this.sessions.delete(soonest[0]);
      }
    }
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    const entry: KeyEntry = {
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      expiresAt: now + durationSeconds * 1000,
      ...(identity && { identity }),
      ...(parent !== undefined && { parent }),
    };
    this.sessions.set(accessKeyId, entry);
    return { accessKeyId, secretAccessKey: entry.secretAccessKey, sessionToken: entry.sessionToken!, expiresAt: entry.expiresAt! };
  }

  /** A fresh key pair and session token for one execution environment of `holder` (a function), valid until revoked. */
  issue(holder: string): IssuedCredentials {
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    const entry = { secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(48).toString('base64') };
    this.issued.set(accessKeyId, { ...entry, holder });
    return { accessKeyId, ...entry, revoke: () => this.issued.delete(accessKeyId) };
  }
}
