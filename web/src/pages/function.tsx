import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getMetricData, listMetrics, type MetricQuery } from '../api/cloudwatch';
import {
  createAlias,
  deleteAlias,
  getFunction,
  invoke,
  listAliases,
  listVersions,
  publishVersion,
  queueDepth,
  readCode,
  updateAlias,
  updateFunctionCode,
  type AliasConfig,
  type FunctionConfig,
  type InvokeResult,
  type PackageFiles,
} from '../api/lambda';
import { filterLogEvents, type LogEvent } from '../api/logs';
import { periodLabel, platformTime, timeScale, useLive, useTimeWindow, type TimeWindow } from '../live';
import { href } from '../router';
import { aliasShares } from '../ui/alias';
import { Chart, type Line } from '../ui/chart';
import { Empty, ErrorNote, Section, shortSha, When } from '../ui/common';
import { versionColor, WeightBar } from '../ui/weights';
import { WindowPicker } from '../ui/window-picker';

export function FunctionPage({ name }: { name: string }) {
  const live = useLive(
    async () => {
      const [fn, versions, aliases] = await Promise.all([getFunction(name), listVersions(name), listAliases(name)]);
      return { config: fn.Configuration, location: fn.Code.Location, versions, aliases };
    },
    [name],
    (c) => c.kind === 'function' && c.name === name,
  );
  const data = live.data;
  return (
    <>
      <p class="crumbs">
        <a href={href.overview()}>Overview</a> › Function
      </p>
      <h1>{name}</h1>
      <ErrorNote error={live.error} />
      {data && (
        <div class="grid">
          <Summary config={data.config} location={data.location} />
          <Versions versions={data.versions} />
          <Aliases fn={name} aliases={data.aliases} versions={data.versions} />
          <InvokePanel fn={name} aliases={data.aliases} versions={data.versions} />
          <AsyncQueue fn={name} />
          <Watch fn={name} />
        </div>
      )}
    </>
  );
}

/** The function's asynchronous (Event) invocations waiting in the queue, refreshed every two seconds. */
function AsyncQueue({ fn }: { fn: string }) {
  const live = useLive(
    () => queueDepth(fn),
    [fn],
    () => false,
    2000,
  );
  const d = live.data;
  return (
    <Section title="Asynchronous queue" id="queue">
      <ErrorNote error={live.error} />
      {d && d.pending + d.running === 0 && <Empty>No Event invocations waiting.</Empty>}
      {d && d.pending + d.running > 0 && (
        <p>
          <strong>{d.pending}</strong> waiting (new or for a retry), <strong>{d.running}</strong> running.
        </p>
      )}
    </Section>
  );
}

function Summary({ config, location }: { config: FunctionConfig; location: string }) {
  const [editing, setEditing] = useState(false);
  const [description, setDescription] = useState('');
  const [published, setPublished] = useState<FunctionConfig>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const publish = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setPublished(await publishVersion(config.FunctionName, description));
      setDescription('');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section
      title="$LATEST"
      id="latest"
      actions={
        <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
          {editing ? 'Close editor' : 'Edit code'}
        </button>
      }
    >
      <dl class="facts">
        <dt>Runtime</dt>
        <dd>{config.Runtime}</dd>
        <dt>Handler</dt>
        <dd>
          <code>{config.Handler}</code>
        </dd>
        <dt>CodeSha256</dt>
        <dd>
          <code title={config.CodeSha256}>{shortSha(config.CodeSha256)}</code>
        </dd>
        <dt>Last modified</dt>
        <dd>{new Date(config.LastModified).toLocaleString()}</dd>
        <dt>State</dt>
        <dd>{config.State ?? 'Active'}</dd>
      </dl>
      {editing && <CodeEditor fn={config.FunctionName} location={location} sha={config.CodeSha256} />}
      <form class="row" onSubmit={(e) => void publish(e)} aria-label="Publish version">
        <label class="grow">
          New version's description
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} placeholder="optional" />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Publish version
        </button>
      </form>
      {published && (
        <p class="note" role="status">
          Published version {published.Version} ({shortSha(published.CodeSha256)}).
        </p>
      )}
      <ErrorNote error={error} label="PublishVersion" />
    </Section>
  );
}

function CodeEditor({ fn, location, sha }: { fn: string; location: string; sha: string }) {
  const [files, setFiles] = useState<PackageFiles>();
  const [file, setFile] = useState<string>('');
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    readCode(location).then(
      (f) => {
        setFiles(f);
        setFile(Object.keys(f).find((n) => typeof f[n] === 'string') ?? '');
      },
      (err: unknown) => setError(err),
    );
    // Read again only when the code itself changed.
  }, [sha]);
  if (!files) return error ? <ErrorNote error={error} /> : <p class="muted">Loading the code…</p>;
  const text = files[file];
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await updateFunctionCode(fn, files);
      setSaved(true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack" onSubmit={(e) => void save(e)} aria-label="Edit code">
      <label>
        File
        <select value={file} onChange={(e) => setFile(e.currentTarget.value)}>
          {Object.keys(files)
            .filter((n) => typeof files[n] === 'string')
            .map((n) => (
              <option key={n}>{n}</option>
            ))}
        </select>
      </label>
      {typeof text === 'string' && (
        <label>
          Contents of {file}
          <textarea
            class="code"
            rows={8}
            spellcheck={false}
            value={text}
            onInput={(e) => {
              setFiles({ ...files, [file]: e.currentTarget.value });
              setSaved(false);
            }}
          />
        </label>
      )}
      <div class="row">
        <button type="submit" disabled={busy}>
          Save to $LATEST
        </button>
        {saved && (
          <span class="note" role="status">
            Saved. Publish a version to freeze it.
          </span>
        )}
      </div>
      <ErrorNote error={error} label="UpdateFunctionCode" />
    </form>
  );
}

function Versions({ versions }: { versions: FunctionConfig[] }) {
  return (
    <Section title="Versions" id="versions">
      <table>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Description</th>
            <th scope="col">CodeSha256</th>
            <th scope="col">Date</th>
          </tr>
        </thead>
        <tbody>
          {[...versions]
            .sort((a, b) => (a.Version === '$LATEST' ? -1 : b.Version === '$LATEST' ? 1 : Number(b.Version) - Number(a.Version)))
            .map((v) => (
              <tr key={v.Version}>
                <td>
                  <span class="swatch" style={{ background: versionColor(v.Version) }} aria-hidden="true" /> {v.Version}
                </td>
                <td>{v.Description || <span class="muted">–</span>}</td>
                <td>
                  <code title={v.CodeSha256}>{shortSha(v.CodeSha256)}</code>
                </td>
                <td>{new Date(v.LastModified).toLocaleString()}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </Section>
  );
}

function Aliases({ fn, aliases, versions }: { fn: string; aliases: AliasConfig[]; versions: FunctionConfig[] }) {
  const [editing, setEditing] = useState<string | undefined>();
  const versionNames = versions.map((v) => v.Version);
  return (
    <Section
      title="Aliases"
      id="aliases"
      actions={
        <button type="button" onClick={() => setEditing(editing === '' ? undefined : '')} aria-expanded={editing === ''}>
          {editing === '' ? 'Cancel' : 'Create alias'}
        </button>
      }
    >
      {editing === '' && <AliasForm fn={fn} versions={versionNames} onDone={() => setEditing(undefined)} />}
      {aliases.length === 0 && editing !== '' && (
        <Empty>No aliases. An alias is a name that points at one version, or splits traffic between two.</Empty>
      )}
      <ul class="plain alias-list">
        {aliases.map((a) => (
          <li key={a.Name} class="alias">
            <div class="row spread">
              <strong>{a.Name}</strong>
              <span class="muted">{a.Description}</span>
              <span class="row">
                <button
                  type="button"
                  onClick={() => setEditing(editing === a.Name ? undefined : a.Name)}
                  aria-expanded={editing === a.Name}
                >
                  {editing === a.Name ? 'Cancel' : `Edit ${a.Name}`}
                </button>
              </span>
            </div>
            <WeightBar shares={aliasShares(a)} label={`alias ${a.Name}`} />
            {editing === a.Name && <AliasForm fn={fn} versions={versionNames} alias={a} onDone={() => setEditing(undefined)} />}
          </li>
        ))}
      </ul>
    </Section>
  );
}

/** Create or edit an alias. Nothing is checked here: the API's own answer is shown as it comes. */
function AliasForm({ fn, versions, alias, onDone }: { fn: string; versions: string[]; alias?: AliasConfig; onDone: () => void }) {
  const extra = Object.entries(alias?.RoutingConfig?.AdditionalVersionWeights ?? {})[0];
  const [name, setName] = useState(alias?.Name ?? '');
  const [version, setVersion] = useState(alias?.FunctionVersion ?? versions.find((v) => v !== '$LATEST') ?? '$LATEST');
  const [description, setDescription] = useState(alias?.Description ?? '');
  const [extraVersion, setExtraVersion] = useState(extra?.[0] ?? '');
  const [weight, setWeight] = useState(extra ? String(extra[1]) : '0.5');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const id = `alias-${alias?.Name ?? 'new'}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    const input = {
      FunctionVersion: version,
      Description: description,
      weights: extraVersion ? { [extraVersion]: weight.trim() === '' ? NaN : Number(weight) } : {},
    };
    try {
      if (alias) await updateAlias(fn, alias.Name, input);
      else await createAlias(fn, name, input);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!alias) return;
    setBusy(true);
    try {
      await deleteAlias(fn, alias.Name);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="stack alias-form"
      onSubmit={(e) => void submit(e)}
      aria-label={alias ? `Edit alias ${alias.Name}` : 'Create alias'}
      noValidate
    >
      <div class="row">
        {!alias && (
          <label>
            Alias name
            <input value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
          </label>
        )}
        <label>
          Version
          <select value={version} onChange={(e) => setVersion(e.currentTarget.value)}>
            {versions.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
        <label>
          Additional version
          <select value={extraVersion} onChange={(e) => setExtraVersion(e.currentTarget.value)}>
            <option value="">none</option>
            {versions.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
        {extraVersion && (
          <label>
            Its weight (0–1)
            <input id={`${id}-weight`} inputMode="decimal" value={weight} onInput={(e) => setWeight(e.currentTarget.value)} size={6} />
          </label>
        )}
      </div>
      <label>
        Description
        <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      <ErrorNote error={error} label={alias ? 'UpdateAlias' : 'CreateAlias'} />
      <div class="row">
        <button type="submit" class="primary" disabled={busy}>
          {alias ? `Save ${alias.Name}` : 'Create alias'}
        </button>
        {alias && (
          <button type="button" class="danger" onClick={() => void remove()} disabled={busy}>
            Delete {alias.Name}
          </button>
        )}
      </div>
    </form>
  );
}

interface Split {
  total: number;
  errors: number;
  byVersion: Record<string, number>;
}

function InvokePanel({ fn, aliases, versions }: { fn: string; aliases: AliasConfig[]; versions: FunctionConfig[] }) {
  const qualifiers = [...aliases.map((a) => a.Name), ...versions.map((v) => v.Version)];
  const [qualifier, setQualifier] = useState(qualifiers[0] ?? '$LATEST');
  const [payload, setPayload] = useState('{}');
  const [count, setCount] = useState('1');
  const [result, setResult] = useState<InvokeResult>();
  const [split, setSplit] = useState<Split>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setSplit(undefined);
    const n = Math.max(1, Math.min(1000, Math.floor(Number(count)) || 1));
    try {
      if (n === 1) {
        setResult(await invoke(fn, qualifier, payload));
      } else {
        const tally: Split = { total: 0, errors: 0, byVersion: {} };
        let next = 0;
        let last: InvokeResult | undefined;
        const worker = async () => {
          while (next < n) {
            next++;
            last = await invoke(fn, qualifier, payload);
            tally.total++;
            if (last.functionError) tally.errors++;
            tally.byVersion[last.executedVersion] = (tally.byVersion[last.executedVersion] ?? 0) + 1;
            setSplit({ ...tally, byVersion: { ...tally.byVersion } });
          }
        };
        await Promise.all([worker(), worker(), worker(), worker()]);
        setResult(last);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Invoke" id="invoke">
      <form class="stack" onSubmit={(e) => void run(e)} aria-label="Invoke">
        <div class="row">
          <label>
            Qualifier
            <select value={qualifier} onChange={(e) => setQualifier(e.currentTarget.value)}>
              {qualifiers.map((q) => (
                <option key={q} value={q}>
                  {aliases.some((a) => a.Name === q) ? `${q} (alias)` : q === '$LATEST' ? q : `version ${q}`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Invocations
            <input type="number" min={1} max={1000} value={count} onInput={(e) => setCount(e.currentTarget.value)} size={5} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Invoking…' : 'Invoke'}
          </button>
        </div>
        <label>
          Payload (JSON)
          <textarea class="code" rows={3} spellcheck={false} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
        </label>
      </form>
      <ErrorNote error={error} label="Invoke" />
      {split && (
        <div class="split" aria-live="polite">
          <h3>
            {split.total} invocations by executed version{split.errors ? `, ${split.errors} failed` : ''}
          </h3>
          <WeightBar
            label="executed versions"
            shares={Object.entries(split.byVersion).map(([v, c]) => ({ label: v === '$LATEST' ? v : `v${v}`, weight: c / split.total }))}
          />
          <ul class="plain split-counts">
            {Object.entries(split.byVersion)
              .sort()
              .map(([v, c]) => (
                <li key={v}>
                  version {v}: <strong>{c}</strong>
                </li>
              ))}
          </ul>
        </div>
      )}
      {result && (
        <div class="result" aria-live="polite">
          <p>
            Executed version <strong class="executed-version">{result.executedVersion}</strong> · status {result.status}
            {result.functionError && <span class="status status-bad"> {result.functionError} error</span>}
          </p>
          <pre class="output" aria-label="Response">
            {result.payload}
          </pre>
          {result.logTail && (
            <details open>
              <summary>Log tail</summary>
              <pre class="output log">{result.logTail}</pre>
            </details>
          )}
        </div>
      )}
    </Section>
  );
}

const versionLabel = (v: string) => (v === '$LATEST' ? v : `v${v}`);

/** Refresh period for charts: one metric bucket (60 platform seconds), between 1 and 10 real seconds. */
const chartRefreshMs = () => Math.max(1000, Math.min(10_000, 60_000 / timeScale()));

/** The function's metrics and logs, over one range of platform time. */
function Watch({ fn }: { fn: string }) {
  const [range, setRange] = useTimeWindow();
  return (
    <>
      <Metrics fn={fn} range={range} picker={<WindowPicker id="metrics-range" value={range} onChange={setRange} />} />
      <Logs fn={fn} range={range} />
    </>
  );
}

function Metrics({ fn, range, picker }: { fn: string; range: TimeWindow; picker: ComponentChildren }) {
  const { period } = range;
  const live = useLive(
    async () => {
      const found = await listMetrics('AWS/Lambda', 'Invocations', [{ Name: 'FunctionName', Value: fn }]);
      const series = found
        .map((m) => {
          const dim = (n: string) => m.Dimensions.find((d) => d.Name === n)?.Value;
          const resource = dim('Resource');
          const executed = dim('ExecutedVersion');
          if (!resource) return undefined;
          const qualifier = resource === fn ? undefined : resource.slice(fn.length + 1);
          if (executed !== undefined)
            return { label: `${versionLabel(executed)} via ${qualifier ?? ''}`, version: executed, dims: m.Dimensions };
          if (qualifier === undefined) return { label: '$LATEST (unqualified)', version: '$LATEST', dims: m.Dimensions };
          if (qualifier === '$LATEST' || /^\d+$/.test(qualifier))
            return { label: qualifier === '$LATEST' ? qualifier : `v${qualifier}`, version: qualifier, dims: m.Dimensions };
          return undefined; // an alias total: its versions are drawn one by one
        })
        .filter((s) => s !== undefined)
        .sort((a, b) => a.label.localeCompare(b.label));
      const end = await platformTime();
      const start = end - range.minutes * 60_000;
      const queries: MetricQuery[] = series.flatMap((s, i) => [
        { id: `i${i}`, label: s.label, namespace: 'AWS/Lambda', metric: 'Invocations', dimensions: s.dims, stat: 'Sum', period },
        { id: `e${i}`, label: s.label, namespace: 'AWS/Lambda', metric: 'Errors', dimensions: s.dims, stat: 'Sum', period },
        { id: `d${i}`, label: s.label, namespace: 'AWS/Lambda', metric: 'Duration', dimensions: s.dims, stat: 'p99', period },
      ]);
      const results = await getMetricData(queries, start, end);
      const lines = (prefix: string): Line[] =>
        series.map((s, i) => {
          const r = results.find((x) => x.id === `${prefix}${i}`);
          return {
            label: s.label,
            times: r?.times ?? [],
            values: r?.values ?? [],
            color: versionColor(s.version),
            dash: s.label.includes(' via ') ? false : true,
          };
        });
      return { from: start / 1000, to: end / 1000, invocations: lines('i'), errors: lines('e'), duration: lines('d') };
    },
    [fn, range.minutes],
    () => false,
    chartRefreshMs(),
  );
  const d = live.data;
  const per = periodLabel(period);
  return (
    <Section title="Metrics per version" id="metrics" wide actions={picker}>
      <ErrorNote error={live.error} />
      {d && d.invocations.length === 0 && <Empty>No invocations yet.</Empty>}
      {d && d.invocations.length > 0 && (
        <div class="charts">
          <Chart title={`Invocations per ${per}`} lines={d.invocations} from={d.from} to={d.to} period={period} />
          <Chart title={`Errors per ${per}`} lines={d.errors} from={d.from} to={d.to} period={period} />
          <Chart title="Duration p99 (ms)" lines={d.duration} from={d.from} to={d.to} period={period} />
        </div>
      )}
    </Section>
  );
}

/**
 * Where a follower has read up to: the newest timestamp, and the ids already shown at it (startTime is
 * inclusive). An event dated ahead of when it was taken in (PutLogEvents accepts two hours ahead) is
 * shown but does not move the cursor, or everything logged until then would be skipped; it is
 * remembered apart until the cursor passes it.
 */
interface FollowCursor {
  time: number;
  seen: Set<string>;
  ahead: Map<string, number>;
  /** Where the last read stopped at its bounds, to go on from. */
  token?: string;
  /** Reads so far: while lines dated ahead were shown, every tenth reads on past them (for new ones). */
  polls: number;
}

/** Up to just before the earliest line dated ahead already shown, so that it is not read again at every turn. */
function readUpTo(c: FollowCursor): number | undefined {
  if (c.ahead.size === 0 || c.token !== undefined || c.polls++ % 10 === 0) return undefined;
  let earliest = Infinity;
  for (const at of c.ahead.values()) if (at < earliest) earliest = at;
  return earliest - 1 < c.time ? undefined : earliest - 1;
}

/** True for an event the follower has not shown yet; moves the cursor past it. */
function unseen(c: FollowCursor, e: LogEvent): boolean {
  if (e.timestamp < c.time || (e.timestamp === c.time && c.seen.has(e.eventId)) || c.ahead.has(e.eventId)) return false;
  if (e.ingestionTime !== undefined && e.timestamp > e.ingestionTime + 1000) {
    c.ahead.set(e.eventId, e.timestamp);
    return true;
  }
  if (e.timestamp > c.time) {
    c.time = e.timestamp;
    c.seen = new Set();
    for (const [id, time] of c.ahead) if (time < c.time) c.ahead.delete(id);
  }
  c.seen.add(e.eventId);
  return true;
}

/** Longest message shown whole: the page keeps 300 events, and a line may be 256 KB. */
const SHOWN_CHARS = 8192;

/** A log event as the panel shows it: its message clipped at SHOWN_CHARS, and how many characters were left out. */
type ShownEvent = LogEvent & { more?: number };

function clipped(e: LogEvent): ShownEvent {
  if (e.message.length <= SHOWN_CHARS) return e;
  return { ...e, message: e.message.slice(0, SHOWN_CHARS), more: e.message.length - SHOWN_CHARS };
}

function Logs({ fn, range }: { fn: string; range: TimeWindow }) {
  const [follow, setFollow] = useState(true);
  const [events, setEvents] = useState<ShownEvent[]>([]);
  const [error, setError] = useState<unknown>();
  // Set from the platform clock once the server has said what time it is (at 60x it runs far ahead).
  const cursor = useRef<FollowCursor | undefined>(undefined);
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    cursor.current = undefined;
    setEvents([]);
  }, [fn, range.minutes]);
  useEffect(() => {
    if (!follow) return;
    let stopped = false;
    const poll = async () => {
      while (!stopped) {
        try {
          const c: FollowCursor = (cursor.current ??= {
            time: (await platformTime()) - range.minutes * 60_000,
            seen: new Set(),
            ahead: new Map(),
            polls: 0,
          });
          const read = await filterLogEvents(`/aws/lambda/${fn}`, c.time, c.token, readUpTo(c));
          c.token = read.token;
          const fresh = read.events.filter((e) => unseen(c, e)).map(clipped);
          if (fresh.length && !stopped) setEvents((old) => [...old, ...fresh].slice(-300));
          setError(undefined);
        } catch (err) {
          // A function that never ran has no log group yet: that is not worth an error.
          if ((err as { name?: string }).name !== 'ResourceNotFoundException') setError(err);
        }
        await new Promise((r) => setTimeout(r, 1500));
      }
    };
    void poll();
    return () => {
      stopped = true;
    };
  }, [fn, follow, range.minutes]);
  useEffect(() => {
    const el = box.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [events]);
  return (
    <Section
      title="Logs"
      id="logs"
      wide
      actions={
        <label class="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.currentTarget.checked)} /> Follow live
        </label>
      }
    >
      <ErrorNote error={error} />
      {events.length === 0 ? (
        <Empty>No log events in the last {range.label}.</Empty>
      ) : (
        <pre class="output log tall" ref={box} tabIndex={0} aria-label={`Log events of ${fn}`}>
          {events.map((e) => (
            <span key={e.eventId}>
              <span class="muted">
                <When ms={e.timestamp} /> {streamLabel(e.logStreamName)}
              </span>{' '}
              {/* Isolated: a function's line may carry bidi overrides, which must not reorder the console's own words. */}
              <bdi>{e.more === undefined ? e.message.replace(/\n$/, '') : e.message}</bdi>
              {e.more !== undefined && <span class="muted">… [{e.more} more characters]</span>}
              {'\n'}
            </span>
          ))}
        </pre>
      )}
    </Section>
  );
}

/** `2024/05/01/[3]0123abcd…` → `[3]0123abcd`. */
const streamLabel = (stream: string) => /\/(\[[^\]]+\][0-9a-f]{8})[0-9a-f]*$/.exec(stream)?.[1] ?? stream;
