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
import type { Db } from './db.js';
import { docs, parse } from './db.js';
import { deleteTags } from './tags.js';

/** A version number as the versions table keys it, or undefined for a qualifier that is not one ($LATEST, an alias). */
const versionNumber = (version: string) => (/^[0-9]+$/.test(version) ? Number(version) : undefined);

export class PostgresFunctions implements FunctionRepository {
  constructor(private readonly db: Db) {}

  async get(name: string) {
    return parse<FunctionRecord>(await this.db.row('SELECT doc FROM functions WHERE name = $1', [name]));
  }

  async list() {
    return docs<FunctionRecord>(await this.db.rows('SELECT doc FROM functions ORDER BY name'));
  }

  async create(record: FunctionRecord) {
    const created = await this.db.run('INSERT INTO functions (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
      record.name,
      JSON.stringify(record),
    ]);
    if (created === 0) throw new StoreConflict(`function ${record.name} exists`);
  }

  /** The stored revision is compared in the statement itself, so no other write can come between the check and the write. */
  async update(record: FunctionRecord, expectedRevisionId: string) {
    const updated = await this.db.run("UPDATE functions SET doc = $1 WHERE name = $2 AND doc::json ->> 'revisionId' = $3", [
      JSON.stringify(record),
      record.name,
      expectedRevisionId,
    ]);
    if (updated === 0) throw new StoreConflict(`function ${record.name} is not at revision ${expectedRevisionId}`);
  }

  delete(name: string) {
    return this.db.atomic(async (db) => {
      for (const table of ['versions', 'aliases', 'policies', 'policy_revisions', 'event_invoke_configs', 'async_events']) {
        await db.run(`DELETE FROM ${table} WHERE function_name = $1`, [name]);
      }
      await db.run('DELETE FROM functions WHERE name = $1', [name]);
      await deleteTags(db, { kind: 'function', name });
    });
  }
}

export class PostgresVersions implements VersionRepository {
  constructor(private readonly db: Db) {}

  async get(functionName: string, version: string) {
    const number = versionNumber(version);
    if (number === undefined) return undefined;
    return parse<VersionRecord>(
      await this.db.row('SELECT doc FROM versions WHERE function_name = $1 AND version = $2', [functionName, number]),
    );
  }

  async list(functionName: string, page: { after?: number; limit?: number } = {}) {
    return docs<VersionRecord>(
      await this.db.rows('SELECT doc FROM versions WHERE function_name = $1 AND version > $2 ORDER BY version LIMIT $3', [
        functionName,
        page.after ?? 0,
        page.limit ?? null,
      ]),
    );
  }

  async create(record: VersionRecord) {
    const created = await this.db.run(
      'INSERT INTO versions (function_name, version, doc) VALUES ($1, $2, $3) ON CONFLICT (function_name, version) DO NOTHING',
      [record.functionName, Number(record.version), JSON.stringify(record)],
    );
    if (created === 0) throw new StoreConflict(`version ${record.version} of ${record.functionName} exists`);
  }

  delete(functionName: string, version: string) {
    return this.db.atomic(async (db) => {
      const number = versionNumber(version);
      if (number !== undefined) await db.run('DELETE FROM versions WHERE function_name = $1 AND version = $2', [functionName, number]);
      await db.run('DELETE FROM policies WHERE function_name = $1 AND qualifier = $2', [functionName, version]);
      await db.run('DELETE FROM policy_revisions WHERE function_name = $1 AND qualifier = $2', [functionName, version]);
      await db.run('DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2', [functionName, version]);
    });
  }
}

export class PostgresAliases implements AliasRepository {
  constructor(private readonly db: Db) {}

  async get(functionName: string, name: string) {
    return parse<AliasRecord>(await this.db.row('SELECT doc FROM aliases WHERE function_name = $1 AND name = $2', [functionName, name]));
  }

  async list(functionName: string) {
    return docs<AliasRecord>(await this.db.rows('SELECT doc FROM aliases WHERE function_name = $1 ORDER BY name', [functionName]));
  }

  async create(record: AliasRecord) {
    const created = await this.db.run(
      'INSERT INTO aliases (function_name, name, doc) VALUES ($1, $2, $3) ON CONFLICT (function_name, name) DO NOTHING',
      [record.functionName, record.name, JSON.stringify(record)],
    );
    if (created === 0) throw new StoreConflict(`alias ${record.name} of ${record.functionName} exists`);
  }

  async update(record: AliasRecord, expectedRevisionId: string) {
    const updated = await this.db.run(
      "UPDATE aliases SET doc = $1 WHERE function_name = $2 AND name = $3 AND doc::json ->> 'revisionId' = $4",
      [JSON.stringify(record), record.functionName, record.name, expectedRevisionId],
    );
    if (updated === 0) throw new StoreConflict(`alias ${record.name} of ${record.functionName} is not at revision ${expectedRevisionId}`);
  }

  delete(functionName: string, name: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM aliases WHERE function_name = $1 AND name = $2', [functionName, name]);
      await db.run('DELETE FROM policies WHERE function_name = $1 AND qualifier = $2', [functionName, name]);
      await db.run('DELETE FROM policy_revisions WHERE function_name = $1 AND qualifier = $2', [functionName, name]);
      await db.run('DELETE FROM event_invoke_configs WHERE function_name = $1 AND qualifier = $2', [functionName, name]);
    });
  }
}

export class PostgresPolicies implements PolicyRepository {
  constructor(private readonly db: Db) {}

  async list(functionName: string, qualifier: string) {
    const rows = await this.db.rows<{ sid: string; doc: string }>(
      'SELECT sid, doc FROM policies WHERE function_name = $1 AND qualifier = $2 ORDER BY seq',
      [functionName, qualifier],
    );
    return rows.map((r): PolicyStatement => ({ sid: r.sid, statement: readDocument<Record<string, unknown>>(r.doc) }));
  }

  async revision(functionName: string, qualifier: string) {
    const row = await this.db.row<{ revision_id: string }>(
      'SELECT revision_id FROM policy_revisions WHERE function_name = $1 AND qualifier = $2',
      [functionName, qualifier],
    );
    return row?.revision_id;
  }

  put(functionName: string, qualifier: string, statement: PolicyStatement, revisionId: string) {
    return this.db.atomic(async (db) => {
      await db.run('INSERT INTO policies (function_name, qualifier, sid, doc) VALUES ($1, $2, $3, $4)', [
        functionName,
        qualifier,
        statement.sid,
        JSON.stringify(statement.statement),
      ]);
      await renew(db, functionName, qualifier, revisionId);
    });
  }

  delete(functionName: string, qualifier: string, sid: string, revisionId: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM policies WHERE function_name = $1 AND qualifier = $2 AND sid = $3', [functionName, qualifier, sid]);
      await renew(db, functionName, qualifier, revisionId);
    });
  }
}

function renew(db: Db, functionName: string, qualifier: string, revisionId: string): Promise<number> {
  return db.run(
    'INSERT INTO policy_revisions (function_name, qualifier, revision_id) VALUES ($1, $2, $3) ' +
      'ON CONFLICT (function_name, qualifier) DO UPDATE SET revision_id = excluded.revision_id',
    [functionName, qualifier, revisionId],
  );
}
