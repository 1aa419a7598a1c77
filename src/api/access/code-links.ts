import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How long a code link works, as long as Lambda's presigned `Code.Location`. */
const LINK_SECONDS = 600;
/** Where a code package is downloaded from: its SHA-256 in hex (server.ts serves it). */
export const CODE_PATH = /^\/_versa\/code\/([0-9a-f]{64})\.zip$/;

/** The plain URL of the package whose SHA-256 is `sha` (hex), at `origin`. */
export function codeUrl(origin: string, sha: string): string {
  return `${origin}/_versa/code/${sha}.zip`;
}

/**
 * GetFunction's `Code.Location`: on AWS a presigned S3 URL that works on its own for ten minutes, so that
 * whoever was allowed GetFunction can hand it to curl. Where credentials are configured Versa's code
 * downloads need a signature, so the link carries one of its own: an HMAC of the package and the
 * expiry, keyed from the operators' secrets (nodes sharing the credentials file accept each other's
 * links). Without credentials the download is open and the link is plain.
 */
export class CodeLinks {
  private readonly key: Buffer | undefined;

  constructor(
    operatorSecrets: readonly string[],
    private readonly now: () => number,
  ) {
    this.key =
      operatorSecrets.length === 0
        ? undefined
        : createHash('sha256')
            .update(`versa code links\n${[...operatorSecrets].sort().join('\n')}`)
            .digest();
  }

  /** The link to the package whose SHA-256 is `sha` (hex), at `origin`. */
  location(origin: string, sha: string): string {
    const url = codeUrl(origin, sha);
    if (!this.key) return url;
    const expires = Math.floor(this.now() / 1000) + LINK_SECONDS;
    return `${url}?versa-expires=${expires}&versa-signature=${this.signature(sha, expires)}`;
  }

  /** Whether a request for `path` carries a link's signature that is good and not expired. */
  valid(path: string, query: URLSearchParams): boolean {
    const sha = CODE_PATH.exec(path)?.[1];
    const expires = Number(query.get('versa-expires'));
    const given = query.get('versa-signature') ?? '';
    if (!this.key || sha === undefined || !Number.isSafeInteger(expires) || expires * 1000 < this.now()) return false;
    const expected = Buffer.from(this.signature(sha, expires));
    const actual = Buffer.from(given);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  private signature(sha: string, expires: number): string {
    return createHmac('sha256', this.key!).update(`${sha}\n${expires}`).digest('hex');
  }
}
