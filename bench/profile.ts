/** Summarises a V8 .cpuprofile: where the time went, by function, by file and by kind of code. */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Entry {
  name: string;
  ms: number;
  /** Share of the sampled time, in percent. */
  pct: number;
}

export interface ProfileSummary {
  /** Sampled wall time, added up over the profiles. */
  wallMs: number;
  /** Time the process was doing something (not idle). */
  busyMs: number;
  samples: number;
  byKind: Entry[];
  topSelf: Entry[];
  topFiles: Entry[];
  /** Inclusive (self plus callees) time of Versa's own functions. */
  topVersaInclusive: Entry[];
}

/** Where a script lives, shortened: `node:_http_server`, `dist/src/server/server.js`, `autocannon/lib/run.js`. */
function shortUrl(url: string): string {
  if (url.startsWith('node:') || url === '') return url;
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const dist = path.lastIndexOf('/dist/');
  if (dist >= 0) return path.slice(dist + 1);
  return path;
}

function kindOf(frame: CallFrame): string {
  const { functionName, url } = frame;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (functionName === '(idle)') return 'idle (waiting for I/O)';
  if (functionName === '(program)') return 'native, outside JS (libuv, syscalls, V8)';
  if (url.startsWith('node:')) return 'Node core JS (http, net, streams, events)';
  if (url.includes('/dist/src/')) return 'Versa (dist/src)';
  if (url.includes('/node_modules/')) return 'dependencies (node_modules)';
  if (url === '') return 'V8 builtins and natives called from JS';
  return 'other JS';
}

function keyOf(frame: CallFrame): string {
  const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where}`;
}

function top(map: Map<string, number>, total: number, count: number): Entry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total }));
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

/** Summarises one profile, or several (of processes doing the same work) added together. */
export function summarise(profiles: CpuProfile | CpuProfile[], count = 25): ProfileSummary {
  const self = new Map<string, number>();
  const files = new Map<string, number>();
  const kinds = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  let wallUs = 0;
  let sampleCount = 0;
  for (const profile of Array.isArray(profiles) ? profiles : [profiles]) {
    wallUs += profile.endTime - profile.startTime;
    sampleCount += profile.samples.length;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const node of profile.nodes) {
      byId.set(node.id, node);
      for (const child of node.children ?? []) parent.set(child, node.id);
    }
    const { samples, timeDeltas } = profile;
    for (let i = 0; i < samples.length; i++) {
      // A sample stands for the time until the next one.
      const us = i + 1 < timeDeltas.length ? timeDeltas[i + 1]! : 0;
      if (us <= 0) continue;
      const node = byId.get(samples[i]!);
      if (!node) continue;
      const frame = node.callFrame;
      if (frame.functionName === '(root)') continue;
      totalUs += us;
      add(kinds, kindOf(frame), us);
      if (frame.functionName === '(idle)') {
        idleUs += us;
        continue;
      }
      add(self, keyOf(frame), us);
      add(files, frame.url ? shortUrl(frame.url) : `(${kindOf(frame)})`, us);
      // Inclusive time: every distinct Versa function on the stack, counted once per sample.
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const f = byId.get(id)?.callFrame;
        if (!f || !f.url.includes('/dist/src/')) continue;
        const key = keyOf(f);
        if (seen.has(key)) continue;
        seen.add(key);
        add(inclusive, key, us);
      }
    }
  }
  const busyUs = totalUs - idleUs;
  return {
    wallMs: wallUs / 1000,
    busyMs: busyUs / 1000,
    samples: sampleCount,
    byKind: top(kinds, totalUs, 20),
    // Shares of the busy time: idle is left out of these.
    topSelf: top(self, busyUs, count),
    topFiles: top(files, busyUs, count),
    topVersaInclusive: top(inclusive, busyUs, count),
  };
}
