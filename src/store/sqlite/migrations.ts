/**
 * Ordered, append-only schema migrations. Never edit a shipped entry: add a new one. Records are kept as
 * JSON documents beside the columns the store filters and orders by.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE functions (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE versions (
    function_name TEXT NOT NULL,
    version       INTEGER NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, version)
  );
  CREATE TABLE aliases (
    function_name TEXT NOT NULL,
    name          TEXT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
  );
  CREATE TABLE code_packages (
    sha256 TEXT PRIMARY KEY,
    size   INTEGER NOT NULL,
    zip    BLOB NOT NULL
  );
  CREATE TABLE policies (
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    sid           TEXT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier, sid)
  );
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE rest_apis (
    id   TEXT PRIMARY KEY,
    seq  INTEGER NOT NULL,
    doc  TEXT NOT NULL
  );
  CREATE TABLE deployments (
    rest_api_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (rest_api_id, id)
  );
  CREATE TABLE stages (
    rest_api_id TEXT NOT NULL,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (rest_api_id, name)
  );
  `,
  `
  CREATE TABLE metric_points (
    series_id  TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    resolution INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (series_id, resolution, ts)
  );
  CREATE INDEX metric_points_by_time ON metric_points (ts);
  CREATE TABLE metric_series (
    series_id  TEXT PRIMARY KEY,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    last_seen  INTEGER NOT NULL
  );
  CREATE TABLE alarms (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE alarm_history (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    alarm_name TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    doc        TEXT NOT NULL
  );
  CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, ts);
  `,
  `
  CREATE TABLE log_groups (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    retention_days INTEGER
  );
  CREATE TABLE log_streams (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    first_event    INTEGER,
    last_event     INTEGER,
    last_ingestion INTEGER,
    stored_bytes   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
  );
  CREATE TABLE log_events (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id  INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    ingested  INTEGER NOT NULL,
    message   TEXT NOT NULL
  );
  CREATE INDEX log_events_by_stream ON log_events (stream_id, ts, seq);
  CREATE INDEX log_events_by_group ON log_events (group_id, ts, seq);
  `,
  `
  CREATE TABLE cd_applications (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE cd_deployment_groups (
    application TEXT NOT NULL,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (application, name)
  );
  CREATE TABLE cd_deployment_configs (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE cd_deployments (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    application TEXT NOT NULL,
    grp         TEXT NOT NULL,
    status      TEXT NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX cd_deployments_by_group ON cd_deployments (application, grp, seq);
  CREATE INDEX cd_deployments_by_status ON cd_deployments (status);
  `,
  `
  CREATE TABLE stacks (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE async_events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    function_name   TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    finished_at     INTEGER,
    doc             TEXT NOT NULL
  );
  CREATE INDEX async_events_due ON async_events (status, next_attempt_at, seq);
  CREATE INDEX async_events_by_function ON async_events (function_name, status);
  CREATE INDEX async_events_finished ON async_events (finished_at);
  CREATE TABLE event_invoke_configs (
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  `,
  `
  CREATE TABLE tags (
    kind   TEXT NOT NULL,
    owner  TEXT NOT NULL,
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (kind, owner, name, key)
  );
  `,
  `
  CREATE TABLE s3_buckets (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE s3_objects (
    bucket TEXT NOT NULL,
    key    TEXT NOT NULL,
    blob   TEXT NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
  );
  CREATE INDEX s3_objects_by_blob ON s3_objects (blob);
  CREATE TABLE s3_uploads (
    id     TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key    TEXT NOT NULL,
    doc    TEXT NOT NULL
  );
  CREATE INDEX s3_uploads_by_bucket ON s3_uploads (bucket, key, id);
  CREATE TABLE s3_parts (
    upload_id   TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    blob        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE INDEX s3_parts_by_blob ON s3_parts (blob);
  CREATE TABLE ssm_parameters (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE metric_points_by_node (
    series_id  TEXT NOT NULL,
    node       TEXT NOT NULL,
    namespace  TEXT NOT NULL,
    name       TEXT NOT NULL,
    resolution INTEGER NOT NULL,
    ts         INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (series_id, resolution, ts, node)
  );
  INSERT INTO metric_points_by_node (series_id, node, namespace, name, resolution, ts, doc)
    SELECT series_id, '', namespace, name, resolution, ts, doc FROM metric_points;
  DROP TABLE metric_points;
  ALTER TABLE metric_points_by_node RENAME TO metric_points;
  CREATE INDEX metric_points_by_time ON metric_points (ts);
  CREATE TABLE cluster_nodes (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
  );
  CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    node_id    TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  `
  CREATE TABLE s3_blobs (
    sha256 TEXT PRIMARY KEY,
    data   BLOB NOT NULL
  );
  `,
  // Log events in chunks: one row per stream per written batch (JSON [[seq, ts, ingested, message], ...]
  // in (ts, seq) order), instead of one row in three b-trees per event. Sequence numbers continue.
  `
  CREATE TABLE log_seq (next INTEGER NOT NULL);
  INSERT INTO log_seq (next) SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'log_events'), 0) + 1;
  CREATE TABLE log_chunks (
    id        INTEGER PRIMARY KEY,
    group_id  INTEGER NOT NULL,
    stream_id INTEGER NOT NULL,
    first_ts  INTEGER NOT NULL,
    last_ts   INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    events    TEXT NOT NULL
  );
  CREATE INDEX log_chunks_by_first ON log_chunks (group_id, first_ts);
  CREATE INDEX log_chunks_by_last ON log_chunks (group_id, last_ts);
  INSERT INTO log_chunks (group_id, stream_id, first_ts, last_ts, count, bytes, events)
    SELECT group_id, stream_id, min(ts), max(ts), count(*), sum(length(CAST(message AS BLOB))),
           json_group_array(json_array(seq, ts, ingested, message))
    FROM (SELECT * FROM log_events ORDER BY stream_id, ts, seq)
    GROUP BY stream_id, seq / 1000;
  DROP TABLE log_events;
  `,
  // What waits in each function's asynchronous queue is bounded in bytes as well as in number: each
  // event's payload size beside it, in the index the backlog is summed from.
  `
  ALTER TABLE async_events ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
  UPDATE async_events SET bytes = length(CAST(json_extract(doc, '$.payload') AS BLOB)) WHERE status IN ('pending', 'running');
  DROP INDEX async_events_by_function;
  CREATE INDEX async_events_by_function ON async_events (function_name, status, bytes);
  `,
  // A blob's shared copy in chunks of at most a mebibyte, one row each, so that no statement moves a
  // whole object; the size row says the copy is whole.
  `
  CREATE TABLE s3_blob_chunks (
    sha256 TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
  );
  WITH RECURSIVE pieces (sha256, seq) AS (
    SELECT sha256, 0 FROM s3_blobs
    UNION ALL
    SELECT p.sha256, p.seq + 1 FROM pieces p JOIN s3_blobs b ON b.sha256 = p.sha256 WHERE (p.seq + 1) * 1048576 < length(b.data)
  )
  INSERT INTO s3_blob_chunks (sha256, seq, data)
    SELECT p.sha256, p.seq, substr(b.data, p.seq * 1048576 + 1, 1048576) FROM pieces p JOIN s3_blobs b ON b.sha256 = p.sha256
    WHERE length(b.data) > 0;
  CREATE TABLE s3_blobs_sized (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL);
  INSERT INTO s3_blobs_sized (sha256, size) SELECT sha256, length(data) FROM s3_blobs;
  DROP TABLE s3_blobs;
  ALTER TABLE s3_blobs_sized RENAME TO s3_blobs;
  `,
  // STS's temporary keys issued to operators' callers, so that every node sharing the store accepts them.
  `
  CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY,
    expires_at    INTEGER NOT NULL,
    doc           TEXT NOT NULL
  );
  CREATE INDEX sts_sessions_by_expiry ON sts_sessions (expires_at);
  `,
  // Who was issued each session (the operator's key that asked): each issuer's sessions are bounded apart.
  `
  ALTER TABLE sts_sessions ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
  CREATE INDEX sts_sessions_by_issuer ON sts_sessions (issuer, expires_at);
  `,
  // A log chunk's place is its first and last events' (timestamp, seq), so that a read within a
  // millisecond that holds many chunks finds the ones past its position without parsing them all. Chunks
  // written before may hold any seq of their timestamps (a migrated chunk's events may be out of order).
  // The indexes hold every column a read of chunk rows takes: the new ones come after the events in the
  // row, and reaching them there walks each chunk's overflow pages (100 ms for 600 chunks of one moment).
  `
  ALTER TABLE log_chunks ADD COLUMN first_seq INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE log_chunks ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 9007199254740991;
  DROP INDEX log_chunks_by_first;
  DROP INDEX log_chunks_by_last;
  CREATE INDEX log_chunks_by_first ON log_chunks (group_id, first_ts, first_seq, last_ts, last_seq, stream_id, count, bytes);
  CREATE INDEX log_chunks_by_last ON log_chunks (group_id, last_ts, last_seq, first_ts, first_seq, stream_id, count, bytes);
  `,
  // A stack's parts are rows of their own, so that each step of an operation writes what it changed: the
  // record (status, outputs, the operation's progress), the resources it made and the events it added.
  // The template, change sets and the operation's plan (megabytes for hundreds of resources) are written
  // once an operation (src/store/stack-documents.ts).
  `
  CREATE TABLE stack_plans (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE stack_resources (
    stack      TEXT NOT NULL,
    logical_id TEXT NOT NULL,
    position   INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (stack, logical_id)
  );
  CREATE INDEX stack_resources_by_position ON stack_resources (stack, position);
  CREATE TABLE stack_events (
    stack TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    doc   TEXT NOT NULL,
    PRIMARY KEY (stack, seq)
  );
  INSERT INTO stack_resources (stack, logical_id, position, doc)
    SELECT s.name, r.key, r.id, r.value FROM stacks s, json_each(s.doc, '$.resources') r;
  INSERT INTO stack_events (stack, seq, doc)
    SELECT s.name, e.key, e.value FROM stacks s, json_each(s.doc, '$.events') e;
  INSERT INTO stack_plans (name, doc)
    SELECT name, json_object(
      'template', doc -> '$.template',
      'changeSets', doc -> '$.changeSets',
      'operation', CASE WHEN doc -> '$.operation' IS NULL THEN NULL ELSE json_object(
        'definitions', doc -> '$.operation.definitions',
        'outputs', doc -> '$.operation.outputs',
        'conditions', doc -> '$.operation.conditions',
        'mappings', doc -> '$.operation.mappings',
        'imports', doc -> '$.operation.imports',
        'parameters', doc -> '$.operation.parameters'
      ) END
    ) FROM stacks;
  UPDATE stacks SET doc = json_remove(
    doc, '$.resources', '$.events', '$.template', '$.changeSets',
    '$.operation.definitions', '$.operation.outputs', '$.operation.conditions',
    '$.operation.mappings', '$.operation.imports', '$.operation.parameters'
  );
  `,
  // A bucket's region and creation date beside its record, in an index that holds them, so that
  // ListBuckets reads neither the records nor their overflow pages: a bucket's settings reach 1 MiB,
  // and parsing 400 such records held the event loop for 0.3 s a call.
  `
  ALTER TABLE s3_buckets ADD COLUMN region TEXT NOT NULL DEFAULT '';
  ALTER TABLE s3_buckets ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
  UPDATE s3_buckets SET region = doc ->> '$.region', created_at = doc ->> '$.createdAt';
  CREATE INDEX s3_buckets_listed ON s3_buckets (name, region, created_at);
  `,
  // A resource-based policy's RevisionId, its own (AWS renews it with each AddPermission and
  // RemovePermission and leaves it when the function is published), beside its statements.
  `
  CREATE TABLE policy_revisions (
    function_name TEXT NOT NULL,
    qualifier     TEXT NOT NULL,
    revision_id   TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  `,
];
