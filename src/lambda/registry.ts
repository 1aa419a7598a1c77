import { runnableSpec, specDigest, type AliasRecord, type FunctionRecord, type VersionRecord } from '../domain/lambda-function.js';
import type { Store } from '../store/store.js';

/** Everything the invoke path needs to know about one function, held in memory. */
export interface FunctionSnapshot {
  record: FunctionRecord;
  latestDigest: string;
  versions: ReadonlyMap<string, { record: VersionRecord; digest: string }>;
  aliases: ReadonlyMap<string, AliasRecord>;
}

/**
 * The in-memory view of functions, versions and aliases that keeps the invoke hot path off the disk.
 * A function is loaded from the store on first use and dropped whenever anything writes to it; loads
 * that race with a write are discarded rather than cached.
 */
export class FunctionRegistry {
  private readonly cache = new Map<string, FunctionSnapshot | null>();
  private readonly generation = new Map<string, number>();
  private readonly loading = new Map<string, Promise<FunctionSnapshot | undefined>>();
  private readonly listeners: ((functionName: string, elsewhere: boolean) => void)[] = [];

  constructor(private readonly store: Store) {}

  get(name: string): FunctionSnapshot | undefined | Promise<FunctionSnapshot | undefined> {
    const hit = this.cache.get(name);
    if (hit !== undefined) return hit ?? undefined;
    let pending = this.loading.get(name);
    if (!pending) {
      pending = this.load(name);
      this.loading.set(name, pending);
      const clear = () => this.loading.delete(name);
      pending.then(clear, clear);
    }
    return pending;
  }

  /**
   * Forgets a function after a write, here or (`elsewhere`) on another node sharing the store; the next
   * read loads it afresh.
   */
  invalidate(name: string, elsewhere = false): void {
    this.generation.set(name, (this.generation.get(name) ?? 0) + 1);
    this.cache.delete(name);
    this.loading.delete(name);
    for (const listener of this.listeners) listener(name, elsewhere);
  }

  /** Forgets every function (another node's changes may have gone unheard). */
  invalidateAll(): void {
    for (const name of new Set([...this.cache.keys(), ...this.loading.keys()])) this.invalidate(name, true);
  }

  /** Calls `listener` with the function's name whenever it changes, and whether the change came from another node. */
  onChange(listener: (functionName: string, elsewhere: boolean) => void): void {
    this.listeners.push(listener);
  }

  private async load(name: string): Promise<FunctionSnapshot | undefined> {
    const gen = this.generation.get(name) ?? 0;
    const [record, versions, aliases] = await Promise.all([
      this.store.functions.get(name),
      this.store.versions.list(name),
      this.store.aliases.list(name),
    ]);
    // What invokes run with: limits a record should never have held are Lambda's defaults (runnableSpec).
    const snapshot: FunctionSnapshot | undefined = record && {
      record: { ...record, spec: runnableSpec(record.spec) },
      latestDigest: specDigest(record.spec),
      versions: new Map(versions.map((v) => [v.version, { record: { ...v, spec: runnableSpec(v.spec) }, digest: specDigest(v.spec) }])),
      aliases: new Map(aliases.map((a) => [a.name, a])),
    };
    if ((this.generation.get(name) ?? 0) === gen) this.cache.set(name, snapshot ?? null);
    return snapshot;
  }
}
