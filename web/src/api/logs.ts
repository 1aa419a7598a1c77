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
 * FilterLogEvents from `startTime` (ms) on, following pages until MAX_EVENTS events or MAX_CHARS
 * characters of messages: a follower reads the rest on its next turn, from the last one it got.
 */
export async function filterLogEvents(group: string, startTime: number): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  let chars = 0;
  let nextToken: string | undefined;
  do {
    const page = await jsonRpc<{ events?: LogEvent[]; nextToken?: string }>('Logs_20140328', 'FilterLogEvents', {
      logGroupName: group,
      // A Long on the wire: the platform clock's milliseconds can be fractional.
      startTime: Math.floor(startTime),
      ...(nextToken && { nextToken }),
    });
    for (const e of page.events ?? []) {
      out.push(e);
      chars += e.message.length;
    }
    nextToken = page.nextToken;
  } while (nextToken && out.length < MAX_EVENTS && chars < MAX_CHARS);
  return out;
}
