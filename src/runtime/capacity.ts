/**
 * How warm capacity follows traffic while a deployment shifts an alias between two versions, as a
 * rolling replacement of instances would: the environments the two versions have together stay the
 * fleet, and each version's part of it follows its share of the traffic.
 */

/**
 * Splits a fleet of `total` environments between the version losing traffic (`from`) and the one
 * gaining it (`to`, which gets `share` of the traffic, 0–1). The gaining version gets ceil(share ×
 * total), so any share above zero has at least one warm environment; the other keeps the rest.
 */
export function splitCapacity(total: number, share: number): { from: number; to: number } {
  // Weights are percentages over 100 (0.3 × 10 is 3.0000000000000004): round before the ceiling.
  const exact = Math.round(Math.min(1, Math.max(0, share)) * total * 1e6) / 1e6;
  const to = Math.min(total, Math.ceil(exact));
  return { from: total - to, to };
}
