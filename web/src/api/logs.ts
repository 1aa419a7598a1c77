import { jsonRpc } from './aws';

export interface LogEvent {
  eventId: string;
  timestamp: number;
  message: string;
  logStreamName: string;
}

/** FilterLogEvents from `startTime` (ms) on, following pages. */
export async function filterLogEvents(group: string, startTime: number): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await jsonRpc<{ events?: LogEvent[]; nextToken?: string }>('Logs_20140328', 'FilterLogEvents', {
      logGroupName: group,
      // A Long on the wire: the platform clock's milliseconds can be fractional.
      startTime: Math.floor(startTime),
      ...(nextToken && { nextToken }),
    });
    out.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken && out.length < 5000);
  return out;
}
