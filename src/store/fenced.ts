import type { Leadership } from '../core/leadership.js';
import type { Store } from './store.js';

/** A node's leadership with its fence: inside a transaction, `fence(tx)` throws unless this node still leads. */
export interface FencedLeadership extends Leadership {
  fence(tx: Store): Promise<void>;
}

type Repository = Record<PropertyKey, unknown>;

/**
 * The store as a lease holder must use it: every operation, and every transaction, runs in a transaction
 * that first calls `check` (which throws, e.g. `LeaseLost`, when the lease has passed to another node).
 * A holder that was paused and resumes after a takeover can therefore write nothing.
 */
export function fencedStore(store: Store, check: (tx: Store) => Promise<void>): Store {
  const repositories = new Map<PropertyKey, Repository>();
  const fencedRepository = (key: keyof Store): Repository =>
    new Proxy(Reflect.get(store, key) as unknown as Repository, {
      get(target, method) {
        if (typeof target[method] !== 'function') return target[method];
        return (...args: unknown[]) =>
          store.transaction(async (tx) => {
            await check(tx);
            const repository = Reflect.get(tx, key) as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>;
            return repository[method]!(...args);
          });
      },
    });
  const transaction = <T>(work: (tx: Store) => Promise<T>) =>
    store.transaction(async (tx) => {
      await check(tx);
      return work(tx);
    });
  return new Proxy(store, {
    get(target, key) {
      if (key === 'transaction') return transaction;
      const member: unknown = Reflect.get(target, key);
      // The cluster's own calls (heartbeats, listening) are not fenced; neither is closing.
      if (key === 'cluster' || typeof member !== 'object' || member === null) return member;
      let repository = repositories.get(key);
      if (!repository) repositories.set(key, (repository = fencedRepository(key as keyof Store)));
      return repository;
    },
  });
}
