/**
 * Reserved concurrency's account rule. Versa's account limit (Lambda's ConcurrentExecutions) is the
 * server's `maxEnvironments`. AWS keeps 100 of an account's usual 1,000 unreserved (10 %) so that
 * functions without a reservation can still run; Versa keeps the same share of its smaller limit, and at
 * least one environment.
 */
export function minimumUnreservedConcurrency(accountLimit: number): number {
  return Math.max(1, Math.ceil(accountLimit / 10));
}

/** The most that can be reserved across all functions together: the account limit less its unreserved minimum. */
export function maximumReservedConcurrency(accountLimit: number): number {
  return Math.max(0, accountLimit - minimumUnreservedConcurrency(accountLimit));
}
