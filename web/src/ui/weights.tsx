import { useLayoutEffect, useRef, useState } from 'preact/hooks';
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

/**
 * A horizontal bar of traffic shares, each part labelled with its share where the label fits; the
 * shares too narrow for theirs are named in a line under the bar instead of being cut off.
 */
export function WeightBar({ shares, label }: { shares: Share[]; label: string }) {
  const shown = shares.filter((s) => s.weight > 0);
  const text = shown.map((s) => `${s.label} ${fmtPercent(s.weight)}`).join(', ');
  const bar = useRef<HTMLDivElement>(null);
  const [cramped, setCramped] = useState<string[]>([]);
  const key = shown.map((s) => `${s.label}=${s.weight}`).join(',');
  useLayoutEffect(() => {
    const el = bar.current;
    if (!el) return;
    const measure = () => {
      const parts = [...el.querySelectorAll<HTMLElement>('.weight-part')];
      const narrow = parts.filter((p) => {
        const words = p.querySelector<HTMLElement>('.weight-label');
        const pad = parseFloat(getComputedStyle(p).paddingLeft) + parseFloat(getComputedStyle(p).paddingRight);
        return !!words && words.offsetWidth > p.clientWidth - pad + 0.5;
      });
      const names = narrow.map((p) => p.dataset.label ?? '');
      setCramped((old) => (old.join('\n') === names.join('\n') ? old : names));
    };
    measure();
    const resize = new ResizeObserver(measure);
    resize.observe(el);
    // The parts grow and shrink with a transition: measure again once it has run.
    el.addEventListener('transitionend', measure);
    return () => {
      resize.disconnect();
      el.removeEventListener('transitionend', measure);
    };
  }, [key]);
  const color = (s: Share) => s.color ?? versionColor(s.label.replace(/^v/, ''));
  return (
    <div class="weight">
      <div class="weight-bar" role="img" aria-label={`${label}: ${text}`} ref={bar}>
        {shown.map((s) => (
          <span
            class={cramped.includes(s.label) ? 'weight-part cramped' : 'weight-part'}
            data-label={s.label}
            style={{ flex: `${s.weight} 1 0%`, background: color(s) }}
            title={`${s.label}: ${fmtPercent(s.weight)}`}
          >
            <span class="weight-label">
              {s.label} · {fmtPercent(s.weight)}
            </span>
          </span>
        ))}
      </div>
      {cramped.length > 0 && (
        <ul class="weight-legend" aria-hidden="true">
          {shown
            .filter((s) => cramped.includes(s.label))
            .map((s) => (
              <li key={s.label}>
                <span class="swatch" style={{ background: color(s) }} /> {s.label} · {fmtPercent(s.weight)}
              </li>
            ))}
        </ul>
      )}
    </div>
  );
}

export function fmtPercent(w: number): string {
  return `${Math.round(w * 1000) / 10}%`;
}
