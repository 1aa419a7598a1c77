// API Gateway REST APIs with their deployments (frozen snapshots of the API's resources) and stages.
import type { DeploymentDoc, RestApiDoc, StageDoc } from '../../domain/rest-api.js';
import type { DeploymentRepository, RestApiRepository, StageRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse } from './db.js';

export class PostgresRestApis implements RestApiRepository {
  constructor(private readonly db: Db) {}

  async get(id: string) {
    return parse<RestApiDoc>(await this.db.row('SELECT doc FROM rest_apis WHERE id = $1', [id]));
  }

  async list() {
    return docs<RestApiDoc>(await this.db.rows('SELECT doc FROM rest_apis ORDER BY seq'));
  }

  /** A new API takes the next creation number (`seq` is an identity); an update keeps its own. */
  async put(api: RestApiDoc) {
    await this.db.run('INSERT INTO rest_apis (id, doc) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc', [
      api.id,
      JSON.stringify(api),
    ]);
  }

  delete(id: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM stages WHERE rest_api_id = $1', [id]);
      await db.run('DELETE FROM deployments WHERE rest_api_id = $1', [id]);
      await db.run('DELETE FROM rest_apis WHERE id = $1', [id]);
    });
  }
}

export class PostgresDeployments implements DeploymentRepository {
  constructor(private readonly db: Db) {}

  async get(restApiId: string, id: string) {
    return parse<DeploymentDoc>(await this.db.row('SELECT doc FROM deployments WHERE rest_api_id = $1 AND id = $2', [restApiId, id]));
  }

  async list(restApiId: string) {
    return docs<DeploymentDoc>(await this.db.rows('SELECT doc FROM deployments WHERE rest_api_id = $1 ORDER BY seq', [restApiId]));
  }

  async put(deployment: DeploymentDoc) {
    await this.db.run(
      'INSERT INTO deployments (rest_api_id, id, doc) VALUES ($1, $2, $3) ON CONFLICT (rest_api_id, id) DO UPDATE SET doc = excluded.doc',
      [deployment.restApiId, deployment.id, JSON.stringify(deployment)],
    );
  }

  async delete(restApiId: string, id: string) {
    await this.db.run('DELETE FROM deployments WHERE rest_api_id = $1 AND id = $2', [restApiId, id]);
  }
}

export class PostgresStages implements StageRepository {
  constructor(private readonly db: Db) {}

  async get(restApiId: string, name: string) {
    return parse<StageDoc>(await this.db.row('SELECT doc FROM stages WHERE rest_api_id = $1 AND name = $2', [restApiId, name]));
  }

  async list(restApiId: string) {
    return docs<StageDoc>(await this.db.rows('SELECT doc FROM stages WHERE rest_api_id = $1 ORDER BY name', [restApiId]));
  }

  async put(stage: StageDoc) {
    await this.db.run(
      'INSERT INTO stages (rest_api_id, name, doc) VALUES ($1, $2, $3) ON CONFLICT (rest_api_id, name) DO UPDATE SET doc = excluded.doc',
      [stage.restApiId, stage.stageName, JSON.stringify(stage)],
    );
  }

  async delete(restApiId: string, name: string) {
    await this.db.run('DELETE FROM stages WHERE rest_api_id = $1 AND name = $2', [restApiId, name]);
  }
}
