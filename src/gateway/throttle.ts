/**
 * API Gateway's throttle for a stage: a token bucket per method setting (`*\/*`, or one method's), holding
 * up to its burst limit and refilled at its rate limit, in real time (a throttle protects what runs now,
 * whatever the platform clock's scale). A request that finds it empty is answered 429, and never reaches
 * its integration: an operator caps what a public stage may send a function, and so how much of the
 * shared environments its callers can take.
 */
export class StageThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number; rate: number; burst: number }>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes one request's token from the bucket `key`; false when there is none. */
  admit(key: string, rate: number, burst: number): boolean {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.rate !== rate || bucket.burst !== burst) {
      // A new setting starts full, as a stage does when it is updated.
      bucket = { tokens: burst, at: now, rate, burst };
      this.buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Forgets the buckets of an API's stages (the API or a stage changed or went). */
  forget(prefix: string): void {
    for (const key of this.buckets.keys()) if (key.startsWith(prefix)) this.buckets.delete(key);
  }
}
