import { jsonRpc } from './aws';

export interface LogEvent {
  eventId: string;
  timestamp: number;
  /** When the server took it in (its platform clock). */
  ingestionTime?: number;
  message: string;
  logStreamName: string;
}

/** What one read gathers at most: a group of 256 KB lines must not pull gigabytes into the page. */
const MAX_EVENTS = 5000;
const MAX_CHARS = 2_000_000;

/**
 * FilterLogEvents from `startTime` (ms) on, or on from `token` (where an earlier read stopped), following
 * pages until MAX_EVENTS events or MAX_CHARS characters of messages. `token` is where this read stopped
 * in turn, when it did: a follower goes on from there on its next turn, not from a timestamp (more than
 * a read's worth at one moment would otherwise be read again at every turn, and nothing after it).
 */
export async function filterLogEvents(
  group: string,
  startTime: number,
  token?: string,
  /** The last moment to read up to, inclusive; undefined for all. */
  endTime?: number,
): Promise<{ events: LogEvent[]; token?: string }> {
  const events: LogEvent[] = [];
  let chars = 0;
  let nextToken = token;
  do {
    const page = await jsonRpc<{ events?: LogEvent[]; nextToken?: string }>('Logs_20140328', 'FilterLogEvents', {
      logGroupName: group,
      // A Long on the wire: the platform clock's milliseconds can be fractional.
      startTime: Math.floor(startTime),
      ...(endTime !== undefined && { endTime: Math.floor(endTime) }),
      ...(nextToken && { nextToken }),
    });
    for (const e of page.events ?? []) {
      events.push(e);
      chars += e.message.length;
    }
    nextToken = page.nextToken;
  } while (nextToken && events.length < MAX_EVENTS && chars < MAX_CHARS);
  return { events, ...(nextToken && { token: nextToken }) };
}
