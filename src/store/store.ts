import type { AsyncEventRecord, EventInvokeConfigRecord } from '../domain/async-event.js';
import type { AliasRecord, FunctionRecord, VersionRecord } from '../domain/lambda-function.js';
import type { DeploymentState } from '../domain/deployment.js';
import type { DeploymentDoc, RestApiDoc, StageDoc } from '../domain/rest-api.js';
import type { ApplicationDoc, DeploymentConfigDoc, DeploymentGroupDoc } from '../domain/code-deploy.js';
import type { AlarmDoc, AlarmHistoryItem, HistoryPlace } from '../domain/alarm.js';
import type { StackDoc, StackEvent, StackResource } from '../domain/stack.js';
import type { TaggedResource, Tags } from '../domain/tags.js';
import type { ParameterDoc } from '../domain/parameter.js';
import type { BucketDoc, ObjectDoc, PartDoc, UploadDoc } from '../domain/s3.js';
import type { MetricPoint, MetricSeriesDoc } from '../domain/metric.js';
import type { LogEventQuery, LogEventRecord, LogGroupRecord, LogStreamRecord, NewLogEvent, StreamPage } from '../domain/log.js';

/**
 * The persistence boundary. Every method is async so that a networked database can implement the same
 * interface; services never see SQL. One repository per aggregate.
 */
export interface Store {
  readonly functions: FunctionRepository;
  readonly versions: VersionRepository;
  readonly aliases: AliasRepository;
  readonly code: CodeRepository;
  readonly policies: PolicyRepository;
  readonly settings: SettingsRepository;
  readonly restApis: RestApiRepository;
  readonly deployments: DeploymentRepository;
  readonly stages: StageRepository;
  readonly metrics: MetricRepository;
  readonly alarms: AlarmRepository;
  readonly logs: LogRepository;
  readonly codeDeploy: CodeDeployRepository;
  readonly stacks: StackRepository;
  readonly asyncEvents: AsyncEventRepository;
  readonly eventInvokeConfigs: EventInvokeConfigRepository;
  readonly tags: TagRepository;
  readonly s3: S3Repository;
  readonly parameters: ParameterRepository;
  readonly cluster: ClusterRepository;
  readonly sessions: SessionRepository;
  /**
   * Runs `work` as one serializable transaction: every write through the `tx` store commits together or
   * not at all, and the outcome is as if no other transaction ran at the same time. When a concurrent
   * write conflicts with it (a serialization failure, a key taken, a {@link StoreConflict}), everything is
   * rolled back and `work` runs again on fresh reads, a bounded number of times; so `work` must touch
   * nothing but `tx` (or only what is safe to repeat). Inside `work`, `tx.transaction` just runs its work.
   */
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A write the store refused because another write got there first: a create whose key is taken, or an
 * update of a record whose revision moved on since it was read. Inside `transaction()` it makes the work
 * run again on fresh reads.
 */
export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';
}

/** Thrown by `cluster.checkLease` when the node no longer holds the lease at the epoch it acts under. */
export class LeaseLost extends Error {
  override readonly name = 'LeaseLost';
}

export interface FunctionRepository {
  get(name: string): Promise<FunctionRecord | undefined>;
  /** All functions, ordered by name. */
  list(): Promise<FunctionRecord[]>;
  /** Stores a new function; StoreConflict when one of that name exists. */
  create(record: FunctionRecord): Promise<void>;
  /** Replaces the function if its stored `revisionId` is still `expectedRevisionId`; StoreConflict otherwise. */
  update(record: FunctionRecord, expectedRevisionId: string): Promise<void>;
  /** Deletes the function with its versions, aliases, policies, event invoke configs and queued events. */
  delete(name: string): Promise<void>;
}

export interface VersionRepository {
  get(functionName: string, version: string): Promise<VersionRecord | undefined>;
  /**
   * Published versions of a function in ascending numeric order: all of them, or with `page` at most
   * `limit` of those numbered above `after`.
   */
  list(functionName: string, page?: { after?: number; limit?: number }): Promise<VersionRecord[]>;
  /** Stores a newly published version (versions are immutable); StoreConflict when the number is taken. */
  create(record: VersionRecord): Promise<void>;
  delete(functionName: string, version: string): Promise<void>;
}

export interface AliasRepository {
  get(functionName: string, name: string): Promise<AliasRecord | undefined>;
  /** Aliases of a function ordered by name. */
  list(functionName: string): Promise<AliasRecord[]>;
  /** Stores a new alias; StoreConflict when the function has one of that name. */
  create(record: AliasRecord): Promise<void>;
  /** Replaces the alias if its stored `revisionId` is still `expectedRevisionId`; StoreConflict otherwise. */
  update(record: AliasRecord, expectedRevisionId: string): Promise<void>;
  delete(functionName: string, name: string): Promise<void>;
}

/** Code packages, kept once per CodeSha256 however many functions and versions share them. */
export interface CodeRepository {
  put(sha256: string, zip: Uint8Array): Promise<void>;
  get(sha256: string): Promise<Uint8Array | undefined>;
}

export interface PolicyStatement {
  sid: string;
  statement: Record<string, unknown>;
}

/** Resource policy statements per function and qualifier ('' for the unqualified function). */
/**
 * The resource-based policy of a function, version or alias: its statements, and its RevisionId, which
 * every change of them renews (`revisionId`) and which goes with them when what they are on is deleted.
 */
export interface PolicyRepository {
  list(functionName: string, qualifier: string): Promise<PolicyStatement[]>;
  /** The RevisionId the last change gave the policy; undefined when none did. */
  revision(functionName: string, qualifier: string): Promise<string | undefined>;
  put(functionName: string, qualifier: string, statement: PolicyStatement, revisionId: string): Promise<void>;
  delete(functionName: string, qualifier: string, sid: string, revisionId: string): Promise<void>;
}

/** Small named values the platform keeps between runs (e.g. the time scale it last ran at). */
export interface SettingsRepository {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
}

/** REST APIs with their resources, methods and integrations (one document per API). */
export interface RestApiRepository {
  get(id: string): Promise<RestApiDoc | undefined>;
  /** All APIs in creation order. */
  list(): Promise<RestApiDoc[]>;
  put(api: RestApiDoc): Promise<void>;
  /** Deletes the API with its deployments and stages. */
  delete(id: string): Promise<void>;
}

/** Immutable deployment snapshots of an API. */
export interface DeploymentRepository {
  get(restApiId: string, id: string): Promise<DeploymentDoc | undefined>;
  /** An API's deployments in creation order. */
  list(restApiId: string): Promise<DeploymentDoc[]>;
  put(deployment: DeploymentDoc): Promise<void>;
  delete(restApiId: string, id: string): Promise<void>;
}

export interface StageRepository {
  get(restApiId: string, name: string): Promise<StageDoc | undefined>;
  /** An API's stages ordered by name. */
  list(restApiId: string): Promise<StageDoc[]>;
  put(stage: StageDoc): Promise<void>;
  delete(restApiId: string, name: string): Promise<void>;
}

/**
 * Metric datapoints aggregated per bucket, and the catalogue of series (namespace, name, dimensions).
 * Each node writes its own summary of a bucket (the point's `node`); readers merge them.
 */
export interface MetricRepository {
  /** Writes (replacing this node's) bucket summaries and refreshes their series in the catalogue. */
  putPoints(points: MetricPoint[], series: MetricSeriesDoc[]): Promise<void>;
  /** A series' buckets with from <= timestamp < to, every node's, in time order; the first `limit` when given. */
  points(seriesId: string, from: number, to: number, limit?: number): Promise<MetricPoint[]>;
  /**
   * What one node stored of a series' buckets of one resolution that start at exactly `timestamps` (those
   * it stored; in time order): a lookup of each, not a scan of the stretch between them.
   */
  pointsAt(seriesId: string, node: string, resolution: number, timestamps: readonly number[]): Promise<MetricPoint[]>;
  /**
   * Series in the catalogue whose id starts with `prefix` and comes after `after`, at most `limit`, in
   * the byte order of their ids' UTF-8 (a page: pass the last id as `after` for the next).
   */
  series(page: { prefix: string; after: string; limit: number }): Promise<MetricSeriesDoc[]>;
  /** Drops buckets older than `timestamp`, and series not seen since then. */
  deleteBefore(timestamp: number): Promise<void>;
}

export interface AlarmRepository {
  get(name: string): Promise<AlarmDoc | undefined>;
  /** All alarms ordered by name. */
  list(): Promise<AlarmDoc[]>;
  put(alarm: AlarmDoc): Promise<void>;
  delete(name: string): Promise<void>;
  addHistory(item: AlarmHistoryItem): Promise<void>;
  /**
   * One page of history, newest first (oldest first when `ascending`), optionally of one alarm, of one
   * type and within [from, to]: the items past `after` (an item's place, from an earlier page), each with its place.
   */
  history(
    filter: { alarmName?: string; type?: string; from?: number; to?: number },
    page: { after?: HistoryPlace; ascending?: boolean; limit: number },
  ): Promise<{ item: AlarmHistoryItem; place: HistoryPlace }[]>;
  deleteHistoryBefore(timestamp: number): Promise<void>;
}

/** CloudWatch Logs: log groups, their streams, and each stream's events. */
export interface LogRepository {
  getGroup(name: string): Promise<LogGroupRecord | undefined>;
  /** Groups ordered by name: those starting with `prefix`, after the name `after`, at most `limit`. */
  listGroups(filter?: { prefix?: string; after?: string; limit?: number }): Promise<LogGroupRecord[]>;
  /** Creates an empty group; false when it already exists. */
  createGroup(name: string, createdAt: number): Promise<boolean>;
  /** Sets, or clears with undefined, a group's retention policy; false when there is no such group. */
  setRetention(name: string, days: number | undefined): Promise<boolean>;
  /** Deletes a group with its streams and events; false when there is no such group. */
  deleteGroup(name: string): Promise<boolean>;
  getStream(groupName: string, name: string): Promise<LogStreamRecord | undefined>;
  /**
   * A group's streams ordered by name, optionally only those starting with `prefix`; with `page`, in the
   * page's order and no more than it asks (names compared byte by byte, as JavaScript's `<` does for
   * the Basic Multilingual Plane).
   */
  listStreams(groupName: string, prefix?: string, page?: StreamPage): Promise<LogStreamRecord[]>;
  /** How many streams a group has. */
  countStreams(groupName: string): Promise<number>;
  /** Creates an empty stream in an existing group; false when the stream exists or the group does not. */
  createStream(groupName: string, name: string, createdAt: number): Promise<boolean>;
  /**
   * Appends events atomically, creating missing groups and streams (created at the event's ingestion
   * time), and keeps each stream's first/last event time, last ingestion time and stored bytes.
   */
  append(events: readonly NewLogEvent[]): Promise<void>;
  /** A group's events in (timestamp, seq) order, or the reverse when `descending`. */
  events(query: LogEventQuery): Promise<LogEventRecord[]>;
  /** Drops a group's events with timestamp < `before`, updating its streams' stored bytes; returns how many. */
  deleteEventsBefore(groupName: string, before: number): Promise<number>;
  /**
   * The `before` for deleteEventsBefore that leaves a group at most `keepBytes` of messages, its newest
   * events kept; undefined when it holds no more than that already.
   */
  cutForSize(groupName: string, keepBytes: number): Promise<number | undefined>;
}

/** CodeDeploy's applications, deployment groups, custom configs and deployments. */
export interface CodeDeployRepository {
  getApplication(name: string): Promise<ApplicationDoc | undefined>;
  listApplications(): Promise<ApplicationDoc[]>;
  putApplication(app: ApplicationDoc): Promise<void>;
  /** Deletes the application with its groups (its deployments go with deleteDeployments). */
  deleteApplication(name: string): Promise<void>;
  getGroup(application: string, name: string): Promise<DeploymentGroupDoc | undefined>;
  listGroups(application: string): Promise<DeploymentGroupDoc[]>;
  /**
   * The names of an application's deployment groups, in order, without their records: a record may
   * hold megabytes (a group's triggers and settings), and 60 of them read whole took 380 MB.
   */
  groupNames(application: string): Promise<string[]>;
  putGroup(group: DeploymentGroupDoc): Promise<void>;
  deleteGroup(application: string, name: string): Promise<void>;
  getConfig(name: string): Promise<DeploymentConfigDoc | undefined>;
  listConfigs(): Promise<DeploymentConfigDoc[]>;
  putConfig(config: DeploymentConfigDoc): Promise<void>;
  deleteConfig(name: string): Promise<void>;
  getDeployment(id: string): Promise<DeploymentState | undefined>;
  /** Deployments newest first, optionally of one application and group. */
  listDeployments(filter: { application?: string; group?: string }): Promise<DeploymentState[]>;
  /**
   * One page of deployment ids, newest first, of one application and group if given, with one of
   * `statuses` if given: those created before the deployment numbered `before` (`seq`, the page's cursor).
   */
  deploymentIds(
    filter: { application?: string; group?: string; statuses?: readonly string[] },
    page: { before?: number; limit: number },
  ): Promise<{ id: string; seq: number }[]>;
  /** Deployments still Created or InProgress. */
  activeDeployments(): Promise<DeploymentState[]>;
  putDeployment(deployment: DeploymentState): Promise<void>;
  /** Deletes the deployments of an application, or of one of its groups; returns how many. */
  deleteDeployments(filter: { application: string; group?: string }): Promise<number>;
}

/**
 * Stacks deployed from templates (`versa deploy`, CloudFormation), each read whole: its record, template,
 * change sets, operation, resources (in their order) and events (oldest first). A step of an operation
 * writes only what it changed, as the plan of a stack of hundreds of resources is megabytes.
 */
export interface StackRepository {
  get(name: string): Promise<StackDoc | undefined>;
  list(): Promise<StackDoc[]>;
  /** Stores the whole stack, in place of what was stored of it. */
  put(stack: StackDoc): Promise<void>;
  /**
   * Stores one step of the stack's operation: its record (status, outputs, the operation's progress),
   * the resources the step added, replaced or removed, and the events it appended (the newest
   * MAX_STACK_EVENTS are kept). Its template, change sets and the operation's plan stay as the last put
   * stored them: a caller that changes those puts the stack. A resource added goes after the others.
   */
  step(stack: StackDoc, step: StackStep): Promise<void>;
  delete(name: string): Promise<void>;
}

/** What one step of a stack's operation changed since the stack was last written. */
export interface StackStep {
  /** Resources added or replaced, in the stack's order. */
  resources: StackResource[];
  /** Logical ids of resources removed. */
  removed: string[];
  /** Events appended, oldest first. */
  events: StackEvent[];
}

/**
 * The asynchronous invocation queue (see domain/async-event.ts for the states). Claims and settlements
 * are guarded by the event's status and attempt count, so an attempt is settled once, by its claimer.
 */
/** What waits in a function's asynchronous queue: events pending and running, and their payloads' bytes. */
export interface AsyncBacklog {
  pending: number;
  running: number;
  bytes: number;
}

export interface AsyncEventRepository {
  /** Adds an accepted event; fails if its id is taken. */
  enqueue(event: AsyncEventRecord): Promise<void>;
  get(id: string): Promise<AsyncEventRecord | undefined>;
  /**
   * Claims the oldest pending event due at `now` whose function is not in `skip`: it becomes running,
   * its attempt count goes up by one and it holds a lease until `leaseUntil`. Undefined when none is due.
   */
  claim(now: number, leaseUntil: number, skip: readonly string[]): Promise<AsyncEventRecord | undefined>;
  /**
   * Writes the state after an attempt, only if the event is still running under the claim that counted
   * `claimedAttempts`; false (and nothing written) otherwise.
   */
  settle(next: AsyncEventRecord, claimedAttempts: number): Promise<boolean>;
  /** Events in the running state, oldest first. */
  running(): Promise<AsyncEventRecord[]>;
  /** The earliest time a pending event of a function not in `skip` is due, if any is pending. */
  nextDue(skip: readonly string[]): Promise<number | undefined>;
  /** Pending and running events of a function. */
  depth(functionName: string): Promise<AsyncBacklog>;
  /** Drops ended events that ended before `timestamp`; returns how many. */
  deleteFinishedBefore(timestamp: number): Promise<number>;
}

/** Event invoke configs per function and qualifier (`$LATEST`, a version or an alias). */
export interface EventInvokeConfigRepository {
  get(functionName: string, qualifier: string): Promise<EventInvokeConfigRecord | undefined>;
  /** A function's configs ordered by qualifier. */
  list(functionName: string): Promise<EventInvokeConfigRecord[]>;
  put(record: EventInvokeConfigRecord): Promise<void>;
  /** False when there was none. */
  delete(functionName: string, qualifier: string): Promise<boolean>;
}

/**
 * Tags of the resources that carry them. Deleting a function, log group, alarm, application or
 * deployment group deletes its tags in the same write (an application's include its groups').
 */
export interface TagRepository {
  /** The resource's tags; empty when it has none. */
  get(resource: TaggedResource): Promise<Tags>;
  /** Replaces the resource's tags with `tags` (empty removes them all). */
  put(resource: TaggedResource, tags: Tags): Promise<void>;
}

/** S3's buckets, objects, multipart uploads and parts; the bytes are blobs elsewhere, named by SHA-256. */
/** A blob's copy in a shared store: its size in bytes and its chunks, read as they are iterated. */
export interface SharedBlob {
  size: number;
  chunks: AsyncIterable<Uint8Array>;
}

export interface S3Repository {
  getBucket(name: string): Promise<BucketDoc | undefined>;
  /**
   * All buckets ordered by name, without their settings: a bucket's documents may reach 1 MiB, and
   * ListBuckets needs none of them (read whole, a few hundred buckets took hundreds of MB per call).
   */
  listBuckets(): Promise<Pick<BucketDoc, 'name' | 'region' | 'createdAt'>[]>;
  /** Creates the bucket; false (and nothing written) when one of that name exists. */
  createBucket(bucket: BucketDoc): Promise<boolean>;
  putBucket(bucket: BucketDoc): Promise<void>;
  /** Deletes the bucket with its multipart uploads and their parts (its objects must be gone). */
  deleteBucket(name: string): Promise<void>;
  getObject(bucket: string, key: string): Promise<ObjectDoc | undefined>;
  /** Writes (replacing) an object; returns the blob of the object it replaced, if any. */
  putObject(object: ObjectDoc): Promise<string | undefined>;
  /** Deletes an object; returns its blob, or undefined when there was none. */
  deleteObject(bucket: string, key: string): Promise<string | undefined>;
  /** A bucket's objects in UTF-8 binary key order: keys starting with `prefix` and after `after`, at most `limit`. */
  listObjects(bucket: string, filter: { prefix: string; after: string; limit: number }): Promise<ObjectDoc[]>;
  hasObjects(bucket: string): Promise<boolean>;
  getUpload(uploadId: string): Promise<UploadDoc | undefined>;
  putUpload(upload: UploadDoc): Promise<void>;
  /**
   * Deletes an upload with its parts; returns the parts' blobs, or undefined when there was no such
   * upload (another request completed or aborted it first: that one alone may say it did).
   */
  deleteUpload(uploadId: string): Promise<string[] | undefined>;
  /** A bucket's uploads ordered by key, then upload id. */
  listUploads(bucket: string): Promise<UploadDoc[]>;
  /** How many uploads of a bucket are in progress. */
  countUploads(bucket: string): Promise<number>;
  /** Writes (replacing) a part; returns the blob of the part it replaced, if any. */
  putPart(part: PartDoc): Promise<string | undefined>;
  /** An upload's parts by part number. */
  listParts(uploadId: string): Promise<PartDoc[]>;
  /** True when an object or a part still points at the blob. */
  blobInUse(blob: string): Promise<boolean>;
  /**
   * Keeps a shared copy of a blob's bytes, for the nodes that share the store (once per SHA-256, hex):
   * one row per chunk `chunks` yields, so no statement holds more than a chunk. The copy appears whole or
   * not at all; `chunks` is called again when the write is retried.
   */
  putBlob(sha256: string, chunks: () => AsyncIterable<Uint8Array>): Promise<void>;
  /**
   * A blob's shared copy, if one was kept: its size, and its chunks read one at a time in order (they
   * stop early when the copy is deleted meanwhile, so a reader checks what it got against the size).
   */
  openBlob(sha256: string): Promise<SharedBlob | undefined>;
  /**
   * In a transaction that points an object or a part at the blob: true when its shared copy is kept,
   * and then it stays kept until the transaction ends (a `deleteBlob` on any node waits for it, and
   * then finds the reference it wrote); false when there is none, to be put again before the reference.
   */
  holdBlob(sha256: string): Promise<boolean>;
  /**
   * Deletes a blob's shared copy unless an object or a part points at it, looked at once every
   * transaction holding the copy (`holdBlob`) has ended; true when it was deleted.
   */
  deleteBlob(sha256: string): Promise<boolean>;
}

/** SSM parameters, one document per name with its kept versions. */
export interface ParameterRepository {
  get(name: string): Promise<ParameterDoc | undefined>;
  /**
   * Parameters whose names start with `prefix`, ordered by name (byte order); with `page`, only those
   * after `page.after`, at most `page.limit`, and with `page.children` only those with no `/` past the prefix.
   */
  list(prefix: string, page?: { after?: string; limit: number; children?: boolean }): Promise<ParameterDoc[]>;
  put(parameter: ParameterDoc): Promise<void>;
  /** False when there was none. */
  delete(name: string): Promise<boolean>;
  /** How many parameters there are. */
  count(): Promise<number>;
}

/** A node sharing the store, as its last heartbeat left it. */
export interface NodeRecord {
  id: string;
  /** Where the node answers. */
  url: string;
  startedAt: number;
  /** The last heartbeat, epoch ms by the database's clock. */
  seenAt: number;
}

/** A named lease: who holds it, under which fencing epoch, until when (epoch ms by the database's clock). */
export interface Lease {
  name: string;
  nodeId: string;
  epoch: number;
  expiresAt: number;
}

/** A temporary key STS issued to an operator's caller (AssumeRole, GetSessionToken). */
export interface SessionRecord {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds (real time) after which it is refused. */
  expiresAt: number;
  /** Who GetCallerIdentity says holds it (an assumed role's session), when not the account's root. */
  identity?: { arn: string; userId: string };
  /** Who it was issued to (the operator's access key that asked): whose share of the bound it counts in. */
  issuer?: string;
}

/** How many live sessions the store keeps: of one issuer, and in all. */
export interface SessionLimits {
  perIssuer: number;
  total: number;
}

/** STS's temporary keys issued to operators' callers, where every node sharing the store finds them. */
export interface SessionRepository {
  get(accessKeyId: string): Promise<SessionRecord | undefined>;
  /**
   * Stores a session, and drops those expired by `now`, so that minting sessions cannot fill the store.
   * Past `limits.perIssuer` of its issuer's, the issuer's own closest to expiry go; when `limits.total`
   * are stored, one of the issuer's own goes, or, when it has none, the session is not stored (false):
   * one issuer's sessions never end another's.
   */
  put(session: SessionRecord, now: number, limits: SessionLimits): Promise<boolean>;
}

/**
 * How the nodes sharing one store see each other, agree on who leads and hear of each other's writes.
 * Times are the database's, so that nodes' clocks need not agree.
 */
export interface ClusterRepository {
  /** Records that the node is alive now, and returns every node seen within the last `withinMs`, by id. */
  heartbeat(node: { id: string; url: string; startedAt: number }, withinMs: number): Promise<NodeRecord[]>;
  /**
   * Takes the lease for `nodeId` when nobody holds it or its holder let it expire, or renews it when
   * `nodeId` holds it, for `ttlMs`. The epoch (the fencing token) goes up by one each time the lease
   * passes to another node and stays while one node keeps it, even across a lapse nobody used.
   * Undefined while another node holds it unexpired.
   */
  acquireLease(name: string, nodeId: string, ttlMs: number): Promise<Lease | undefined>;
  /** Lets the lease go at once if `nodeId` holds it. */
  releaseLease(name: string, nodeId: string): Promise<void>;
  /** The lease as stored (expired or not), if it was ever taken. */
  lease(name: string): Promise<Lease | undefined>;
  /**
   * Inside a transaction: throws LeaseLost unless the lease is still `nodeId`'s at `epoch` (expired or
   * not: until another node takes it over, nobody else can have acted). A takeover waits for the
   * transaction to end, so a deposed holder's writes can never land after its successor's first.
   */
  checkLease(name: string, nodeId: string, epoch: number): Promise<void>;
  /** Sends `message` to every node's listeners, this node's too; inside a transaction, once it commits. */
  notify(message: string): Promise<void>;
  /**
   * Calls `listener` with every message notified from now on, and with undefined when messages may have
   * been lost (the listening connection dropped and came back): assume anything changed. The returned
   * function stops it.
   */
  listen(listener: (message: string | undefined) => void): () => void;
}
