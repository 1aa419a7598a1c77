import { PALETTE } from './chart';

export interface Share {
  label: string;
  /** 0–1. */
  weight: number;
  /** Otherwise the version's colour, from the label. */
  color?: string;
}

/** Colour per version, stable across the page. */
export function versionColor(version: string): string {
  if (version === '$LATEST') return '#475569';
  const n = Number(version);
  return PALETTE[(Number.isFinite(n) ? n : version.length) % PALETTE.length]!;
}

/** A horizontal bar of traffic shares, each part labelled with its share. */
export function WeightBar({ shares, label }: { shares: Share[]; label: string }) {
  const text = shares
    .filter((s) => s.weight > 0)
    .map((s) => `${s.label} ${fmtPercent(s.weight)}`)
    .join(', ');
  return (
    <div class="weight-bar" role="img" aria-label={`${label}: ${text}`}>
      {shares
        .filter((s) => s.weight > 0)
        .map((s) => (
          <span
            class="weight-part"
            style={{ flex: `${s.weight} 1 0%`, background: s.color ?? versionColor(s.label.replace(/^v/, '')) }}
            title={`${s.label}: ${fmtPercent(s.weight)}`}
          >
            {s.label} · {fmtPercent(s.weight)}
          </span>
        ))}
    </div>
  );
}

export function fmtPercent(w: number): string {
  return `${Math.round(w * 1000) / 10}%`;
}
