import { FilterLogEventsCommand, type CloudWatchLogsClient, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { describeError, endpointUrl, logsClient } from './client.js';
import { parseFlags } from './flags.js';
import { printable } from './printable.js';

const POLL_MS = 1000;
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `versa logs FUNCTION`: the function's log events across its streams (one per execution environment) in
 * time order. With --follow it keeps polling and prints new events until Ctrl-C. A name starting with `/`
 * is taken as a log group name as it is.
 */
export async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args,
    strict: true,
    allowPositionals: true,
    options: { follow: { type: 'boolean', short: 'f' }, since: { type: 'string' }, 'endpoint-url': { type: 'string' } },
  });
  const target = positionals[0];
  if (!target || positionals.length > 1) {
    process.stderr.write('versa logs: name one function, e.g. `versa logs my-function --since 10m --follow`.\n');
    return 2;
  }
  let startTime: number | undefined;
  if (values.since !== undefined) {
    const m = /^(\d+)([smhdw])$/.exec(values.since);
    if (!m) {
      process.stderr.write(`versa logs: --since takes a number and a unit (s, m, h, d or w), e.g. 10m or 2h; got ${values.since}.\n`);
      return 2;
    }
    startTime = Date.now() - Number(m[1]) * UNITS[m[2]!]!;
  }
  const group = target.startsWith('/') ? target : `/aws/lambda/${target}`;
  const endpoint = endpointUrl(values['endpoint-url']);
  const client = logsClient(endpoint);

  let stopped = false;
  let wake: (() => void) | undefined;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const cursor: Cursor = { time: startTime ?? 0, seen: new Set(), ahead: new Map(), polls: 0 };
    for (;;) {
      for (const event of await newEvents(client, group, cursor)) process.stdout.write(format(event));
      if (!values.follow || stopped) return 0;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, POLL_MS);
      });
      if (stopped) return 0;
    }
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceNotFoundException') {
      process.stderr.write(
        `versa logs: there are no logs for ${target.startsWith('/') ? `log group ${group}` : `function ${target}`}; it does not exist or has not run yet.\n`,
      );
    } else {
      process.stderr.write(`versa logs: ${describeError(err, endpoint)}\n`);
    }
    return 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    client.destroy();
  }
}

/**
 * Where a follower has read up to: the newest timestamp printed, and the ids printed at it
 * (FilterLogEvents' startTime is inclusive). An event dated ahead of when it was taken in (PutLogEvents
 * accepts two hours ahead) is printed but does not move the cursor, or everything logged until then
 * would be skipped; it is remembered apart until the cursor passes it.
 */
interface Cursor {
  time: number;
  seen: Set<string>;
  ahead: Map<string, number>;
  polls: number;
}

/**
 * Events from `cursor.time` on that were not printed yet. While events dated ahead were printed, a
 * poll reads only up to the earliest of them (every tenth reads on past them, for new ones): they
 * would otherwise be read again in full at every poll until the clock reaches them.
 */
async function newEvents(client: CloudWatchLogsClient, group: string, cursor: Cursor): Promise<FilteredLogEvent[]> {
  const out: FilteredLogEvent[] = [];
  let endTime: number | undefined;
  if (cursor.ahead.size > 0 && cursor.polls++ % 10 !== 0) {
    endTime = Infinity;
    for (const at of cursor.ahead.values()) if (at < endTime) endTime = at;
    endTime = endTime - 1 < cursor.time ? undefined : endTime - 1;
  }
  let nextToken: string | undefined;
  do {
    const page = await client.send(new FilterLogEventsCommand({ logGroupName: group, startTime: cursor.time, endTime, nextToken }));
    for (const e of page.events ?? []) {
      const time = e.timestamp ?? 0;
      const id = e.eventId ?? '';
      if (time < cursor.time || (time === cursor.time && cursor.seen.has(id)) || cursor.ahead.has(id)) continue;
      out.push(e);
      if (e.ingestionTime !== undefined && time > e.ingestionTime + 1000) {
        cursor.ahead.set(id, time);
        continue;
      }
      if (time > cursor.time) {
        cursor.time = time;
        cursor.seen = new Set();
        for (const [ahead, at] of cursor.ahead) if (at < time) cursor.ahead.delete(ahead);
      }
      cursor.seen.add(id);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/** `2024-05-01T12:00:00.000Z [$LATEST]0123abcd message`: the stream shortened to its version and id prefix. */
function format(e: FilteredLogEvent): string {
  const stream = e.logStreamName ?? '';
  const short = /^\d{4}\/\d{2}\/\d{2}\/(\[[^\]]+\][0-9a-f]{8})[0-9a-f]*$/.exec(stream)?.[1] ?? stream;
  // A line of an event's own is indented: it cannot pass for another event, or for a line of Versa's.
  const message = printable(e.message ?? '').replace(/\n(?!$)/g, '\n    ');
  return `${new Date(e.timestamp ?? 0).toISOString()} ${short} ${message}${message.endsWith('\n') ? '' : '\n'}`;
}
