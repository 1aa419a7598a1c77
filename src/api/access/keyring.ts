import { randomBytes } from 'node:crypto';

/** An access key pair, as in an AWS shared-credentials file. */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a signed request's access key resolves to. */
export interface KeyEntry {
  secretAccessKey: string;
  /** Set for keys issued to execution environments: the request must carry this session token. */
  sessionToken?: string;
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

  constructor(operatorKeys: readonly AccessKey[]) {
    for (const key of operatorKeys) this.operator.set(key.accessKeyId, { secretAccessKey: key.secretAccessKey });
  }

  /** True when the operator configured credentials: every AWS API request must then be signed by a known key. */
  get enforcing(): boolean {
    return this.operator.size > 0;
  }

  lookup(accessKeyId: string): KeyEntry | undefined {
    return this.operator.get(accessKeyId) ?? this.issued.get(accessKeyId);
  }

  /** A fresh key pair and session token for one execution environment, valid until revoked. */
  issue(): IssuedCredentials {
    const accessKeyId = `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`;
    const entry = { secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(48).toString('base64') };
    this.issued.set(accessKeyId, entry);
    return { accessKeyId, ...entry, revoke: () => this.issued.delete(accessKeyId) };
  }
}
