/**
 * Where function log lines go: log groups (`/aws/lambda/<name>`) holding streams (one per execution
 * environment) of timestamped events. Kept in memory, bounded per group; the CloudWatch Logs API reads
 * from here.
 */
export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface LogStreamInfo {
  name: string;
  createdAt: number;
  firstEventAt: number | undefined;
  lastEventAt: number | undefined;
}

interface Stream {
  info: LogStreamInfo;
  events: LogEvent[];
}

export class LogSink {
  private readonly groups = new Map<string, Map<string, Stream>>();

  constructor(
    private readonly now: () => number,
    private readonly maxEventsPerStream = 10_000,
  ) {}

  append(group: string, streamName: string, message: string, timestamp = this.now()): void {
    let streams = this.groups.get(group);
    if (!streams) this.groups.set(group, (streams = new Map<string, Stream>()));
    let stream = streams.get(streamName);
    if (!stream) {
      stream = { info: { name: streamName, createdAt: timestamp, firstEventAt: undefined, lastEventAt: undefined }, events: [] };
      streams.set(streamName, stream);
    }
    stream.events.push({ timestamp, message, ingestionTime: this.now() });
    if (stream.events.length > this.maxEventsPerStream) stream.events.splice(0, stream.events.length - this.maxEventsPerStream);
    stream.info.firstEventAt ??= timestamp;
    stream.info.lastEventAt = timestamp;
  }

  streams(group: string): LogStreamInfo[] {
    return [...(this.groups.get(group)?.values() ?? [])].map((s) => ({ ...s.info }));
  }

  events(group: string, streamName: string): LogEvent[] {
    return [...(this.groups.get(group)?.get(streamName)?.events ?? [])];
  }

  /** Every event of a group across its streams, in time order. */
  groupEvents(group: string): (LogEvent & { stream: string })[] {
    const out: (LogEvent & { stream: string })[] = [];
    for (const [name, s] of this.groups.get(group) ?? []) for (const e of s.events) out.push({ ...e, stream: name });
    return out.sort((a, b) => a.timestamp - b.timestamp);
  }

  deleteGroup(group: string): void {
    this.groups.delete(group);
  }
}
