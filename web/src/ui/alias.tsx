import type { AliasConfig } from '../api/lambda';
import type { Share } from './weights';

/** The alias's traffic as shares: its primary version gets what the additional weights leave. */
export function aliasShares(a: AliasConfig): Share[] {
  const extra = Object.entries(a.RoutingConfig?.AdditionalVersionWeights ?? {});
  const rest = 1 - extra.reduce((sum, [, w]) => sum + w, 0);
  return [{ label: label(a.FunctionVersion), weight: rest }, ...extra.map(([v, w]) => ({ label: label(v), weight: w }))];
}

const label = (v: string) => (v === '$LATEST' ? v : `v${v}`);
