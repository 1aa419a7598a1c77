import { PlatformError } from '../core/errors.js';
import { maximumReservedConcurrency, minimumUnreservedConcurrency } from '../domain/concurrency.js';
import { LATEST } from '../domain/lambda-function.js';
import { Violations } from '../domain/validation.js';
import type { Store } from '../store/store.js';
import { notFound, type Caller } from './function-service.js';
import type { FunctionRegistry } from './registry.js';

/** Lambda's GetAccountSettings concurrency figures, from this server's limit. */
export interface AccountConcurrency {
  /** ConcurrentExecutions: the server's maxEnvironments. */
  limit: number;
  /** UnreservedConcurrentExecutions: the limit less what functions reserve. */
  unreserved: number;
}

/**
 * Reserved concurrency (Put/Get/DeleteFunctionConcurrency): a setting of the function as a whole, kept
 * on its record, so that it travels with the function's snapshot to the invoke path and ends with the
 * function. A reservation may not leave fewer than the account's minimum unreserved.
 */
export class ReservedConcurrencyService {
  constructor(
    private readonly store: Store,
    private readonly registry: FunctionRegistry,
    /** The account's concurrency limit: the server's maxEnvironments. */
    private readonly accountLimit: number,
    /** Told of each change made here, before its answer goes out, so that the next invoke is held to it. */
    private readonly onChange: (functionName: string, reserved: number | undefined) => void = () => undefined,
  ) {}

  async put(caller: Caller, name: string, reserved: number): Promise<number> {
    // Whichever door the number came through (the API reads a whole number; a template might not have).
    new Violations().integer(reserved, 'reservedConcurrentExecutions', 0, Number.MAX_SAFE_INTEGER).throwIfAny();
    await this.store.transaction(async (tx) => {
      const record = await tx.functions.get(name);
      // AWS names `$LATEST` in this operation's not-found message.
      if (!record) throw notFound(caller, name, LATEST);
      const others = (await tx.functions.list()).reduce((sum, f) => sum + (f.name === name ? 0 : (f.reservedConcurrency ?? 0)), 0);
      if (others + reserved > maximumReservedConcurrency(this.accountLimit)) {
        throw new PlatformError(
          'InvalidParameterValueException',
          `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${minimumUnreservedConcurrency(this.accountLimit)}].`,
          { untyped: true },
        );
      }
      // Not a change of the function's code or configuration: its revision and LastModified stay.
      await tx.functions.update({ ...record, reservedConcurrency: reserved }, record.revisionId);
    });
    this.registry.invalidate(name);
    this.onChange(name, reserved);
    return reserved;
  }

  /** The function's reservation, or undefined when it has none. */
  async get(caller: Caller, name: string): Promise<number | undefined> {
    const record = await this.store.functions.get(name);
    if (!record) throw notFound(caller, name);
    return record.reservedConcurrency;
  }

  async delete(caller: Caller, name: string): Promise<void> {
    const changed = await this.store.transaction(async (tx) => {
      const record = await tx.functions.get(name);
      if (!record) throw notFound(caller, name, LATEST);
      if (record.reservedConcurrency === undefined) return false;
      const rest = { ...record };
      delete rest.reservedConcurrency;
      await tx.functions.update(rest, record.revisionId);
      return true;
    });
    if (!changed) return;
    this.registry.invalidate(name);
    this.onChange(name, undefined);
  }

  async account(): Promise<AccountConcurrency> {
    let reserved = 0;
    for (const n of (await this.all()).values()) reserved += n;
    return { limit: this.accountLimit, unreserved: Math.max(0, this.accountLimit - reserved) };
  }

  /** Every function's reservation, by function name (functions without one are left out). */
  async all(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const f of await this.store.functions.list()) if (f.reservedConcurrency !== undefined) out.set(f.name, f.reservedConcurrency);
    return out;
  }
}
