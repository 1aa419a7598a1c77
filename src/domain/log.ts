/** The shapes of CloudWatch Logs data as the store keeps it: groups, their streams, and stream events. */

export interface LogGroupRecord {
  name: string;
  /** Epoch ms of platform time. */
  createdAt: number;
  /** The group's retention policy; undefined when none was set. */
  retentionInDays: number | undefined;
  /** UTF-8 bytes of the messages the group holds. */
  storedBytes: number;
}

export interface LogStreamRecord {
  groupName: string;
  name: string;
  createdAt: number;
  firstEventAt: number | undefined;
  lastEventAt: number | undefined;
  lastIngestionAt: number | undefined;
  storedBytes: number;
}

/**
 * One page of a group's streams (DescribeLogStreams): by name, or by last event time (none counts as 0)
 * then name; ascending or descending; only those after `after`, the previous page's last key.
 */
export interface StreamPage {
  orderBy: 'LogStreamName' | 'LastEventTime';
  descending: boolean;
  /** `[last event time or 0 (always 0 by name), name]` of the previous page's last stream. */
  after?: readonly [number, string];
  limit: number;
}

/** An event on its way into the store. */
export interface NewLogEvent {
  groupName: string;
  streamName: string;
  /** When it happened (the writer's claim; for function logs, the platform clock). */
  timestamp: number;
  message: string;
  /** When the platform received it (platform clock). */
  ingestionTime: number;
}

/** Where an event sits in a group's order: by timestamp, then by the order the store received events. */
export interface LogPosition {
  timestamp: number;
  seq: number;
}

export interface LogEventRecord extends LogPosition {
  streamName: string;
  message: string;
  ingestionTime: number;
}

export interface LogEventQuery {
  groupName: string;
  /** Only these streams. */
  streamNames?: readonly string[];
  /** Only streams whose name starts with this. */
  streamPrefix?: string;
  /** timestamp >= from. */
  from?: number;
  /** timestamp < to. */
  to?: number;
  /** Strictly after this position. */
  after?: LogPosition;
  /** Strictly before this position. */
  before?: LogPosition;
  /** Newest first. */
  descending?: boolean;
  limit: number;
}
