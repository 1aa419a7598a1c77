import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = ['#2563eb', '#c2410c', '#047857', '#be185d', '#6d28d9', '#0e7490', '#4d7c0f', '#b45309'];

export interface Line {
  label: string;
  /** Epoch seconds. */
  times: number[];
  values: (number | null)[];
  color?: string;
  dash?: boolean;
}

export interface ChartProps {
  title: string;
  lines: Line[];
  /** The x range, epoch seconds. */
  from: number;
  to: number;
  height?: number;
  /** A horizontal line (an alarm threshold). */
  threshold?: number;
  /** Draw as steps (a weight that holds until it changes). */
  stepped?: boolean;
  yMax?: number;
  format?: (v: number) => string;
  /**
   * Seconds between a line's datapoints (a metric's period). Where more than one period has no datapoint
   * the line breaks, rather than drawing across a stretch without data as if it had been measured.
   */
  period?: number;
  /** A moment to mark with a vertical line (an alarm's state change), epoch seconds. */
  marker?: number;
}

/**
 * Merges the lines' timestamps into the one x axis uPlot draws on, with gaps where a line has no point,
 * and (given the period) an empty point after each datapoint that the next period has none for.
 */
function align(
  lines: Line[],
  threshold: number | undefined,
  from: number,
  to: number,
  period?: number,
): { data: uPlot.AlignedData; gaps: number } {
  const xs = [...new Set(lines.flatMap((l) => l.times))].sort((a, b) => a - b);
  if (xs.length === 0) xs.push(from, to);
  let gaps = 0;
  if (period) {
    const at = new Set(xs);
    const last = xs[xs.length - 1]!;
    for (const x of [...xs]) {
      if (x < last && !at.has(x + period)) {
        xs.push(x + period);
        gaps++;
      }
    }
    xs.sort((a, b) => a - b);
  }
  const columns = lines.map((l) => {
    const at = new Map(l.times.map((t, i) => [t, l.values[i] ?? null]));
    return xs.map((x) => at.get(x) ?? null);
  });
  if (threshold !== undefined) columns.push(xs.map(() => threshold));
  return { data: [xs, ...columns], gaps };
}

/** A small time-series chart with a legend, described in text for screen readers. */
export function Chart({ title, lines, from, to, height = 150, threshold, stepped, yMax, format, period, marker }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  // uPlot keeps the range functions it was built with; they read the latest props from here.
  const latest = useRef({ from, to, threshold, yMax, marker });
  latest.current = { from, to, threshold, yMax, marker };
  const aligned = align(lines, threshold, from, to, period);
  const alignedRef = useRef(aligned);
  alignedRef.current = aligned;
  const shape = `${lines.map((l) => l.label).join('|')}|${threshold !== undefined}|${stepped}`;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = format ?? ((v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : String(Math.round(v * 100) / 100)));
    const series: uPlot.Series[] = [
      {},
      ...lines.map((l, i) => ({
        label: l.label,
        stroke: l.color ?? PALETTE[i % PALETTE.length],
        width: 2,
        ...(l.dash && { dash: [6, 4] }),
        points: { show: true, size: 4 },
        ...(stepped && { paths: uPlot.paths.stepped!({ align: 1 }) }),
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
      })),
    ];
    if (threshold !== undefined) series.push({ label: 'threshold', stroke: '#b91c1c', width: 1.5, dash: [4, 4], points: { show: false } });
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      series,
      scales: {
        x: { time: true, range: () => [latest.current.from, latest.current.to] },
        y: {
          range: (_u, min, max) => {
            const { yMax: top, threshold: line } = latest.current;
            return [Math.min(0, min ?? 0), Math.max(top ?? 0, line ?? 0, (max ?? 1) * 1.1 || 1)];
          },
        },
      },
      axes: [
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' } },
        { stroke: '#475569', grid: { stroke: '#e2e8f0' }, ticks: { stroke: '#cbd5e1' }, size: 50, values: (_u, vals) => vals.map(fmt) },
      ],
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      hooks: {
        draw: [
          (u) => {
            const at = latest.current.marker;
            if (at === undefined) return;
            const x = u.valToPos(at, 'x', true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#7c3aed';
            ctx.lineWidth = 2 * devicePixelRatio;
            ctx.setLineDash([3 * devicePixelRatio, 3 * devicePixelRatio]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, alignedRef.current.data, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
    // Rebuilt only when the set of lines changes; new data goes through setData below.
  }, [shape, height]);

  useEffect(() => {
    const p = plot.current;
    if (!p) return;
    p.setData(aligned.data);
  });

  const summary = lines
    .map((l) => {
      const last = [...l.values].reverse().find((v) => v !== null);
      return `${l.label}: ${last === undefined || last === null ? 'no data' : (format ?? String)(last)}`;
    })
    .join('; ');
  return (
    // data-gaps: how many stretches without data break the lines (the page's tests read it).
    <figure class="chart" data-gaps={aligned.gaps}>
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}. Latest: ${summary || 'no data'}`} />
    </figure>
  );
}
