// API Gateway REST APIs with their deployments (frozen snapshots of the API's resources) and stages.
import type { DeploymentDoc, RestApiDoc, StageDoc } from '../../domain/rest-api.js';
import type { DeploymentRepository, RestApiRepository, StageRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';

export class SqliteRestApis implements RestApiRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(id: string) {
    return this.guard(() =>
      parse<RestApiDoc>(this.db.prepare('SELECT doc FROM rest_apis WHERE id = ?').get(id) as { doc: string } | undefined),
    );
  }

  list() {
    return this.guard(() => docs<RestApiDoc>(this.db.prepare('SELECT doc FROM rest_apis ORDER BY seq').all()));
  }

  put(api: RestApiDoc) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO rest_apis (id, seq, doc) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rest_apis), ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc',
        )
        .run(api.id, JSON.stringify(api));
    });
  }

  delete(id: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM stages WHERE rest_api_id = ?').run(id);
        this.db.prepare('DELETE FROM deployments WHERE rest_api_id = ?').run(id);
        this.db.prepare('DELETE FROM rest_apis WHERE id = ?').run(id);
      })();
    });
  }
}

export class SqliteDeployments implements DeploymentRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(restApiId: string, id: string) {
    return this.guard(() =>
      parse<DeploymentDoc>(
        this.db.prepare('SELECT doc FROM deployments WHERE rest_api_id = ? AND id = ?').get(restApiId, id) as { doc: string } | undefined,
      ),
    );
  }

  list(restApiId: string) {
    return this.guard(() =>
      docs<DeploymentDoc>(this.db.prepare('SELECT doc FROM deployments WHERE rest_api_id = ? ORDER BY seq').all(restApiId)),
    );
  }

  put(deployment: DeploymentDoc) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO deployments (rest_api_id, id, seq, doc) VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM deployments), ?) ON CONFLICT(rest_api_id, id) DO UPDATE SET doc = excluded.doc',
        )
        .run(deployment.restApiId, deployment.id, JSON.stringify(deployment));
    });
  }

  delete(restApiId: string, id: string) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM deployments WHERE rest_api_id = ? AND id = ?').run(restApiId, id);
    });
  }
}

export class SqliteStages implements StageRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(restApiId: string, name: string) {
    return this.guard(() =>
      parse<StageDoc>(
        this.db.prepare('SELECT doc FROM stages WHERE rest_api_id = ? AND name = ?').get(restApiId, name) as { doc: string } | undefined,
      ),
    );
  }

  list(restApiId: string) {
    return this.guard(() => docs<StageDoc>(this.db.prepare('SELECT doc FROM stages WHERE rest_api_id = ? ORDER BY name').all(restApiId)));
  }

  put(stage: StageDoc) {
    return this.guard(() => {
      this.db
        .prepare(
          'INSERT INTO stages (rest_api_id, name, doc) VALUES (?, ?, ?) ON CONFLICT(rest_api_id, name) DO UPDATE SET doc = excluded.doc',
        )
        .run(stage.restApiId, stage.stageName, JSON.stringify(stage));
    });
  }

  delete(restApiId: string, name: string) {
    return this.guard(() => {
      this.db.prepare('DELETE FROM stages WHERE rest_api_id = ? AND name = ?').run(restApiId, name);
    });
  }
}
