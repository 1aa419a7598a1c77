/**
 * Ordered, append-only schema migrations. Never edit a shipped entry: add a new one. Records are kept as
 * JSON documents (TEXT, not jsonb, which would reorder their keys) beside the columns the store filters
 * and orders by. Text that is compared or ordered is `COLLATE "C"`, ordering by bytes as SQLite's BINARY
 * collation does; numbers are bigint (read back as JS numbers); creation order is an identity column.
 * Strings that may hold U+0000, which PostgreSQL's TEXT cannot, are kept as their UTF-8 bytes in BYTEA
 * (which also orders by bytes): metric series ids (NUL-separated) and log messages (whatever a function printed).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE functions (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE versions (
    function_name TEXT COLLATE "C" NOT NULL,
    version       BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, version)
  );
  CREATE TABLE aliases (
    function_name TEXT COLLATE "C" NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, name)
  );
  CREATE TABLE code_packages (
    sha256 TEXT COLLATE "C" PRIMARY KEY,
    size   BIGINT NOT NULL,
    zip    BYTEA NOT NULL
  );
  CREATE TABLE policies (
    function_name TEXT COLLATE "C" NOT NULL,
    qualifier     TEXT COLLATE "C" NOT NULL,
    sid           TEXT COLLATE "C" NOT NULL,
    seq           BIGINT GENERATED ALWAYS AS IDENTITY,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier, sid)
  );
  CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE rest_apis (
    id   TEXT COLLATE "C" PRIMARY KEY,
    seq  BIGINT GENERATED ALWAYS AS IDENTITY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE deployments (
    rest_api_id TEXT COLLATE "C" NOT NULL,
    id          TEXT COLLATE "C" NOT NULL,
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    doc         TEXT NOT NULL,
    PRIMARY KEY (rest_api_id, id)
  );
  CREATE TABLE stages (
    rest_api_id TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (rest_api_id, name)
  );
  `,
  `
  CREATE TABLE metric_points (
    series_id  BYTEA NOT NULL,
    namespace  TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    resolution BIGINT NOT NULL,
    ts         BIGINT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (series_id, resolution, ts)
  );
  CREATE INDEX metric_points_by_time ON metric_points (ts);
  CREATE TABLE metric_series (
    series_id  BYTEA PRIMARY KEY,
    namespace  TEXT COLLATE "C" NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    doc        TEXT NOT NULL,
    last_seen  BIGINT NOT NULL
  );
  CREATE TABLE alarms (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE alarm_history (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alarm_name TEXT COLLATE "C" NOT NULL,
    ts         BIGINT NOT NULL,
    doc        TEXT NOT NULL
  );
  CREATE INDEX alarm_history_by_alarm ON alarm_history (alarm_name, ts);
  `,
  `
  CREATE TABLE log_groups (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT COLLATE "C" NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    retention_days BIGINT
  );
  CREATE TABLE log_streams (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id       BIGINT NOT NULL,
    name           TEXT COLLATE "C" NOT NULL,
    created_at     BIGINT NOT NULL,
    first_event    BIGINT,
    last_event     BIGINT,
    last_ingestion BIGINT,
    stored_bytes   BIGINT NOT NULL DEFAULT 0,
    UNIQUE (group_id, name)
  );
  CREATE TABLE log_events (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id  BIGINT NOT NULL,
    stream_id BIGINT NOT NULL,
    ts        BIGINT NOT NULL,
    ingested  BIGINT NOT NULL,
    message   BYTEA NOT NULL
  );
  CREATE INDEX log_events_by_stream ON log_events (stream_id, ts, seq);
  CREATE INDEX log_events_by_group ON log_events (group_id, ts, seq);
  `,
  `
  CREATE TABLE cd_applications (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE cd_deployment_groups (
    application TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (application, name)
  );
  CREATE TABLE cd_deployment_configs (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE cd_deployments (
    id          TEXT COLLATE "C" PRIMARY KEY,
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    application TEXT COLLATE "C" NOT NULL,
    grp         TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX cd_deployments_by_group ON cd_deployments (application, grp, seq);
  CREATE INDEX cd_deployments_by_status ON cd_deployments (status);
  `,
  `
  CREATE TABLE stacks (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE async_events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT COLLATE "C" NOT NULL UNIQUE,
    function_name   TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    finished_at     BIGINT,
    doc             TEXT NOT NULL
  );
  CREATE INDEX async_events_due ON async_events (status, next_attempt_at, seq);
  CREATE INDEX async_events_by_function ON async_events (function_name, status);
  CREATE INDEX async_events_finished ON async_events (finished_at);
  CREATE TABLE event_invoke_configs (
    function_name TEXT COLLATE "C" NOT NULL,
    qualifier     TEXT COLLATE "C" NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (function_name, qualifier)
  );
  `,
  `
  CREATE TABLE tags (
    kind   TEXT COLLATE "C" NOT NULL,
    owner  TEXT COLLATE "C" NOT NULL,
    name   TEXT COLLATE "C" NOT NULL,
    key    TEXT COLLATE "C" NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (kind, owner, name, key)
  );
  `,
  `
  CREATE TABLE s3_buckets (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE s3_objects (
    bucket TEXT COLLATE "C" NOT NULL,
    key    TEXT COLLATE "C" NOT NULL,
    blob   TEXT COLLATE "C" NOT NULL,
    doc    TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
  );
  CREATE INDEX s3_objects_by_blob ON s3_objects (blob);
  CREATE TABLE s3_uploads (
    id     TEXT COLLATE "C" PRIMARY KEY,
    bucket TEXT COLLATE "C" NOT NULL,
    key    TEXT COLLATE "C" NOT NULL,
    doc    TEXT NOT NULL
  );
  CREATE INDEX s3_uploads_by_bucket ON s3_uploads (bucket, key, id);
  CREATE TABLE s3_parts (
    upload_id   TEXT COLLATE "C" NOT NULL,
    part_number BIGINT NOT NULL,
    blob        TEXT COLLATE "C" NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE INDEX s3_parts_by_blob ON s3_parts (blob);
  CREATE TABLE ssm_parameters (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  `,
  `
  ALTER TABLE metric_points ADD COLUMN node TEXT COLLATE "C" NOT NULL DEFAULT '';
  ALTER TABLE metric_points ALTER COLUMN node DROP DEFAULT;
  ALTER TABLE metric_points DROP CONSTRAINT metric_points_pkey;
  ALTER TABLE metric_points ADD PRIMARY KEY (series_id, resolution, ts, node);
  CREATE TABLE cluster_nodes (
    id         TEXT COLLATE "C" PRIMARY KEY,
    url        TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
  );
  CREATE TABLE leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    node_id    TEXT COLLATE "C" NOT NULL,
    epoch      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  `,
  `
  CREATE TABLE s3_blobs (
    sha256 TEXT COLLATE "C" PRIMARY KEY,
    data   BYTEA NOT NULL
  );
  `,
  // Log events in chunks: one row per stream per written batch (JSON [[seq, ts, ingested, message], ...]
  // in (ts, seq) order, in TEXT, where JSON writes U+0000 as \u0000), instead of one row in three b-trees
  // per event. seq comes from log_seq, in blocks of 1,024 (LOG_SEQ_BLOCK in logs.ts) and carries on above
  // every seq log_events gave, kept or deleted.
  `
  CREATE SEQUENCE log_seq INCREMENT BY 1024;
  SELECT setval('log_seq', GREATEST(
    COALESCE((SELECT MAX(seq) FROM log_events), 0),
    (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM log_events_seq_seq)) + 1, false);
  CREATE TABLE log_chunks (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id  BIGINT NOT NULL,
    stream_id BIGINT NOT NULL,
    first_ts  BIGINT NOT NULL,
    last_ts   BIGINT NOT NULL,
    count     BIGINT NOT NULL,
    bytes     BIGINT NOT NULL,
    events    TEXT NOT NULL
  );
  CREATE INDEX log_chunks_by_first ON log_chunks (group_id, first_ts, id);
  CREATE INDEX log_chunks_by_last ON log_chunks (group_id, last_ts, id);
  CREATE FUNCTION pg_temp.versa_message_json(m BYTEA) RETURNS TEXT LANGUAGE plpgsql IMMUTABLE AS $f$
  DECLARE
    parts TEXT[] := '{}';
    at    INTEGER;
  BEGIN
    LOOP
      at := position('\\x00'::bytea IN m);
      EXIT WHEN at = 0;
      parts := parts || convert_from(substring(m FROM 1 FOR at - 1), 'UTF8');
      m := substring(m FROM at + 1);
    END LOOP;
    parts := parts || convert_from(m, 'UTF8');
    RETURN '"' || (SELECT string_agg(substr(to_json(p)::text, 2, length(to_json(p)::text) - 2), '\\u0000' ORDER BY n)
                   FROM unnest(parts) WITH ORDINALITY AS u (p, n)) || '"';
  END
  $f$;
  INSERT INTO log_chunks (group_id, stream_id, first_ts, last_ts, count, bytes, events)
    SELECT group_id, stream_id, MIN(ts), MAX(ts), COUNT(*), SUM(octet_length(message)),
           '[' || string_agg('[' || seq || ',' || ts || ',' || ingested || ',' ||
             CASE WHEN position('\\x00'::bytea IN message) = 0 THEN to_json(convert_from(message, 'UTF8'))::text
                  ELSE pg_temp.versa_message_json(message) END || ']', ',' ORDER BY ts, seq) || ']'
    FROM log_events
    GROUP BY group_id, stream_id, seq / 1000;
  DROP FUNCTION pg_temp.versa_message_json(BYTEA);
  DROP TABLE log_events;
  `,
  // What waits in each function's asynchronous queue is bounded in bytes as well as in number: each
  // event's payload size beside it, in the index the backlog is summed from.
  `
  ALTER TABLE async_events ADD COLUMN bytes BIGINT NOT NULL DEFAULT 0;
  UPDATE async_events SET bytes = octet_length((doc::json)->>'payload') WHERE status IN ('pending', 'running');
  DROP INDEX async_events_by_function;
  CREATE INDEX async_events_by_function ON async_events (function_name, status, bytes);
  `,
  // A blob's shared copy in chunks of at most a mebibyte, one row each, so that no statement moves a
  // whole object; the size row says the copy is whole.
  `
  CREATE TABLE s3_blob_chunks (
    sha256 TEXT COLLATE "C" NOT NULL,
    seq    INTEGER NOT NULL,
    data   BYTEA NOT NULL,
    PRIMARY KEY (sha256, seq)
  );
  INSERT INTO s3_blob_chunks (sha256, seq, data)
    SELECT b.sha256, s.seq, substring(b.data FROM s.seq * 1048576 + 1 FOR 1048576)
    FROM s3_blobs b, generate_series(0, (octet_length(b.data) - 1) / 1048576) AS s (seq)
    WHERE octet_length(b.data) > 0;
  ALTER TABLE s3_blobs ADD COLUMN size BIGINT NOT NULL DEFAULT 0;
  UPDATE s3_blobs SET size = octet_length(data);
  ALTER TABLE s3_blobs DROP COLUMN data;
  `,
  // STS's temporary keys issued to operators' callers, so that every node sharing the store accepts them.
  `
  CREATE TABLE sts_sessions (
    access_key_id TEXT COLLATE "C" PRIMARY KEY,
    expires_at    BIGINT NOT NULL,
    doc           TEXT NOT NULL
  );
  CREATE INDEX sts_sessions_by_expiry ON sts_sessions (expires_at);
  `,
  // Who was issued each session (the operator's key that asked): each issuer's sessions are bounded apart.
  `
  ALTER TABLE sts_sessions ADD COLUMN issuer TEXT COLLATE "C" NOT NULL DEFAULT '';
  CREATE INDEX sts_sessions_by_issuer ON sts_sessions (issuer, expires_at);
  `,
  // A log chunk's place is its first and last events' (timestamp, seq), so that a read within a
  // millisecond that holds many chunks finds the ones past its position without parsing them all. Chunks
  // written before may hold any seq of their timestamps (a migrated chunk's events may be out of order).
  `
  ALTER TABLE log_chunks ADD COLUMN first_seq BIGINT NOT NULL DEFAULT 0;
  ALTER TABLE log_chunks ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 9007199254740991;
  ALTER TABLE log_chunks ALTER COLUMN first_seq DROP DEFAULT;
  ALTER TABLE log_chunks ALTER COLUMN last_seq DROP DEFAULT;
  DROP INDEX log_chunks_by_first;
  DROP INDEX log_chunks_by_last;
  CREATE INDEX log_chunks_by_first ON log_chunks (group_id, first_ts, first_seq, id);
  CREATE INDEX log_chunks_by_last ON log_chunks (group_id, last_ts, last_seq, id);
  `,
  // A stack's parts are rows of their own, so that each step of an operation writes what it changed: the
  // record (status, outputs, the operation's progress), the resources it made and the events it added.
  // The template, change sets and the operation's plan (megabytes for hundreds of resources) are written
  // once an operation (src/store/stack-documents.ts). Documents are read as json, not jsonb, which would
  // reorder their keys (a resource's properties are compared as written).
  `
  CREATE TABLE stack_plans (
    name TEXT COLLATE "C" PRIMARY KEY,
    doc  TEXT NOT NULL
  );
  CREATE TABLE stack_resources (
    stack      TEXT COLLATE "C" NOT NULL,
    logical_id TEXT COLLATE "C" NOT NULL,
    position   BIGINT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (stack, logical_id)
  );
  CREATE INDEX stack_resources_by_position ON stack_resources (stack, position);
  CREATE TABLE stack_events (
    stack TEXT COLLATE "C" NOT NULL,
    seq   BIGINT NOT NULL,
    doc   TEXT NOT NULL,
    PRIMARY KEY (stack, seq)
  );
  INSERT INTO stack_resources (stack, logical_id, position, doc)
    SELECT s.name, r.key, r.ord, r.value::text
    FROM stacks s, json_each(COALESCE(s.doc::json -> 'resources', '{}')) WITH ORDINALITY AS r(key, value, ord);
  INSERT INTO stack_events (stack, seq, doc)
    SELECT s.name, e.ord - 1, e.value::text
    FROM stacks s, json_array_elements(COALESCE(s.doc::json -> 'events', '[]')) WITH ORDINALITY AS e(value, ord);
  INSERT INTO stack_plans (name, doc)
    SELECT name, json_build_object(
      'template', d -> 'template',
      'changeSets', d -> 'changeSets',
      'operation', CASE WHEN d -> 'operation' IS NULL THEN NULL ELSE json_build_object(
        'definitions', d -> 'operation' -> 'definitions',
        'outputs', d -> 'operation' -> 'outputs',
        'conditions', d -> 'operation' -> 'conditions',
        'mappings', d -> 'operation' -> 'mappings',
        'imports', d -> 'operation' -> 'imports',
        'parameters', d -> 'operation' -> 'parameters'
      ) END
    )::text FROM (SELECT name, doc::json AS d FROM stacks) s;
  UPDATE stacks s SET doc = (
    SELECT json_object_agg(
      e.key,
      CASE WHEN e.key <> 'operation' THEN e.value ELSE (
        SELECT json_object_agg(o.key, o.value ORDER BY o.ord)
        FROM json_each(e.value) WITH ORDINALITY AS o(key, value, ord)
        WHERE o.key NOT IN ('definitions', 'outputs', 'conditions', 'mappings', 'imports', 'parameters')
      ) END
      ORDER BY e.ord
    )::text
    FROM json_each(s.doc::json) WITH ORDINALITY AS e(key, value, ord)
    WHERE e.key NOT IN ('resources', 'events', 'template', 'changeSets')
  );
  `,
  // A bucket's region and creation date beside its record, so that ListBuckets reads no record (a
  // bucket's settings reach 1 MiB). Taken from the record's text, not as JSON: PostgreSQL's JSON
  // operators refuse a record whose settings hold an escaped U+0000, and in JSON text a quote within a
  // string is escaped, so the first `"region":"` is the record's own member.
  `
  ALTER TABLE s3_buckets ADD COLUMN region TEXT NOT NULL DEFAULT '';
  ALTER TABLE s3_buckets ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
  UPDATE s3_buckets SET region = substring(doc from '"region":"([^"]*)"'),
    created_at = substring(doc from '"createdAt":(\\d+)')::bigint;
  ALTER TABLE s3_buckets ALTER COLUMN region DROP DEFAULT;
  ALTER TABLE s3_buckets ALTER COLUMN created_at DROP DEFAULT;
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
