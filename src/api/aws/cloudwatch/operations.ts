import { PlatformError } from '../../../core/errors.js';
import { Turns } from '../../../core/turns.js';
import type { Logger } from '../../../core/logger.js';
import { checkTags, taggedResourceOf, type Tags } from '../../../domain/tags.js';
import { statisticOf } from '../../../telemetry/alarm-evaluation.js';
import type { AlarmDoc, AlarmHistoryItem, HistoryPlace } from '../../../domain/alarm.js';
import type { AlarmService } from '../../../telemetry/alarms.js';
import { seriesIdOf, sortDimensions, type Dimension } from '../../../domain/metric.js';
import { BEHIND, type Metrics } from '../../../telemetry/metrics.js';
import type { Summary } from '../../../telemetry/summary.js';
import { functionDenied, header, type ApiRequest, type ServiceHandler } from '../protocol/http.js';
import { jsonRpcService, type JsonOperation } from '../protocol/json-rpc.js';
import { queryService } from '../protocol/query.js';
import type { ResourceTags, TagDialect } from '../tagging.js';
import { functionScope } from '../../access/function-scope.js';

export interface CloudWatchApiDeps {
  metrics: Metrics;
  alarms: AlarmService;
  tags: ResourceTags;
  logger: Logger;
  /** How long a GetMetricData request reads before it answers a page (QUERY_TIME_BUDGET_MS unless told). */
  queryBudgetMs?: number;
}

const NAMESPACE_XML = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
/** The query protocol's code for each error shape (from the service model). */
const QUERY_CODES: Record<string, string> = {
  InvalidParameterValueException: 'InvalidParameterValue',
  MissingRequiredParameterException: 'MissingParameter',
  InvalidParameterCombinationException: 'InvalidParameterCombination',
  ResourceNotFound: 'ResourceNotFound',
  InvalidFormatFault: 'InvalidFormat',
  InvalidNextToken: 'InvalidNextToken',
  LimitExceededFault: 'LimitExceeded',
  InternalServiceFault: 'InternalServiceError',
  // A member constraint (an enum value): AWS's JSON answer names the shape, its query code is ValidationError.
  ValidationException: 'ValidationError',
  AccessDeniedException: 'AccessDenied',
};
const queryCode = (e: PlatformError) => QUERY_CODES[e.code] ?? e.code;
/** The error shapes of CloudWatch's model: AWS's JSON answers name them in its namespace. */
const MODEL_ERRORS = new Set([...Object.keys(QUERY_CODES), 'ResourceNotFoundException']);
MODEL_ERRORS.delete('ValidationException');
MODEL_ERRORS.delete('AccessDeniedException');

/**
 * The `__type` of a JSON error as AWS writes it: `com.amazonaws.cloudwatch.v2010_08_01#ResourceNotFound` for a
 * shape of the model, `com.amazon.coral.validate#ValidationException` for a member constraint (the SDKs keep
 * the text after `#`).
 */
function jsonErrorType(e: PlatformError): string {
  if (e.code === 'ValidationException') return 'com.amazon.coral.validate#ValidationException';
  return MODEL_ERRORS.has(e.code) ? `com.amazonaws.cloudwatch.v2010_08_01#${e.code}` : e.code;
}

/**
 * A JSON error's status. The query form's statuses (ResourceNotFound: 404) hold only for a client that says it
 * reads query-compatible errors (`x-amzn-query-mode: true`, as the SDKs send); to any other request AWS answers
 * every client error 400.
 */
function jsonErrorStatus(e: PlatformError, req?: ApiRequest): number {
  if (e.spec.fault !== 'client' || (req !== undefined && header(req, 'x-amzn-query-mode') === 'true')) return e.spec.status;
  return 400;
}
/** The largest magnitude CloudWatch takes for a value (2^360). */
const MAX_VALUE = 2 ** 360;
const invalid = (message: string) => new PlatformError('InvalidParameterValueException', message);

/**
 * Input as either protocol delivers it: JSON gives numbers, booleans, arrays and epoch-second
 * timestamps; the query form gives strings, `member` lists and ISO-8601 timestamps. The readers accept
 * both, so each operation is written once.
 */
type Input = Record<string, unknown>;

const read = {
  str(input: Input, key: string): string | undefined {
    const v = input[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalid(`The parameter ${key} must be a string.`);
    return v;
  },
  num(input: Input, key: string): number | undefined {
    const v = input[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
    if (!Number.isFinite(n)) throw invalid(`The parameter ${key} must be a number; got ${JSON.stringify(v)}.`);
    return n;
  },
  bool(input: Input, key: string): boolean | undefined {
    const v = input[key];
    if (v === undefined || v === null) return undefined;
    return v === true || v === 'true';
  },
  /** A list; the query form's lists may have holes (`X.member.3` alone), which are dropped. */
  list(input: Input, key: string): unknown[] {
    const v = input[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v.filter((x) => x !== undefined);
    throw invalid(`The parameter ${key} must be a list.`);
  },
  strings(input: Input, key: string): string[] {
    const list = read.list(input, key);
    if (!list.every((x) => typeof x === 'string')) throw invalid(`The parameter ${key} must be a list of strings.`);
    return list;
  },
  structures(input: Input, key: string): Input[] {
    const list = read.list(input, key);
    if (!list.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) {
      throw invalid(`The parameter ${key} must be a list of structures.`);
    }
    return list as Input[];
  },
  numbers(input: Input, key: string): number[] {
    return read.list(input, key).map((v, i) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n)) throw invalid(`The parameter ${key}.member.${i + 1} must be a number; got ${JSON.stringify(v)}.`);
      return n;
    });
  },
  obj(input: Input, key: string): Input | undefined {
    const v = input[key];
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Input) : undefined;
  },
  time(input: Input, key: string): number | undefined {
    const v = input[key];
    if (v === undefined || v === null || v === '') return undefined;
    const text = typeof v === 'string' ? v : '';
    const ms = typeof v === 'number' ? v * 1000 : /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
    if (!Number.isFinite(ms)) throw invalid(`The parameter ${key} must be a timestamp; got ${JSON.stringify(v)}.`);
    return ms;
  },
};

const required = <T>(value: T | undefined, name: string): T => {
  if (value === undefined) throw new PlatformError('MissingRequiredParameterException', `The parameter ${name} is required.`);
  return value;
};

/** CloudWatch's answers about tags: every broken rule is an InvalidParameterValue. */
const TAGS: TagDialect = {
  invalid: 'InvalidParameterValueException',
  tooMany: 'InvalidParameterValueException',
  notFound: (r) =>
    new PlatformError('ResourceNotFoundException', `The alarm ${r.name} does not exist.`, {
      body: { ResourceType: 'alarm', ResourceId: r.name },
    }),
};

/** The alarm a tagging ARN names: the only CloudWatch resource Versa has. */
function taggedAlarm(input: Input): { kind: 'alarm'; name: string } {
  const arn = required(read.str(input, 'ResourceARN'), 'ResourceARN');
  const resource = taggedResourceOf(arn);
  if (resource?.kind !== 'alarm') throw invalid(`The value ${arn} for parameter ResourceARN is not the ARN of an alarm.`);
  return resource;
}

/** A list of `{Key, Value}` tags (both required) as a map; undefined when the member is absent. */
function tagList(input: Input, key: string): Tags | undefined {
  if (input[key] === undefined || input[key] === null) return undefined;
  return Object.fromEntries<string>(
    read
      .structures(input, key)
      .map((t, i) => [
        required(read.str(t, 'Key'), `${key}.member.${i + 1}.Key`),
        required(read.str(t, 'Value'), `${key}.member.${i + 1}.Value`),
      ]),
  );
}

/** The most a metric's namespace, name and dimensions may make together in the key it is stored under. */
const MAX_SERIES_KEY_BYTES = 2048;

/** GetMetricData's most datapoints a call (AWS's MaxDatapoints default and maximum). */
const MAX_DATAPOINTS = 100_800;
const TWO_HOURS_MS = 2 * 3600_000;
const TWO_WEEKS_MS = 14 * 86_400_000;

/** AWS's length constraint on a string member, in its words. */
function withinLength(value: string, member: string, max: number): void {
  if (value.length < 1 || value.length > max) {
    throw invalid(`The parameter ${member} must be between 1 and ${max} characters long.`);
  }
}

// eslint-disable-next-line no-control-regex -- the characters refused
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A name of a metric's (namespace, metric name, dimension): no ASCII control characters, as CloudWatch
 * says of dimension names. A name is a key of the store, where PostgreSQL's text cannot hold U+0000.
 */
function nameOfMetric(value: string, member: string, max: number): void {
  withinLength(value, member, max);
  if (CONTROL.test(value)) throw invalid(`The parameter ${member} must not contain ASCII control characters.`);
}

function dimensionsOf(input: Input, key = 'Dimensions'): Dimension[] {
  return read
    .structures(input, key)
    .map((d) => ({ Name: required(read.str(d, 'Name'), `${key}.Name`), Value: read.str(d, 'Value') ?? '' }));
}

/** An opaque page token: the index of the next item. */
/**
 * How long one GetMetricData request reads before it answers with what it has and a NextToken for the
 * rest (the SDKs' paginators follow it): a request of 500 queries over long, dense series otherwise
 * held the event loop for over a minute.
 */
const QUERY_TIME_BUDGET_MS = 1000;
/**
 * GetMetricData requests reading at once, and waiting: each reads for up to its budget, and sixteen
 * reading together (functions may call it) held the event loop for 8-11 s between their queries.
 */
const metricReads = new Turns(2, 16, () => new PlatformError('Throttling', 'Rate exceeded'));

function page<T>(items: T[], token: string | undefined, max: number): { items: T[]; next: string | undefined } {
  const start = token === undefined ? 0 : Number(Buffer.from(token, 'base64url').toString());
  if (!Number.isInteger(start) || start < 0) throw new PlatformError('InvalidNextToken', 'The service returned an invalid NextToken.');
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString('base64url') : undefined;
  return { items: items.slice(start, start + max), next };
}

/** An opaque NextToken carrying the place of the last item shown: the next page starts past it, whatever was written meanwhile. */
const historyToken = (place: HistoryPlace): string => Buffer.from(`history:${place.ts}:${place.seq}`).toString('base64url');

function historyCursor(token: string | undefined): HistoryPlace | undefined {
  if (token === undefined) return undefined;
  const m = /^history:(-?\d{1,16}):(\d{1,16})$/.exec(Buffer.from(token, 'base64url').toString('latin1'));
  if (!m) throw new PlatformError('InvalidNextToken', 'The service returned an invalid NextToken.');
  return { ts: Number(m[1]), seq: Number(m[2]) };
}

function statValues(summary: Summary, statistics: string[], extended: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of statistics) out[s] = statisticOf(summary, s);
  if (extended.length) out.ExtendedStatistics = Object.fromEntries(extended.map((p) => [p, statisticOf(summary, p)]));
  return out;
}

function validatePeriod(period: number | undefined): number {
  const p = required(period, 'Period');
  if (!Number.isInteger(p) || p < 1 || !(p === 1 || p === 5 || p === 10 || p === 20 || p === 30 || p % 60 === 0)) {
    throw invalid(`The parameter Period must be 1, 5, 10, 20, 30 or a multiple of 60; got ${p}.`);
  }
  return p;
}

function alarmShape(region: string, a: AlarmDoc): Record<string, unknown> {
  return {
    AlarmName: a.AlarmName,
    AlarmArn: `arn:aws:cloudwatch:${region}:000000000000:alarm:${a.AlarmName}`,
    AlarmDescription: a.AlarmDescription,
    AlarmConfigurationUpdatedTimestamp: new Date(a.AlarmConfigurationUpdatedTimestamp),
    ActionsEnabled: a.ActionsEnabled,
    OKActions: a.OKActions,
    AlarmActions: a.AlarmActions,
    InsufficientDataActions: a.InsufficientDataActions,
    StateValue: a.StateValue,
    StateReason: a.StateReason,
    StateReasonData: a.StateReasonData,
    StateUpdatedTimestamp: new Date(a.StateUpdatedTimestamp),
    MetricName: a.MetricName,
    Namespace: a.Namespace,
    Statistic: a.Statistic,
    ExtendedStatistic: a.ExtendedStatistic,
    Dimensions: a.Dimensions,
    Period: a.Period,
    Unit: a.Unit,
    EvaluationPeriods: a.EvaluationPeriods,
    DatapointsToAlarm: a.DatapointsToAlarm,
    Threshold: a.Threshold,
    ComparisonOperator: a.ComparisonOperator,
    TreatMissingData: a.TreatMissingData,
    StateTransitionedTimestamp: new Date(a.StateTransitionedTimestamp),
  };
}

function historyShape(h: AlarmHistoryItem): Record<string, unknown> {
  return { ...h, Timestamp: new Date(h.Timestamp) };
}

/**
 * Dimensions that say which function a datapoint is about. A function's key may put data only about
 * itself under them: the data of another function's metric can decide that function's alarm, and so roll
 * back its deployment.
 */
const NAMES_A_FUNCTION = new Set(['FunctionName', 'Resource']);

/** CloudWatch in both forms clients send: JSON 1.0 (`GraniteServiceVersion20100801.*`) and query. */
export function cloudWatchApi({ metrics, alarms, tags, logger, queryBudgetMs = QUERY_TIME_BUDGET_MS }: CloudWatchApiDeps): {
  json: ServiceHandler;
  query: ServiceHandler;
} {
  const operations: Record<string, JsonOperation> = {
    PutMetricData(input, req) {
      const namespace = required(read.str(input, 'Namespace'), 'Namespace');
      if (namespace.startsWith('AWS/'))
        throw invalid(`The value ${namespace.slice(0, 255)} for parameter Namespace is invalid: the AWS/ prefix is reserved.`);
      nameOfMetric(namespace, 'Namespace', 255);
      const data = read.structures(input, 'MetricData');
      if (data.length === 0) throw new PlatformError('MissingRequiredParameterException', 'The parameter MetricData is required.');
      if (data.length > 1000) throw invalid('The collection MetricData must not have more than 1000 members.');
      // Validate everything first: a refused request records nothing.
      const entries = data.map((d, i) => {
        const name = required(read.str(d, 'MetricName'), 'MetricData.MetricName');
        // AWS names the members as the query form does (`MetricData.member.1.Value`), whichever wire was used.
        const member = (field: string) => `MetricData.member.${i + 1}.${field}`;
        nameOfMetric(name, member('MetricName'), 255);
        const value = read.num(d, 'Value');
        const values = read.numbers(d, 'Values');
        const counts = read.numbers(d, 'Counts');
        const stats = read.obj(d, 'StatisticValues');
        if (values.length > 150) throw invalid(`The collection ${member('Values')} must not have more than 150 members.`);
        for (const other of [values.length > 0 && 'Values', stats !== undefined && 'StatisticValues']) {
          if (value !== undefined && other) {
            throw new PlatformError(
              'InvalidParameterCombinationException',
              `The parameters ${member('Value')} and ${member(other)} are mutually exclusive and you have specified both.`,
            );
          }
        }
        // Values with StatisticValues is accepted, as AWS accepts it; each is recorded.
        if (value === undefined && values.length === 0 && stats === undefined) {
          throw new PlatformError(
            'InvalidParameterCombinationException',
            `One of the parameters ${member('Value')}, ${member('Values')} or ${member('StatisticValues')} must be specified.`,
          );
        }
        if (counts.length && counts.length !== values.length) {
          throw invalid(`The parameters ${member('Values')} and ${member('Counts')} must be of the same size.`);
        }
        if ([value, ...values].some((v) => v !== undefined && !Number.isFinite(v))) throw invalid('Metric values must be finite numbers.');
        // CloudWatch takes values within ±2^360 only, a statistic set's too: sums of such stay finite.
        const outOfRange = (v: number | undefined) => v !== undefined && !(Math.abs(v) <= MAX_VALUE);
        const statistic = (field: string) => (stats === undefined ? undefined : read.num(stats, field));
        for (const [field, v] of [
          ['Value', value],
          ...values.map((v, j) => [`Values.member.${j + 1}`, v] as const),
          ...['SampleCount', 'Sum', 'Minimum', 'Maximum'].map((f) => [`StatisticValues.${f}`, statistic(f)] as const),
        ] as const) {
          if (outOfRange(v)) throw invalid(`The value ${v} for parameter ${member(field)} is invalid: it must be within -2^360 to 2^360.`);
        }
        // A count says how many times its value occurred: within the same bound, and at least once, or
        // the sums it multiplies overflow and a minute's statistics become Infinity or NaN for good.
        counts.forEach((c, j) => {
          if (!(c > 0 && c <= MAX_VALUE)) {
            throw invalid(
              `The value ${c} for parameter ${member(`Counts.member.${j + 1}`)} is invalid: it must be greater than 0 and at most 2^360.`,
            );
          }
        });
        const samples = statistic('SampleCount');
        if (samples !== undefined && !(samples >= 1)) {
          throw invalid(`The parameter ${member('StatisticValues.SampleCount')} must be at least 1.`);
        }
        const [minimum, maximum] = [statistic('Minimum'), statistic('Maximum')];
        if (minimum !== undefined && maximum !== undefined && minimum > maximum) {
          throw invalid(
            `The parameter ${member('StatisticValues.Minimum')} must be less than or equal to ${member('StatisticValues.Maximum')}.`,
          );
        }
        const resolution = read.num(d, 'StorageResolution') ?? 60;
        if (resolution !== 1 && resolution !== 60) throw invalid('The parameter StorageResolution must be 1 or 60.');
        const dims = dimensionsOf(d);
        if (dims.length > 30) throw invalid('A metric may have at most 30 dimensions.');
        // Two values of one dimension name would make two series of one metric look alike.
        if (new Set(dims.map((dim) => dim.Name)).size !== dims.length) {
          throw invalid(`The collection ${member('Dimensions')} must not contain duplicate dimension names.`);
        }
        dims.forEach((dim, j) => {
          nameOfMetric(dim.Name, member(`Dimensions.member.${j + 1}.Name`), 255);
          nameOfMetric(dim.Value, member(`Dimensions.member.${j + 1}.Value`), 1024);
        });
        const at = read.time(d, 'Timestamp');
        // On the platform's clock, as every bucket is: a bucket in the future would be held until it came.
        if (at !== undefined && at > metrics.now() + TWO_HOURS_MS) {
          throw invalid(`The parameter ${member('Timestamp')} must specify a time no more than two hours in the future.`);
        }
        if (at !== undefined && at < metrics.now() - TWO_WEEKS_MS) {
          throw invalid(`The parameter ${member('Timestamp')} must specify a time no more than two weeks in the past.`);
        }
        // Versa's own bound, past CloudWatch's: the key a series is stored under is indexed, and PostgreSQL
        // indexes at most about 2.7 KB (30 dimensions of 1,024 random characters took every flush of the node
        // to one statement a point).
        if (Buffer.byteLength(seriesIdOf(namespace, name, dims)) > MAX_SERIES_KEY_BYTES) {
          throw invalid(
            `The namespace, name and dimensions of ${member('MetricName')} together must be at most ${MAX_SERIES_KEY_BYTES} bytes (UTF-8).`,
          );
        }
        if (req.caller && dims.some((dim) => NAMES_A_FUNCTION.has(dim.Name) && dim.Value.split(':')[0] !== req.caller!.function)) {
          throw functionDenied({ describe: () => ({ action: 'cloudwatch:PutMetricData', resource: '*' }) }, 'PutMetricData', req);
        }
        return { name, value, values, counts, stats, resolution, dims, unit: read.str(d, 'Unit'), at };
      });
      const refusal = metrics.refusal(
        namespace,
        entries.map((e) => ({ name: e.name, dimensions: e.dims })),
        req.caller?.function,
      );
      // Custom data coming faster than the store takes it is throttled, as CloudWatch throttles PutMetricData.
      if (refusal === BEHIND) throw new PlatformError('Throttling', refusal);
      if (refusal !== undefined) throw new PlatformError('LimitExceededFault', refusal);
      for (const e of entries) {
        const series = metrics.series(namespace, e.name, e.dims, {
          ...(e.unit !== undefined && { unit: e.unit }),
          resolution: e.resolution,
          ...(req.caller && { owner: req.caller.function }),
        });
        const at = e.at ?? metrics.now();
        if (e.value !== undefined) series.record(e.value, at);
        e.values.forEach((v, i) => series.record(v, at, e.counts[i] ?? 1));
        if (e.stats) {
          series.bucket(at).addStatistics({
            sampleCount: required(read.num(e.stats, 'SampleCount'), 'StatisticValues.SampleCount'),
            sum: required(read.num(e.stats, 'Sum'), 'StatisticValues.Sum'),
            minimum: required(read.num(e.stats, 'Minimum'), 'StatisticValues.Minimum'),
            maximum: required(read.num(e.stats, 'Maximum'), 'StatisticValues.Maximum'),
          });
        }
      }
      return Promise.resolve(undefined);
    },

    async GetMetricStatistics(input, req) {
      const namespace = required(read.str(input, 'Namespace'), 'Namespace');
      const name = required(read.str(input, 'MetricName'), 'MetricName');
      const start = required(read.time(input, 'StartTime'), 'StartTime');
      const end = required(read.time(input, 'EndTime'), 'EndTime');
      const period = validatePeriod(read.num(input, 'Period'));
      const statistics = read.strings(input, 'Statistics');
      const extended = read.strings(input, 'ExtendedStatistics');
      if (statistics.length === 0 && extended.length === 0) {
        throw new PlatformError('MissingRequiredParameterException', 'Either Statistics or ExtendedStatistics must be given.');
      }
      for (const s of statistics)
        if (!STATISTICS.includes(s)) throw invalid(`The parameter Statistics must contain only ${STATISTICS.join(', ')}; got ${s}.`);
      for (const p of extended)
        if (!/^p\d{1,2}(\.\d+)?$|^p100$/.test(p))
          throw invalid(`The parameter ExtendedStatistics must contain percentiles such as p99; got ${p}.`);
      if (end <= start) throw invalid('The parameter StartTime must be less than the parameter EndTime.');
      const points = Math.ceil((end - start) / (period * 1000));
      if (points > 1440) {
        throw new PlatformError(
          'InvalidParameterCombinationException',
          `You have requested up to ${points} datapoints, which exceeds the limit of 1440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
        );
      }
      const dims = dimensionsOf(input);
      const unit = read.str(input, 'Unit');
      // A read takes turns with GetMetricData's (metricReads; a function's key in its share).
      return metricReads.run(async () => {
        const series = await metrics.describe({ namespace, name, dimensions: dims });
        // Each period's statistics as the read passes it (Metrics.eachPeriod): no period's histogram is held past it.
        const datapoints: Record<string, unknown>[] = [];
        await metrics.eachPeriod({ namespace, name, dimensions: dims }, start, end, period, (ts, summary) => {
          datapoints.push({ Timestamp: new Date(ts), ...statValues(summary, statistics, extended), Unit: unit ?? series?.unit ?? 'None' });
        });
        return { Label: name, Datapoints: datapoints };
      }, req.caller?.function);
    },

    async GetMetricData(input, req) {
      const queries = read.structures(input, 'MetricDataQueries');
      if (queries.length === 0)
        throw new PlatformError('MissingRequiredParameterException', 'The parameter MetricDataQueries is required.');
      if (queries.length > 500) throw invalid('The collection MetricDataQueries must not have more than 500 members.');
      const start = required(read.time(input, 'StartTime'), 'StartTime');
      const end = required(read.time(input, 'EndTime'), 'EndTime');
      if (end <= start) throw invalid('The parameter StartTime must be earlier than EndTime.');
      const ascending = read.str(input, 'ScanBy') === 'TimestampAscending';
      const parsed = queries.map((q) => {
        const id = required(read.str(q, 'Id'), 'MetricDataQueries.Id');
        if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
          throw invalid(`The value ${id} for parameter MetricDataQueries.Id is invalid: it must start with a lowercase letter.`);
        if (read.str(q, 'Expression') !== undefined)
          throw invalid('Metric math expressions are not supported by Versa; use MetricStat queries.');
        const stat = read.obj(q, 'MetricStat');
        if (!stat) throw new PlatformError('MissingRequiredParameterException', `The query ${id} needs a MetricStat.`);
        const metric = read.obj(stat, 'Metric') ?? {};
        const statistic = required(read.str(stat, 'Stat'), 'MetricStat.Stat');
        if (!STATISTICS.includes(statistic) && !/^p\d{1,2}(\.\d+)?$|^p100$/.test(statistic))
          throw invalid(`The statistic ${statistic} is not supported.`);
        return {
          id,
          label: read.str(q, 'Label'),
          returnData: read.bool(q, 'ReturnData') ?? true,
          namespace: required(read.str(metric, 'Namespace'), 'Metric.Namespace'),
          name: required(read.str(metric, 'MetricName'), 'Metric.MetricName'),
          dims: dimensionsOf(metric),
          period: validatePeriod(read.num(stat, 'Period')),
          statistic,
        };
      });
      // AWS answers at most 100,800 datapoints a call: what the queries could ask for is bounded before
      // anything is read (500 queries at a 1-second period would be millions, from a 2 KB request).
      if (new Set(parsed.map((q) => q.id)).size !== parsed.length) {
        throw invalid('The values for parameter id in MetricDataQueries are not unique.');
      }
      // A query without a Label is labelled with its metric's name, and with its statistic and its period where
      // these differ between the request's queries, as AWS labels them ("metric1 Sum 60", "metric1 Minimum 30").
      const statsDiffer = new Set(parsed.map((q) => q.statistic)).size > 1;
      const periodsDiffer = new Set(parsed.map((q) => q.period)).size > 1;
      const labelOf = (q: (typeof parsed)[number]) =>
        q.label ?? [q.name, ...(statsDiffer ? [q.statistic] : []), ...(periodsDiffer ? [q.period] : [])].join(' ');
      const askedMax = read.num(input, 'MaxDatapoints');
      if (askedMax !== undefined && !(Number.isInteger(askedMax) && askedMax >= 1)) {
        throw invalid(`The value ${askedMax} for parameter MaxDatapoints is invalid: it must be a positive integer.`);
      }
      const maxDatapoints = Math.min(askedMax ?? MAX_DATAPOINTS, MAX_DATAPOINTS);
      const asked = parsed.reduce((n, q) => n + (q.returnData ? Math.ceil((end - start) / (q.period * 1000)) : 0), 0);
      if (asked > maxDatapoints) {
        throw invalid(
          `The queries ask for up to ${asked} datapoints (each one's time range divided by its period); a request may ask for at most ${maxDatapoints}.`,
        );
      }
      // A page of queries: from the one NextToken names, for as long as QUERY_TIME_BUDGET_MS allows.
      const token = read.str(input, 'NextToken');
      const from = token === undefined ? 0 : Number(/^q(\d{1,3})$/.exec(Buffer.from(token, 'base64url').toString())?.[1] ?? NaN);
      if (!Number.isInteger(from) || from >= parsed.length)
        throw new PlatformError('InvalidNextToken', 'The service returned an invalid NextToken.');
      // Reading takes turns with other requests (metricReads; a function's key in its share); its time budget starts with its turn.
      return metricReads.run(async () => {
        // Queries that read the same metric at the same period share one read, which computes the
        // statistics of them all as it passes each period (Metrics.eachPeriod): what a query holds is
        // its answer's numbers, not every period's histogram until the end.
        const keyOf = (q: (typeof parsed)[number]) => `${q.period}\u0000${seriesIdOf(q.namespace, q.name, sortDimensions(q.dims))}`;
        const wanted = new Map<string, Set<string>>();
        for (const q of parsed) {
          if (q.returnData) wanted.set(keyOf(q), (wanted.get(keyOf(q)) ?? new Set<string>()).add(q.statistic));
        }
        const shared = new Map<string, Promise<{ timestamps: number[]; values: Map<string, number[]> }>>();
        const readOnce = async (q: (typeof parsed)[number]) => {
          const timestamps: number[] = [];
          const values = new Map([...wanted.get(keyOf(q))!].map((stat) => [stat, [] as number[]]));
          await metrics.eachPeriod({ namespace: q.namespace, name: q.name, dimensions: q.dims }, start, end, q.period, (ts, summary) => {
            timestamps.push(ts);
            for (const [stat, out] of values) out.push(statisticOf(summary, stat));
          });
          return { timestamps, values };
        };
        const started = performance.now();
        const results = [];
        let next: number | undefined;
        for (let i = from; i < parsed.length; i++) {
          const q = parsed[i]!;
          if (!q.returnData) continue;
          if (i > from && performance.now() - started > queryBudgetMs) {
            next = i;
            break;
          }
          const key = keyOf(q);
          let read = shared.get(key);
          if (!read) {
            read = readOnce(q);
            shared.set(key, read);
          }
          // In time order; a percentile of each of 100,800 periods was computed with other requests run meanwhile.
          const { timestamps, values } = await read;
          const of = values.get(q.statistic)!;
          results.push({
            Id: q.id,
            Label: labelOf(q),
            Timestamps: (ascending ? timestamps : [...timestamps].reverse()).map((ts) => new Date(ts)),
            Values: ascending ? [...of] : [...of].reverse(),
            StatusCode: 'Complete',
          });
          // Other requests are answered between queries.
          await new Promise((resolve) => setImmediate(resolve));
        }
        return {
          MetricDataResults: results,
          Messages: [],
          ...(next !== undefined && { NextToken: Buffer.from(`q${next}`).toString('base64url') }),
        };
      }, req.caller?.function);
    },

    async ListMetrics(input) {
      const namespace = read.str(input, 'Namespace');
      const name = read.str(input, 'MetricName');
      const filters = read
        .structures(input, 'Dimensions')
        .map((d) => ({ Name: required(read.str(d, 'Name'), 'Dimensions.Name'), Value: read.str(d, 'Value') }));
      if (filters.length > 10) throw invalid('The collection Dimensions must not have more than 10 members.');
      const recent = read.str(input, 'RecentlyActive');
      if (recent !== undefined && recent !== 'PT3H') throw invalid('The parameter RecentlyActive must be PT3H.');
      const since = recent ? metrics.now() - 3 * 3_600_000 : 0;
      // Series ids begin with the namespace and the name: a filter on them is a range of ids.
      const prefix = namespace === undefined ? '' : name === undefined ? `${namespace}\u0000` : seriesIdOf(namespace, name, []);
      const token = read.str(input, 'NextToken');
      const after = token === undefined ? '' : Buffer.from(token, 'base64url').toString('utf8');
      if (token !== undefined && (after === '' || !after.startsWith(prefix))) {
        throw new PlatformError('InvalidNextToken', 'The service returned an invalid NextToken.');
      }
      const { items, more } = await metrics.page({
        prefix,
        after,
        limit: 500,
        wanted: (s) =>
          (name === undefined || s.name === name) &&
          s.lastSeen >= since &&
          filters.every((f) => s.dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || d.Value === f.Value))),
      });
      const last = items[items.length - 1];
      return {
        Metrics: items.map((s) => ({ Namespace: s.namespace, MetricName: s.name, Dimensions: s.dimensions })),
        NextToken: more && last ? Buffer.from(last.seriesId, 'utf8').toString('base64url') : undefined,
      };
    },

    async PutMetricAlarm(input) {
      const newTags = tagList(input, 'Tags');
      if (newTags) checkTags(newTags, {}, TAGS);
      const name = read.str(input, 'AlarmName');
      // As on AWS, Tags apply only when the call creates the alarm; an update leaves its tags to TagResource.
      const isNew = name !== undefined && (await alarms.describeAlarms({ names: [name] })).length === 0;
      await alarms.putMetricAlarm({
        AlarmName: read.str(input, 'AlarmName'),
        AlarmDescription: read.str(input, 'AlarmDescription'),
        ActionsEnabled: read.bool(input, 'ActionsEnabled'),
        OKActions: read.strings(input, 'OKActions'),
        AlarmActions: read.strings(input, 'AlarmActions'),
        InsufficientDataActions: read.strings(input, 'InsufficientDataActions'),
        Namespace: read.str(input, 'Namespace'),
        MetricName: read.str(input, 'MetricName'),
        Dimensions: sortDimensions(dimensionsOf(input)),
        Statistic: read.str(input, 'Statistic'),
        ExtendedStatistic: read.str(input, 'ExtendedStatistic'),
        Period: read.num(input, 'Period'),
        Unit: read.str(input, 'Unit'),
        EvaluationPeriods: read.num(input, 'EvaluationPeriods'),
        DatapointsToAlarm: read.num(input, 'DatapointsToAlarm'),
        Threshold: read.num(input, 'Threshold'),
        ComparisonOperator: read.str(input, 'ComparisonOperator'),
        TreatMissingData: read.str(input, 'TreatMissingData'),
      });
      if (isNew && newTags) await tags.add({ kind: 'alarm', name }, newTags, TAGS);
      return undefined;
    },

    async ListTagsForResource(input) {
      // An alarm that does not exist, or no longer does, has no tags: AWS answers an empty list, not an error.
      const own = await tags.listOrNone(taggedAlarm(input));
      return { Tags: Object.entries(own).map(([Key, Value]) => ({ Key, Value })) };
    },

    async TagResource(input) {
      const add = tagList(input, 'Tags');
      if (add === undefined) throw new PlatformError('MissingRequiredParameterException', 'The parameter Tags is required.');
      await tags.add(taggedAlarm(input), add, TAGS);
      // An empty result, not none: the query protocol's clients expect <TagResourceResult/>.
      return {};
    },

    async UntagResource(input) {
      const keys = read.strings(input, 'TagKeys');
      if (input.TagKeys === undefined) throw new PlatformError('MissingRequiredParameterException', 'The parameter TagKeys is required.');
      await tags.remove(taggedAlarm(input), keys, TAGS);
      return {};
    },

    async DescribeAlarms(input, req) {
      const max = read.num(input, 'MaxRecords') ?? 50;
      if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('The parameter MaxRecords must be between 1 and 100.');
      const types = read.strings(input, 'AlarmTypes');
      const wantsMetric = types.length === 0 || types.includes('MetricAlarm');
      const found = wantsMetric
        ? await alarms.describeAlarms({
            names: read.strings(input, 'AlarmNames'),
            prefix: read.str(input, 'AlarmNamePrefix'),
            state: read.str(input, 'StateValue'),
            actionPrefix: read.str(input, 'ActionPrefix'),
          })
        : [];
      const { items, next } = page(found, read.str(input, 'NextToken'), max);
      return { MetricAlarms: items.map((a) => alarmShape(req.region, a)), CompositeAlarms: [], NextToken: next };
    },

    async DescribeAlarmsForMetric(input, req) {
      const namespace = required(read.str(input, 'Namespace'), 'Namespace');
      const name = required(read.str(input, 'MetricName'), 'MetricName');
      const dims = sortDimensions(dimensionsOf(input));
      const found = (await alarms.describeAlarms({})).filter(
        (a) => a.Namespace === namespace && a.MetricName === name && (dims.length === 0 || sameDimensions(a.Dimensions, dims)),
      );
      return { MetricAlarms: found.map((a) => alarmShape(req.region, a)) };
    },

    async DescribeAlarmHistory(input) {
      const max = read.num(input, 'MaxRecords') ?? 100;
      if (!Number.isInteger(max) || max < 1 || max > 100) throw invalid('The parameter MaxRecords must be between 1 and 100.');
      const type = read.str(input, 'HistoryItemType');
      if (type !== undefined && !['ConfigurationUpdate', 'StateUpdate', 'Action'].includes(type)) {
        throw invalid(`The parameter HistoryItemType must be ConfigurationUpdate, StateUpdate or Action; got ${type}.`);
      }
      const after = historyCursor(read.str(input, 'NextToken'));
      const { items, next } = await alarms.history(
        {
          ...(read.str(input, 'AlarmName') !== undefined && { alarmName: read.str(input, 'AlarmName') }),
          ...(type !== undefined && { type }),
          ...(read.time(input, 'StartDate') !== undefined && { from: read.time(input, 'StartDate') }),
          ...(read.time(input, 'EndDate') !== undefined && { to: read.time(input, 'EndDate') }),
        },
        { ...(after && { after }), ascending: read.str(input, 'ScanBy') === 'TimestampAscending', limit: max },
      );
      return { AlarmHistoryItems: items.map(historyShape), NextToken: next && historyToken(next) };
    },

    async SetAlarmState(input) {
      await alarms.setAlarmState(
        read.str(input, 'AlarmName'),
        read.str(input, 'StateValue'),
        read.str(input, 'StateReason'),
        read.str(input, 'StateReasonData'),
      );
      return undefined;
    },

    async DeleteAlarms(input) {
      await alarms.deleteAlarms(read.strings(input, 'AlarmNames'));
      return undefined;
    },

    async EnableAlarmActions(input) {
      await alarms.setActionsEnabled(read.strings(input, 'AlarmNames'), true);
      return undefined;
    },

    async DisableAlarmActions(input) {
      await alarms.setActionsEnabled(read.strings(input, 'AlarmNames'), false);
      return undefined;
    },
  };

  const errorHeaders = (e: PlatformError) => ({
    'x-amzn-query-error': `${queryCode(e)};${e.spec.fault === 'client' ? 'Sender' : 'Receiver'}`,
  });
  const scope = functionScope('cloudwatch');
  const jsonHandler = jsonRpcService(
    {
      targetPrefix: 'GraniteServiceVersion20100801',
      contentType: 'application/x-amz-json-1.0',
      operations: withJsonTimes(operations),
      errorType: jsonErrorType,
      errorStatus: jsonErrorStatus,
      errorHeaders,
      scope,
      deniedStatus: 403,
    },
    logger,
  );

  const queryHandler = queryService({
    namespace: NAMESPACE_XML,
    operations,
    codes: QUERY_CODES,
    invalid,
    scope,
    logger,
  });
  return { json: jsonHandler, query: queryHandler };
}

/** JSON answers carry timestamps as epoch seconds. */
function withJsonTimes(operations: Record<string, JsonOperation>): Record<string, JsonOperation> {
  const convert = (v: unknown): unknown => {
    if (v instanceof Date) return v.getTime() / 1000;
    if (Array.isArray(v)) return v.map(convert);
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([, x]) => x !== undefined)
          .map(([k, x]) => [k, convert(x)]),
      );
    return v;
  };
  return Object.fromEntries(Object.entries(operations).map(([name, op]) => [name, async (input, req) => convert(await op(input, req))]));
}

function sameDimensions(a: readonly Dimension[], b: readonly Dimension[]): boolean {
  const x = sortDimensions(a);
  const y = sortDimensions(b);
  return x.length === y.length && x.every((d, i) => d.Name === y[i]!.Name && d.Value === y[i]!.Value);
}
