import { PlatformError, type ErrorCode } from '../../../core/errors.js';
import { Turns } from '../../../core/turns.js';
import { ACCOUNT_ID } from '../../../domain/arn.js';
import type { Logger } from '../../../core/logger.js';
import { checkTags, taggedResourceOf, type Tags } from '../../../domain/tags.js';
import { Violations } from '../../../domain/validation.js';
import { compileFilterPattern } from '../../../telemetry/log-filter.js';
import { RETENTION_DAYS, type LogSink } from '../../../telemetry/log-sink.js';
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogPosition, LogStreamRecord, StreamPage } from '../../../domain/log.js';
import { functionDenied, type ApiRequest, type ServiceHandler } from '../protocol/http.js';
import { jsonRpcService, type JsonOperation } from '../protocol/json-rpc.js';
import { memberReader } from '../protocol/members.js';
import type { ResourceTags, TagDialect } from '../tagging.js';
import { functionScope } from '../../access/function-scope.js';

export interface LogsApiDeps {
  logs: LogSink;
  tags: ResourceTags;
  logger: Logger;
}

const ACCOUNT = '000000000000';
const GROUP_NAME = /^[.\-_/#A-Za-z0-9]+$/;
const STREAM_NAME = /^[^:*]*$/;
/** Log groups DescribeLogGroups reads from the store at once when it filters by logGroupNamePattern, and at most in one call. */
const PATTERN_SCAN_CHUNK = 500;
const PATTERN_SCAN_GROUPS = 5000;
/** Most events one FilterLogEvents call looks at before answering with a nextToken. */
const FILTER_SCAN_BUDGET = 100_000;
/**
 * How long one FilterLogEvents or GetLogEvents call reads before it answers what it found with a token
 * for the rest (as AWS may: an answer with few or no events and a token is a search still under way),
 * and how long a scan matches before the server answers others. A pattern costs at most a few
 * milliseconds per 256 KB event (log-filter.ts), so neither is overrun by much.
 */
const READ_TIME_BUDGET_MS = 500;
const FILTER_SLICE_MS = 10;
/** Reads at once, and waiting: two keep a core busy between them; a flood of them waits, then is throttled. */
const logReads = new Turns(2, 16, () => new PlatformError('ThrottlingException', 'Rate exceeded'));
/** Events read from the store at a time: at most 100 × 256 KB held while an answer fills. */
const READ_CHUNK = 100;
/** AWS's cap on a GetLogEvents or FilterLogEvents answer: 1 MB of events, each its message's UTF-8 bytes and 26. */
const MAX_ANSWER_BYTES = 1_048_576;
const eventBytes = (e: LogEventRecord) => Buffer.byteLength(e.message) + 26;

/**
 * Up to `limit` events of `query` in its direction, read from the store a chunk at a time and no more
 * than fit in an answer of 1 MB (one at least, as an event is at most 256 KB). The server answers others
 * between reads, and a call that has read for READ_TIME_BUDGET_MS answers what it has: a read of events
 * that crowd one moment parses every chunk that holds them each time (log-chunks.ts).
 */
function readAnswer(
  logs: LogSink,
  query: LogEventQuery,
  limit: number,
  stream: string,
  /** The function whose key reads, which takes its turn with the others' (Turns). */
  who: string | undefined,
): Promise<LogEventRecord[]> {
  return logReads.run(async () => {
    const started = performance.now();
    const out: LogEventRecord[] = [];
    let bytes = 0;
    let next = query;
    for (;;) {
      const want = Math.min(READ_CHUNK, limit - out.length);
      const chunk = await logs.events({ ...next, limit: want }, stream);
      for (const e of chunk) {
        bytes += eventBytes(e);
        if (out.length > 0 && bytes > MAX_ANSWER_BYTES) return out;
        out.push(e);
      }
      const last = chunk[chunk.length - 1];
      if (!last || chunk.length < want || out.length >= limit || performance.now() - started > READ_TIME_BUDGET_MS) return out;
      const at = { timestamp: last.timestamp, seq: last.seq };
      next = query.descending ? { ...query, before: at } : { ...query, after: at };
      await new Promise((resolve) => setImmediate(resolve));
    }
  }, who);
}
/** PutLogEvents: a batch's size counts each message's UTF-8 bytes plus 26. */
const MAX_BATCH_BYTES = 1_048_576;

type Input = Record<string, unknown>;

/**
 * CloudWatch Logs (JSON 1.1, `Logs_20140328.*`). Errors carry `message` (the JSON-RPC codec's key) and answer
 * 400 as AWS's do; an internal error is named ServiceUnavailableException, Logs' server fault.
 */
export function logsApi(deps: LogsApiDeps): ServiceHandler {
  return jsonRpcService(
    {
      targetPrefix: 'Logs_20140328',
      scope: functionScope('logs'),
      contentType: 'application/x-amz-json-1.1',
      operations: operations(deps),
      errorName: (e) => (e.code === 'ServiceException' ? 'ServiceUnavailableException' : e.code),
      errorStatus: (e) => (e.spec.fault === 'client' ? 400 : 500),
    },
    deps.logger,
  );
}

/**
 * DescribeLogGroups' page of the groups whose names contain `pattern`, after `after`: read
 * PATTERN_SCAN_CHUNK groups at a time and at most PATTERN_SCAN_GROUPS a call, the server answering
 * others between chunks. Past that a page holds fewer groups than asked (none, even) with a nextToken
 * where the scan stopped, as CloudWatch Logs' pages may: reading every group of the store for each
 * call cost time and memory in their number, which an operator's key does not bound.
 */
async function groupsMatching(logs: LogSink, pattern: string, after: string | undefined, size: number, region: string) {
  const found: LogGroupRecord[] = [];
  let cursor = after;
  let scanned = 0;
  let exhausted = false;
  scan: while (scanned < PATTERN_SCAN_GROUPS) {
    const chunk = await logs.listGroups({ ...(cursor !== undefined && { after: cursor }), limit: PATTERN_SCAN_CHUNK });
    for (const group of chunk) {
      scanned++;
      cursor = group.name;
      if (group.name.includes(pattern)) found.push(group);
      if (found.length > size) break scan;
    }
    if (chunk.length < PATTERN_SCAN_CHUNK) {
      exhausted = true;
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const page = found.slice(0, size);
  const resumeAt = found.length > size ? page[page.length - 1]!.name : exhausted ? undefined : cursor;
  return {
    // AWS's answer to a pattern search leaves out storedBytes and deletionProtectionEnabled.
    logGroups: page.map((g) => {
      const { storedBytes: _bytes, deletionProtectionEnabled: _protection, ...found } = groupShape(g, region);
      return found;
    }),
    ...(resumeAt !== undefined && { nextToken: encodeToken(resumeAt) }),
  };
}

function operations({ logs, tags }: LogsApiDeps): Record<string, JsonOperation> {
  return {
    async CreateLogGroup(input, req) {
      const name = groupName(input);
      ownGroupOnly(req, name, 'CreateLogGroup');
      const newTags = tagMap(input, 'tags', false);
      if (newTags) checkTags(newTags, {}, TAGS);
      await logs.createGroup(name);
      if (newTags) await tags.add({ kind: 'log-group', name }, newTags, TAGS);
      return {};
    },

    async ListTagsForResource(input) {
      return { tags: await tags.list(taggedGroup(input), TAGS) };
    },

    async TagResource(input) {
      await tags.add(taggedGroup(input), tagMap(input, 'tags', true), TAGS);
      return {};
    },

    async UntagResource(input) {
      await tags.remove(taggedGroup(input), tagKeys(input, 'tagKeys'), TAGS);
      return {};
    },

    async ListTagsLogGroup(input) {
      return { tags: await tags.list({ kind: 'log-group', name: groupName(input) }, TAGS) };
    },

    async TagLogGroup(input) {
      await tags.add({ kind: 'log-group', name: groupName(input) }, tagMap(input, 'tags', true), TAGS);
      return {};
    },

    async UntagLogGroup(input) {
      await tags.remove({ kind: 'log-group', name: groupName(input) }, tagKeys(input, 'tags'), TAGS);
      return {};
    },

    async DeleteLogGroup(input) {
      await logs.deleteGroup(groupName(input));
      return {};
    },

    async DescribeLogGroups(input, req) {
      const prefix = optString(input, 'logGroupNamePrefix');
      const pattern = optString(input, 'logGroupNamePattern');
      const limit = optInteger(input, 'limit');
      const token = optString(input, 'nextToken');
      new Violations()
        .length(prefix, 'logGroupNamePrefix', 1, 512)
        .pattern(prefix, 'logGroupNamePrefix', GROUP_NAME, '[\\.\\-_/#A-Za-z0-9]+')
        .length(pattern, 'logGroupNamePattern', 0, 512)
        .range(limit, 'limit', 1, 50)
        .length(token, 'nextToken', 1, Infinity)
        .throwIfAny('InvalidParameterException');
      if (prefix !== undefined && pattern !== undefined) {
        throw new PlatformError(
          'InvalidParameterException',
          'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
        );
      }
      const after = token === undefined ? undefined : decodeToken(token, (v): v is string => typeof v === 'string');
      const size = limit ?? 50;
      if (pattern !== undefined) return groupsMatching(logs, pattern, after, size, req.region);
      const groups = await logs.listGroups({ prefix, after, limit: size + 1 });
      const page = groups.slice(0, size);
      return {
        logGroups: page.map((g) => groupShape(g, req.region)),
        ...(groups.length > size && { nextToken: encodeToken(page[page.length - 1]!.name) }),
      };
    },

    async PutRetentionPolicy(input) {
      const name = groupName(input);
      const days = optInteger(input, 'retentionInDays');
      if (days === undefined) throw missing('retentionInDays');
      if (!RETENTION_DAYS.includes(days)) {
        new Violations()
          .add(days, 'retentionInDays', `Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`)
          .throwIfAny('InvalidParameterException');
      }
      await logs.putRetention(name, days);
      return {};
    },

    async DeleteRetentionPolicy(input) {
      await logs.deleteRetention(groupName(input));
      return {};
    },

    async CreateLogStream(input, req) {
      const group = groupName(input);
      ownGroupOnly(req, group, 'CreateLogStream');
      const stream = streamName(input, 'logStreamName');
      await logs.createStream(group, stream, req.caller === undefined ? undefined : FUNCTION_MAX_STREAMS);
      return {};
    },

    async DescribeLogStreams(input, req) {
      // AWS refuses both names here as a malformed request, not a bad parameter.
      const group = groupNameOrIdentifier(input, 'ValidationException');
      const prefix = optString(input, 'logStreamNamePrefix');
      const orderBy = optString(input, 'orderBy') ?? 'LogStreamName';
      const descending = optBoolean(input, 'descending') ?? false;
      const limit = optInteger(input, 'limit');
      const token = optString(input, 'nextToken');
      const v = new Violations()
        .length(prefix, 'logStreamNamePrefix', 1, 512)
        .range(limit, 'limit', 1, 50)
        .length(token, 'nextToken', 1, Infinity);
      if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') {
        v.add(orderBy, 'orderBy', 'Member must satisfy enum value set: [LogStreamName, LastEventTime]');
      }
      v.throwIfAny('InvalidParameterException');
      if (orderBy === 'LastEventTime' && prefix !== undefined) {
        throw new PlatformError('InvalidParameterException', 'Cannot order by LastEventTime with a logStreamNamePrefix.');
      }
      const key = (s: LogStreamRecord): [number, string] => (orderBy === 'LastEventTime' ? [s.lastEventAt ?? 0, s.name] : [0, s.name]);
      const after = token === undefined ? undefined : decodeToken(token, isStreamKey);
      const size = limit ?? 50;
      // The store reads one page (and one more stream, to know whether another page follows), not the group.
      const streams = await logs.listStreams(group, prefix, {
        orderBy: orderBy as StreamPage['orderBy'],
        descending,
        ...(after !== undefined && { after }),
        limit: size + 1,
      });
      const page = streams.slice(0, size);
      return {
        logStreams: page.map((s) => streamShape(s, req.region)),
        ...(streams.length > size && { nextToken: encodeToken(key(page[page.length - 1]!)) }),
      };
    },

    async PutLogEvents(input, req) {
      const group = groupName(input);
      ownGroupOnly(req, group, 'PutLogEvents');
      const stream = streamName(input, 'logStreamName');
      const raw = input.logEvents;
      if (raw === undefined || raw === null) throw missing('logEvents');
      if (!Array.isArray(raw)) throw wrongType('logEvents', 'a list of log events');
      const events = raw.map((e: unknown, i) => {
        if (typeof e !== 'object' || e === null) throw wrongType(`logEvents.${i + 1}`, 'a log event');
        const timestamp = optInteger(e as Input, 'timestamp');
        const message = optString(e as Input, 'message');
        if (timestamp === undefined) throw missing(`logEvents.${i + 1}.member.timestamp`);
        if (message === undefined) throw missing(`logEvents.${i + 1}.member.message`);
        return { timestamp, message };
      });
      const v = new Violations();
      if (events.length < 1 || events.length > 10_000) {
        v.add(
          `[${events.length} events]`,
          'logEvents',
          `Member must have length ${events.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10000'}`,
        );
      }
      events.forEach((e, i) => {
        v.range(e.timestamp, `logEvents.${i + 1}.member.timestamp`, 0, Number.MAX_SAFE_INTEGER);
        v.length(e.message, `logEvents.${i + 1}.member.message`, 1, Infinity);
      });
      v.throwIfAny('InvalidParameterException');
      const bytes = events.reduce((sum, e) => sum + Buffer.byteLength(e.message, 'utf8') + 26, 0);
      if (bytes > MAX_BATCH_BYTES) {
        throw new PlatformError(
          'InvalidParameterException',
          `Log event batch is ${bytes} bytes; the most PutLogEvents accepts is ${MAX_BATCH_BYTES}.`,
        );
      }
      const result = await logs.putEvents(group, stream, events);
      const rejected = {
        ...(result.tooNewLogEventStartIndex !== undefined && { tooNewLogEventStartIndex: result.tooNewLogEventStartIndex }),
        ...(result.tooOldLogEventEndIndex !== undefined && { tooOldLogEventEndIndex: result.tooOldLogEventEndIndex }),
        ...(result.expiredLogEventEndIndex !== undefined && { expiredLogEventEndIndex: result.expiredLogEventEndIndex }),
      };
      return { nextSequenceToken: result.nextSequenceToken, ...(Object.keys(rejected).length > 0 && { rejectedLogEventsInfo: rejected }) };
    },

    async GetLogEvents(input, req) {
      const group = groupNameOrIdentifier(input);
      const stream = streamName(input, 'logStreamName');
      const startTime = optInteger(input, 'startTime');
      const endTime = optInteger(input, 'endTime');
      const limit = optInteger(input, 'limit');
      const token = optString(input, 'nextToken');
      const startFromHead = optBoolean(input, 'startFromHead') ?? false;
      new Violations()
        .range(startTime, 'startTime', 0, Number.MAX_SAFE_INTEGER)
        .range(endTime, 'endTime', 0, Number.MAX_SAFE_INTEGER)
        .range(limit, 'limit', 1, 10_000)
        .length(token, 'nextToken', 1, Infinity)
        .throwIfAny('InvalidParameterException');
      const position = token === undefined ? undefined : parsePositionToken(token);
      const base: LogEventQuery = {
        groupName: group,
        streamNames: [stream],
        ...(startTime !== undefined && { from: startTime }),
        ...(endTime !== undefined && { to: endTime }),
        limit: 0,
      };
      const size = limit ?? 10_000;
      let events: LogEventRecord[];
      if (position?.direction === 'f') events = await readAnswer(logs, { ...base, after: position }, size, stream, req.caller?.function);
      else if (position?.direction === 'b')
        events = (await readAnswer(logs, { ...base, before: position, descending: true }, size, stream, req.caller?.function)).reverse();
      else if (startFromHead) events = await readAnswer(logs, base, size, stream, req.caller?.function);
      else events = (await readAnswer(logs, { ...base, descending: true }, size, stream, req.caller?.function)).reverse();
      const first = events[0];
      const last = events[events.length - 1];
      // With nothing to return, the tokens stay where the caller was, so polling the forward token picks
      // up exactly what arrives next.
      const forward =
        last ?? (position?.direction === 'b' ? { timestamp: position.timestamp, seq: position.seq - 1 } : (position ?? START));
      const backward =
        first ?? (position?.direction === 'f' ? { timestamp: position.timestamp, seq: position.seq + 1 } : (position ?? START));
      return {
        events: events.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
        nextForwardToken: positionToken('f', forward),
        nextBackwardToken: positionToken('b', backward),
      };
    },

    async FilterLogEvents(input, req) {
      const group = groupNameOrIdentifier(input);
      const streamNames = optStringList(input, 'logStreamNames');
      const prefix = optString(input, 'logStreamNamePrefix');
      const startTime = optInteger(input, 'startTime');
      const endTime = optInteger(input, 'endTime');
      const pattern = optString(input, 'filterPattern');
      const limit = optInteger(input, 'limit');
      const token = optString(input, 'nextToken');
      optBoolean(input, 'interleaved');
      const v = new Violations()
        .length(prefix, 'logStreamNamePrefix', 1, 512)
        .range(startTime, 'startTime', 0, Number.MAX_SAFE_INTEGER)
        .range(endTime, 'endTime', 0, Number.MAX_SAFE_INTEGER)
        .length(pattern, 'filterPattern', 0, 1024)
        .range(limit, 'limit', 1, 10_000)
        .length(token, 'nextToken', 1, Infinity);
      if (streamNames !== undefined && (streamNames.length < 1 || streamNames.length > 100)) {
        v.add(
          streamNames,
          'logStreamNames',
          `Member must have length ${streamNames.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
        );
      }
      v.throwIfAny('InvalidParameterException');
      if (streamNames !== undefined && prefix !== undefined) {
        throw new PlatformError('InvalidParameterException', 'You cannot specify both logStreamNames and logStreamNamePrefix.');
      }
      const matches = compileFilterPattern(pattern);
      let cursor = token === undefined ? undefined : decodeToken(token, isPosition);
      const size = limit ?? 10_000;
      const found: LogEventRecord[] = [];
      let scanned = 0;
      let exhausted = false;
      const query: LogEventQuery = {
        groupName: group,
        ...(streamNames !== undefined && { streamNames }),
        ...(prefix !== undefined && { streamPrefix: prefix }),
        ...(startTime !== undefined && { from: startTime }),
        ...(endTime !== undefined && { to: endTime + 1 }),
        limit: READ_CHUNK,
      };
      let bytes = 0;
      let stop = false;
      await logReads.run(async () => {
        const started = performance.now();
        let slice = started;
        // Scan in chunks: the pattern is matched here, so a chunk may yield fewer events than it holds.
        for (;;) {
          const chunk = await logs.events({ ...query, ...(cursor && { after: cursor }) });
          let i = 0;
          for (; i < chunk.length && found.length < size; i++) {
            const e = chunk[i]!;
            if (performance.now() - slice > FILTER_SLICE_MS) {
              // The server answers others between slices; a scan that has had its time answers what it found.
              if (scanned + i > 0 && performance.now() - started > READ_TIME_BUDGET_MS) {
                stop = true;
                break;
              }
              await new Promise((resolve) => setImmediate(resolve));
              slice = performance.now();
            }
            if (matches(e.message)) {
              // An answer is 1 MB at most: the event that would pass it is the next page's first.
              bytes += eventBytes(e);
              if (found.length > 0 && bytes > MAX_ANSWER_BYTES) {
                stop = true;
                break;
              }
              found.push(e);
            }
            cursor = { timestamp: e.timestamp, seq: e.seq };
          }
          scanned += i;
          if (stop) break;
          if (i === chunk.length && chunk.length < query.limit) {
            exhausted = true;
            break;
          }
          if (found.length >= size || scanned >= FILTER_SCAN_BUDGET || performance.now() - started > READ_TIME_BUDGET_MS) break;
        }
      }, req.caller?.function);
      return {
        events: found.map((e) => ({
          logStreamName: e.streamName,
          timestamp: e.timestamp,
          message: e.message,
          ingestionTime: e.ingestionTime,
          eventId: eventId(e),
        })),
        // No longer supported by AWS since May 2020: always an empty list (it was every stream of the group).
        searchedLogStreams: [],
        ...(!exhausted && cursor && { nextToken: encodeToken(cursor) }),
      };
    },
  };
}

// Shapes

function groupShape(g: LogGroupRecord, region: string) {
  const arn = `arn:aws:logs:${region}:${ACCOUNT}:log-group:${g.name}`;
  return {
    logGroupName: g.name,
    creationTime: g.createdAt,
    ...(g.retentionInDays !== undefined && { retentionInDays: g.retentionInDays }),
    metricFilterCount: 0,
    arn: `${arn}:*`,
    storedBytes: g.storedBytes,
    logGroupClass: 'STANDARD',
    logGroupArn: arn,
    deletionProtectionEnabled: false,
  };
}

function streamShape(s: LogStreamRecord, region: string) {
  return {
    logStreamName: s.name,
    creationTime: s.createdAt,
    ...(s.firstEventAt !== undefined && { firstEventTimestamp: s.firstEventAt }),
    ...(s.lastEventAt !== undefined && { lastEventTimestamp: s.lastEventAt }),
    ...(s.lastIngestionAt !== undefined && { lastIngestionTime: s.lastIngestionAt }),
    arn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:${s.groupName}:log-stream:${s.name}`,
    // AWS reports 0 here since 2019; the group's storedBytes carries the size.
    storedBytes: 0,
  };
}

// Tokens. GetLogEvents' are AWS-shaped: `f/` or `b/`, 56 digits (28 of timestamp, 28 of sequence), `/s`.
// The others are opaque base64url JSON.

const START: LogPosition = { timestamp: 0, seq: 0 };

function positionToken(direction: 'f' | 'b', p: LogPosition): string {
  return `${direction}/${String(p.timestamp).padStart(28, '0')}${String(Math.max(0, p.seq)).padStart(28, '0')}/s`;
}

function parsePositionToken(token: string): LogPosition & { direction: 'f' | 'b' } {
  const m = /^([fb])\/(\d{28})(\d{28})(?:\/s)?$/.exec(token);
  const timestamp = Number(m?.[2]);
  const seq = Number(m?.[3]);
  if (!m || !Number.isSafeInteger(timestamp) || !Number.isSafeInteger(seq)) throw badToken();
  return { direction: m[1] as 'f' | 'b', timestamp, seq };
}

function eventId(e: LogPosition): string {
  return `${String(e.timestamp).padStart(28, '0')}${String(e.seq).padStart(28, '0')}`;
}

const isPosition = (v: unknown): v is LogPosition =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as LogPosition).timestamp) && Number.isSafeInteger((v as LogPosition).seq);

const isStreamKey = (v: unknown): v is [number, string] =>
  Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'string';

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken<T>(token: string, valid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badToken();
  }
  // No token Versa issues holds U+0000 (names and keys cannot), so one that does was not issued here.
  if (!valid(value) || JSON.stringify(value).includes('\\u0000')) throw badToken();
  return value;
}

const badToken = () => new PlatformError('InvalidParameterException', 'The specified nextToken is invalid.');

// Members

function wrongType(member: string, expected: string): PlatformError {
  return new PlatformError('SerializationException', `Could not read request member ${member}: expected ${expected}.`);
}

function missing(member: string): PlatformError {
  return new PlatformError(
    'InvalidParameterException',
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );
}

const read = memberReader(wrongType);
const optString = read.string;
const optInteger = read.integer;
const optBoolean = read.boolean;
const optStringList = read.stringList;

function groupName(input: Input): string {
  const name = optString(input, 'logGroupName');
  if (name === undefined) throw missing('logGroupName');
  if (name.length > 512) throw tooLong();
  new Violations()
    .length(name, 'logGroupName', 1, 512)
    .pattern(name, 'logGroupName', GROUP_NAME, '[\\.\\-_/#A-Za-z0-9]+')
    .throwIfAny('InvalidParameterException');
  return name;
}

/** AWS's one answer for a log group or stream name over 512 characters. */
const tooLong = () =>
  new PlatformError('InvalidParameterException', 'Invalid LogGroup or LogStream, both must have length less than or equal to 512.');

function streamName(input: Input, member: string): string {
  const name = optString(input, member);
  if (name === undefined) throw missing(member);
  if (name.length > 512) throw tooLong();
  const violations = new Violations().length(name, member, 1, 512).pattern(name, member, STREAM_NAME, '[^:*]*');
  // U+0000 is refused too, on every store: PostgreSQL cannot hold it, and SQLite would.
  if (name.includes('\u0000')) violations.add(name, member, 'Member must not contain the character U+0000');
  violations.throwIfAny('InvalidParameterException');
  return name;
}

/** `logGroupName`, or `logGroupIdentifier` (a name or a log group ARN), exactly one of them; `bothCode` refuses both. */
function groupNameOrIdentifier(input: Input, bothCode: ErrorCode = 'InvalidParameterException'): string {
  const identifier = optString(input, 'logGroupIdentifier');
  if (identifier === undefined) {
    if (input.logGroupName === undefined || input.logGroupName === null) {
      throw new PlatformError('InvalidParameterException', 'Should provide either logGroupName or logGroupIdentifier.');
    }
    return groupName(input);
  }
  if (input.logGroupName !== undefined && input.logGroupName !== null) {
    throw new PlatformError(bothCode, 'LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  const arn = /^arn:aws[a-z-]*:logs:[a-z0-9-]*:\d{12}:log-group:([^:]+)(?::\*)?$/.exec(identifier);
  return groupName({ logGroupName: arn ? arn[1] : identifier });
}

// Tags

const TAGS: TagDialect = {
  invalid: 'InvalidParameterException',
  tooMany: 'TooManyTagsException',
  notFound: () => new PlatformError('ResourceNotFoundException', 'The specified log group does not exist.'),
};

/** The log group a tagging ARN names (`...:log-group:NAME`, with or without the trailing `:*`). */
function taggedGroup(input: Input): { kind: 'log-group'; name: string } {
  const arn = optString(input, 'resourceArn');
  if (arn === undefined) throw missing('resourceArn');
  const resource = taggedResourceOf(arn);
  if (resource?.kind !== 'log-group') {
    throw new PlatformError(
      'InvalidParameterException',
      `${arn} is not the ARN of a log group, the only resource Versa tags in CloudWatch Logs.`,
    );
  }
  return resource;
}

/**
 * The streams a function's key may make its group hold (AWS sets no number): each is a row of the store
 * that no size limit trims, so without one a function could grow the store by the million.
 */
export const FUNCTION_MAX_STREAMS = 10_000;

/**
 * A function's key writes only the function's own group, `/aws/lambda/NAME`, as the role Lambda gives a
 * function by default does: no forged lines in another function's log, and no groups by the thousand
 * (the per-group size limit bounds each group, not their number).
 */
function ownGroupOnly(req: ApiRequest, group: string, operation: string): void {
  const caller = req.caller;
  // A sandbox's request signed with no key of Versa's names no function, and owns no group.
  if (caller === undefined || (caller.function !== '' && group === `/aws/lambda/${caller.function}`)) return;
  throw functionDenied(
    {
      describe: () => ({
        action: `logs:${operation}`,
        resource: `arn:aws:logs:${req.region}:${ACCOUNT_ID}:log-group:${group}:log-stream:`,
      }),
    },
    operation,
    req,
  );
}

/** A `tags` map of 1 to 50 entries; required by the tagging operations, optional on CreateLogGroup. */
function tagMap(input: Input, member: string, required: true): Tags;
function tagMap(input: Input, member: string, required: false): Tags | undefined;
function tagMap(input: Input, member: string, required: boolean): Tags | undefined {
  const tags = read.stringMap(input, member);
  if (tags === undefined) {
    if (required) throw missing(member);
    return undefined;
  }
  const count = Object.keys(tags).length;
  if (count < 1) {
    new Violations().add(tags, member, 'Member must have length greater than or equal to 1').throwIfAny('InvalidParameterException');
  }
  if (count > 50) throw new PlatformError('TooManyTagsException', `A log group can have at most 50 tags; the request has ${count}.`);
  // AWS's patterns for tag keys and values admit letters, digits, spaces and `_.:/=+-@`: U+0000 is never one,
  // and refused here whichever store is behind (PostgreSQL cannot hold it).
  for (const [key, value] of Object.entries(tags)) {
    if (key.includes('\u0000') || value.includes('\u0000')) {
      new Violations()
        .add(key, `${member}.${key.includes('\u0000') ? 'key' : 'value'}`, 'Member must not contain the character U+0000')
        .throwIfAny('InvalidParameterException');
    }
  }
  return tags;
}

function tagKeys(input: Input, member: string): string[] {
  const keys = optStringList(input, member);
  if (keys === undefined) throw missing(member);
  return keys;
}
