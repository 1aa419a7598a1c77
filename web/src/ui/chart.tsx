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
}

/** Merges the lines' timestamps into the one x axis uPlot draws on, with gaps where a line has no point. */
function align(lines: Line[], threshold: number | undefined, from: number, to: number): uPlot.AlignedData {
  const xs = [...new Set(lines.flatMap((l) => l.times))].sort((a, b) => a - b);
  if (xs.length === 0) xs.push(from, to);
  const columns = lines.map((l) => {
    const at = new Map(l.times.map((t, i) => [t, l.values[i] ?? null]));
    return xs.map((x) => at.get(x) ?? null);
  });
  if (threshold !== undefined) columns.push(xs.map(() => threshold));
  return [xs, ...columns];
}

/** A small time-series chart with a legend, described in text for screen readers. */
export function Chart({ title, lines, from, to, height = 150, threshold, stepped, yMax, format }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  // uPlot keeps the range functions it was built with; they read the latest props from here.
  const latest = useRef({ from, to, threshold, yMax });
  latest.current = { from, to, threshold, yMax };
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
    };
    plot.current = new uPlot(opts, align(lines, threshold, from, to), el);
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
    p.setData(align(lines, threshold, from, to));
  });

  const summary = lines
    .map((l) => {
      const last = [...l.values].reverse().find((v) => v !== null);
      return `${l.label}: ${last === undefined || last === null ? 'no data' : (format ?? String)(last)}`;
    })
    .join('; ');
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}. Latest: ${summary || 'no data'}`} />
    </figure>
  );
}
