// Lambda functions with their published versions, aliases and resource-policy statements.
import { readDocument } from '../documents.js';
import type { AliasRecord, FunctionRecord, VersionRecord } from '../../domain/lambda-function.js';
import {
  StoreConflict,
  type AliasRepository,
  type FunctionRepository,
  type PolicyRepository,
  type PolicyStatement,
  type VersionRepository,
} from '../store.js';
import type { Db, Guard } from './db.js';
import { parse } from './db.js';
import { deleteTags } from './tags.js';

export class SqliteFunctions implements FunctionRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(name: string) {
    return this.guard(() =>
      parse<FunctionRecord>(this.db.prepare('SELECT doc FROM functions WHERE name = ?').get(name) as { doc: string } | undefined),
    );
  }

  list() {
    return this.guard(() =>
      (this.db.prepare('SELECT doc FROM functions ORDER BY name').all() as { doc: string }[]).map((r) =>
        readDocument<FunctionRecord>(r.doc),
      ),
    );
  }

  create(record: FunctionRecord) {
    return this.guard(() => {
      const { changes } = this.db
        .prepare('INSERT INTO functions (name, doc) VALUES (?, ?) ON CONFLICT(name) DO NOTHING')
        .run(record.name, JSON.stringify(record));
      if (changes === 0) throw new StoreConflict(`function ${record.name} exists`);
    });
  }

  update(record: FunctionRecord, expectedRevisionId: string) {
    return this.guard(() => {
      const { changes } = this.db
        .prepare("UPDATE functions SET doc = ? WHERE name = ? AND json_extract(doc, '$.revisionId') = ?")
        .run(JSON.stringify(record), record.name, expectedRevisionId);
      if (changes === 0) throw new StoreConflict(`function ${record.name} is not at revision ${expectedRevisionId}`);
    });
  }

  delete(name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        for (const table of ['versions', 'aliases', 'policies', 'policy_revisions', 'event_invoke_configs', 'async_events']) {
          this.db.prepare(`DELETE FROM ${table} WHERE function_name = ?`).run(name);
        }
        this.db.prepare('DELETE FROM functions WHERE name = ?').run(name);
        deleteTags(this.db, { kind: 'function', name });
      })();
    });
  }
}

export class SqliteVersions implements VersionRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(functionName: string, version: string) {
    if (!/^[0-9]+$/.test(version)) return Promise.resolve(undefined);
    return this.guard(() =>
      parse<VersionRecord>(
        this.db.prepare('SELECT doc FROM versions WHERE function_name = ? AND version = ?').get(functionName, Number(version)) as
          { doc: string } | undefined,
      ),
    );
  }

  list(functionName: string, page: { after?: number; limit?: number } = {}) {
    return this.guard(() =>
      (
        this.db
          .prepare('SELECT doc FROM versions WHERE function_name = ? AND version > ? ORDER BY version LIMIT ?')
          .all(functionName, page.after ?? 0, page.limit ?? -1) as { doc: string }[]
      ).map((r) => readDocument<VersionRecord>(r.doc)),
    );
  }

  create(record: VersionRecord) {
    return this.guard(() => {
      const { changes } = this.db
        .prepare('INSERT INTO versions (function_name, version, doc) VALUES (?, ?, ?) ON CONFLICT(function_name, version) DO NOTHING')
        .run(record.functionName, Number(record.version), JSON.stringify(record));
      if (changes === 0) throw new StoreConflict(`version ${record.version} of ${record.functionName} exists`);
    });
  }

  delete(functionName: string, version: string) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM versions WHERE function_name = ? AND version = ?').run(functionName, Number(version));
      this.db.prepare('DELETE FROM policies WHERE function_name = ? AND qualifier = ?').run(functionName, version);
      this.db.prepare('DELETE FROM policy_revisions WHERE function_name = ? AND qualifier = ?').run(functionName, version);
      this.db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').run(functionName, version);
    });
  }
}

export class SqliteAliases implements AliasRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(functionName: string, name: string) {
    return this.guard(() =>
      parse<AliasRecord>(
        this.db.prepare('SELECT doc FROM aliases WHERE function_name = ? AND name = ?').get(functionName, name) as
          { doc: string } | undefined,
      ),
    );
  }

  list(functionName: string) {
    return this.guard(() =>
      (this.db.prepare('SELECT doc FROM aliases WHERE function_name = ? ORDER BY name').all(functionName) as { doc: string }[]).map((r) =>
        readDocument<AliasRecord>(r.doc),
      ),
    );
  }

  create(record: AliasRecord) {
    return this.guard(() => {
      const { changes } = this.db
        .prepare('INSERT INTO aliases (function_name, name, doc) VALUES (?, ?, ?) ON CONFLICT(function_name, name) DO NOTHING')
        .run(record.functionName, record.name, JSON.stringify(record));
      if (changes === 0) throw new StoreConflict(`alias ${record.name} of ${record.functionName} exists`);
    });
  }

  update(record: AliasRecord, expectedRevisionId: string) {
    return this.guard(() => {
      const { changes } = this.db
        .prepare("UPDATE aliases SET doc = ? WHERE function_name = ? AND name = ? AND json_extract(doc, '$.revisionId') = ?")
        .run(JSON.stringify(record), record.functionName, record.name, expectedRevisionId);
      if (changes === 0) throw new StoreConflict(`alias ${record.name} of ${record.functionName} is not at revision ${expectedRevisionId}`);
    });
  }

  delete(functionName: string, name: string) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM aliases WHERE function_name = ? AND name = ?').run(functionName, name);
      this.db.prepare('DELETE FROM policies WHERE function_name = ? AND qualifier = ?').run(functionName, name);
      this.db.prepare('DELETE FROM policy_revisions WHERE function_name = ? AND qualifier = ?').run(functionName, name);
      this.db.prepare('DELETE FROM event_invoke_configs WHERE function_name = ? AND qualifier = ?').run(functionName, name);
    });
  }
}

export class SqlitePolicies implements PolicyRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  list(functionName: string, qualifier: string) {
    return this.guard(() =>
      (
        this.db
          .prepare('SELECT sid, doc FROM policies WHERE function_name = ? AND qualifier = ? ORDER BY rowid')
          .all(functionName, qualifier) as {
          sid: string;
          doc: string;
        }[]
      ).map((r): PolicyStatement => ({ sid: r.sid, statement: readDocument<Record<string, unknown>>(r.doc) })),
    );
  }

  revision(functionName: string, qualifier: string) {
    return this.guard(() => {
      const row = this.db
        .prepare('SELECT revision_id FROM policy_revisions WHERE function_name = ? AND qualifier = ?')
        .get(functionName, qualifier) as { revision_id: string } | undefined;
      return row?.revision_id;
    });
  }

  put(functionName: string, qualifier: string, statement: PolicyStatement, revisionId: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db
          .prepare('INSERT INTO policies (function_name, qualifier, sid, doc) VALUES (?, ?, ?, ?)')
          .run(functionName, qualifier, statement.sid, JSON.stringify(statement.statement));
        this.renew(functionName, qualifier, revisionId);
      })();
    });
  }

  delete(functionName: string, qualifier: string, sid: string, revisionId: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM policies WHERE function_name = ? AND qualifier = ? AND sid = ?').run(functionName, qualifier, sid);
        this.renew(functionName, qualifier, revisionId);
      })();
    });
  }

  private renew(functionName: string, qualifier: string, revisionId: string): void {
    this.db
      .prepare(
        'INSERT INTO policy_revisions (function_name, qualifier, revision_id) VALUES (?, ?, ?) ' +
          'ON CONFLICT (function_name, qualifier) DO UPDATE SET revision_id = excluded.revision_id',
      )
      .run(functionName, qualifier, revisionId);
  }
}
