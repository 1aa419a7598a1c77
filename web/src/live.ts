/**
 * Keeping the page current: one long-poll of `/_versa/api/events` tells which things changed, and each
 * view reloads what it shows when a change concerns it (and on a slow timer, for what has no event,
 * such as metrics). The platform clock comes along, so charts draw in platform time.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { apiFetch } from './api/aws';

export type Change =
  | { kind: 'function'; name: string }
  | { kind: 'api'; id: string }
  | { kind: 'deployment'; id: string; status: string }
  | { kind: 'alarm'; name: string; state: string }
  | { kind: 'stack'; name: string }
  /** Sent locally when the feed was lost or restarted: reload everything. */
  | { kind: 'reset' };

type Listener = (changes: Change[]) => void;
const listeners = new Set<Listener>();
let clockBase = { now: Date.now(), timeScale: 1, at: performance.now() };
let connected = false;
let clockKnown: () => void;
/** Resolves once the server has said what time it is on the platform clock. */
export const clockReady = new Promise<void>((resolve) => (clockKnown = resolve));
const connectionListeners = new Set<(up: boolean) => void>();

/** Platform time now (ms), from the server's last word and its time scale. Before that word, see `platformTime`. */
export function platformNow(): number {
  return clockBase.now + (performance.now() - clockBase.at) * clockBase.timeScale;
}

/**
 * Platform time now (ms), once the server has said it: a window measured before then would be measured
 * on the browser's clock, which a scaled or fake platform clock leaves far behind.
 */
export async function platformTime(): Promise<number> {
  await clockReady;
  return platformNow();
}

export function timeScale(): number {
  return clockBase.timeScale;
}

/** A stretch of platform time the charts and logs look back over, and the metric period it is drawn in. */
export interface TimeWindow {
  minutes: number;
  /** Seconds per metric datapoint: kept to a few hundred points per line. */
  period: number;
  label: string;
}

export const WINDOWS: TimeWindow[] = [
  { minutes: 30, period: 60, label: '30 minutes' },
  { minutes: 180, period: 60, label: '3 hours' },
  { minutes: 720, period: 300, label: '12 hours' },
  { minutes: 1440, period: 600, label: '1 day' },
  { minutes: 10_080, period: 3600, label: '1 week' },
];

/**
 * The window a page opens with: the shortest that still holds the last 20 real minutes, so what someone
 * did a little while ago is still on the charts when the platform clock runs fast (at 60x, a day).
 */
export function defaultWindow(): TimeWindow {
  return WINDOWS.find((w) => w.minutes >= 20 * clockBase.timeScale) ?? WINDOWS[WINDOWS.length - 1]!;
}

/** `60` → `minute`, `600` → `10 minutes`: what one datapoint of `period` seconds spans. */
export function periodLabel(period: number): string {
  if (period % 3600 === 0) return period === 3600 ? 'hour' : `${period / 3600} hours`;
  if (period % 60 === 0) return period === 60 ? 'minute' : `${period / 60} minutes`;
  return `${period} seconds`;
}

/** The window chosen on this page (kept while the tab lives), or the default for the clock's speed. */
export function useTimeWindow(): [TimeWindow, (w: TimeWindow) => void] {
  const [chosen, setChosen] = useState<number | undefined>(() => {
    const kept = Number(sessionStorage.getItem(WINDOW_STORAGE));
    return WINDOWS.some((w) => w.minutes === kept) ? kept : undefined;
  });
  // The default depends on the time scale, known after the first poll: render again then.
  const [, setKnown] = useState(false);
  useEffect(() => void clockReady.then(() => setKnown(true)), []);
  const window = WINDOWS.find((w) => w.minutes === chosen) ?? defaultWindow();
  const choose = (w: TimeWindow) => {
    sessionStorage.setItem(WINDOW_STORAGE, String(w.minutes));
    setChosen(w.minutes);
  };
  return [window, choose];
}

const WINDOW_STORAGE = 'versa.window';

function setConnected(up: boolean) {
  if (up === connected) return;
  connected = up;
  for (const l of connectionListeners) l(up);
}

async function follow(): Promise<void> {
  let cursor: number | undefined;
  for (;;) {
    try {
      const res = await apiFetch(`/_versa/api/events?${cursor === undefined ? '' : `after=${cursor}&`}wait=20`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const page = (await res.json()) as { cursor: number; changes: Change[]; reset: boolean; now: number; timeScale: number };
      clockBase = { now: page.now, timeScale: page.timeScale, at: performance.now() };
      clockKnown();
      const changes = page.reset && cursor !== undefined ? [{ kind: 'reset' } as Change] : page.changes;
      cursor = page.cursor;
      setConnected(true);
      if (changes.length) for (const l of listeners) l(changes);
    } catch {
      setConnected(false);
      cursor = undefined;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

let started = false;
export function startLive(): void {
  if (started) return;
  started = true;
  void follow();
}

export function useConnected(): boolean {
  const [up, setUp] = useState(connected);
  useEffect(() => {
    connectionListeners.add(setUp);
    // The first poll may have answered between the render and this effect: catch up with it.
    setUp(connected);
    return () => void connectionListeners.delete(setUp);
  }, []);
  return up;
}

export interface Live<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` now, again when `deps` change, when a change `concerns` this view, and every
 * `everyMs` when given. Changes arriving during a load run one more load after it, never several.
 */
export function useLive<T>(load: () => Promise<T>, deps: unknown[], concerns: (c: Change) => boolean, everyMs?: number): Live<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const loadRef = useRef(load);
  loadRef.current = load;
  const concernsRef = useRef(concerns);
  concernsRef.current = concerns;
  // One load at a time per generation; a new generation (deps changed, or unmounted) drops old answers.
  const gen = useRef(0);
  const running = useRef<{ gen: number; again: boolean } | undefined>(undefined);

  const run = useCallback(() => {
    if (running.current?.gen === gen.current) {
      running.current.again = true;
      return;
    }
    const token = { gen: gen.current, again: false };
    running.current = token;
    const current = () => token.gen === gen.current;
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current()
      .then(
        (data) => current() && setState({ data, loading: false }),
        (error: unknown) => current() && setState((s) => ({ data: s.data, error: error as Error, loading: false })),
      )
      .finally(() => {
        if (running.current === token) running.current = undefined;
        if (token.again && current()) run();
      });
  }, []);

  useEffect(() => {
    gen.current++;
    setState({ loading: true });
    run();
    return () => {
      gen.current++;
    };
  }, deps);

  useEffect(() => {
    const listener: Listener = (changes) => {
      if (changes.some((c) => c.kind === 'reset' || concernsRef.current(c))) run();
    };
    listeners.add(listener);
    const timer = everyMs ? setInterval(() => document.visibilityState === 'visible' && run(), everyMs) : undefined;
    return () => {
      listeners.delete(listener);
      if (timer) clearInterval(timer);
    };
  }, [run, everyMs]);

  return { data: state.data, error: state.error, loading: state.loading, reload: run };
}
