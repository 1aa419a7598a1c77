// CodeDeploy applications, deployment groups, deployment configs and deployments.
import type { ApplicationDoc, DeploymentConfigDoc, DeploymentGroupDoc } from '../../domain/code-deploy.js';
import type { DeploymentState } from '../../domain/deployment.js';
import type { CodeDeployRepository } from '../store.js';
import type { Db } from './db.js';
import { docs, parse } from './db.js';
import { deleteTags } from './tags.js';

export class PostgresCodeDeploy implements CodeDeployRepository {
  constructor(private readonly db: Db) {}

  private async one<T>(sql: string, ...args: unknown[]) {
    return parse<T>(await this.db.row(sql, args));
  }

  private async many<T>(sql: string, ...args: unknown[]) {
    return docs<T>(await this.db.rows(sql, args));
  }

  private async run(sql: string, ...args: unknown[]) {
    await this.db.run(sql, args);
  }

  getApplication(name: string) {
    return this.one<ApplicationDoc>('SELECT doc FROM cd_applications WHERE name = $1', name);
  }

  listApplications() {
    return this.many<ApplicationDoc>('SELECT doc FROM cd_applications ORDER BY name');
  }

  putApplication(app: ApplicationDoc) {
    return this.run(
      'INSERT INTO cd_applications (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc',
      app.applicationName,
      JSON.stringify(app),
    );
  }

  deleteApplication(name: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM cd_deployment_groups WHERE application = $1', [name]);
      await db.run('DELETE FROM cd_applications WHERE name = $1', [name]);
      await deleteTags(db, { kind: 'application', name });
      await db.run("DELETE FROM tags WHERE kind = 'deployment-group' AND owner = $1", [name]);
    });
  }

  getGroup(application: string, name: string) {
    return this.one<DeploymentGroupDoc>('SELECT doc FROM cd_deployment_groups WHERE application = $1 AND name = $2', application, name);
  }

  listGroups(application: string) {
    return this.many<DeploymentGroupDoc>('SELECT doc FROM cd_deployment_groups WHERE application = $1 ORDER BY name', application);
  }

  async groupNames(application: string) {
    const rows = await this.db.rows<{ name: string }>('SELECT name FROM cd_deployment_groups WHERE application = $1 ORDER BY name', [
      application,
    ]);
    return rows.map((r) => r.name);
  }

  putGroup(group: DeploymentGroupDoc) {
    return this.run(
      'INSERT INTO cd_deployment_groups (application, name, doc) VALUES ($1, $2, $3) ON CONFLICT (application, name) DO UPDATE SET doc = excluded.doc',
      group.applicationName,
      group.deploymentGroupName,
      JSON.stringify(group),
    );
  }

  deleteGroup(application: string, name: string) {
    return this.db.atomic(async (db) => {
      await db.run('DELETE FROM cd_deployment_groups WHERE application = $1 AND name = $2', [application, name]);
      await deleteTags(db, { kind: 'deployment-group', application, name });
    });
  }

  getConfig(name: string) {
    return this.one<DeploymentConfigDoc>('SELECT doc FROM cd_deployment_configs WHERE name = $1', name);
  }

  listConfigs() {
    return this.many<DeploymentConfigDoc>('SELECT doc FROM cd_deployment_configs ORDER BY name');
  }

  putConfig(config: DeploymentConfigDoc) {
    return this.run(
      'INSERT INTO cd_deployment_configs (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc',
      config.deploymentConfigName,
      JSON.stringify(config),
    );
  }

  deleteConfig(name: string) {
    return this.run('DELETE FROM cd_deployment_configs WHERE name = $1', name);
  }

  getDeployment(id: string) {
    return this.one<DeploymentState>('SELECT doc FROM cd_deployments WHERE id = $1', id);
  }

  listDeployments(filter: { application?: string; group?: string }) {
    // Only the conditions given, so that a group's lookup reads its index range: a serializable
    // transaction that scans the whole table conflicts with every deployment created meanwhile.
    const where: string[] = [];
    const args: string[] = [];
    if (filter.application !== undefined) where.push(`application = $${args.push(filter.application)}`);
    if (filter.group !== undefined) where.push(`grp = $${args.push(filter.group)}`);
    return this.many<DeploymentState>(
      `SELECT doc FROM cd_deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC`,
      ...args,
    );
  }

  activeDeployments() {
    return this.many<DeploymentState>("SELECT doc FROM cd_deployments WHERE status IN ('Created', 'InProgress') ORDER BY seq");
  }

  /** A new deployment takes the next creation number (`seq` is an identity); an update keeps its own. */
  async deploymentIds(
    filter: { application?: string; group?: string; statuses?: readonly string[] },
    page: { before?: number; limit: number },
  ) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.application !== undefined) where.push(`application = $${args.push(filter.application)}`);
    if (filter.group !== undefined) where.push(`grp = $${args.push(filter.group)}`);
    if (filter.statuses?.length) where.push(`status = ANY($${args.push(filter.statuses)})`);
    if (page.before !== undefined) where.push(`seq < $${args.push(page.before)}`);
    const rows = await this.db.rows<{ id: string; seq: string | number }>(
      `SELECT id, seq FROM cd_deployments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${args.push(page.limit)}`,
      args,
    );
    return rows.map((r) => ({ id: r.id, seq: Number(r.seq) }));
  }

  putDeployment(d: DeploymentState) {
    return this.run(
      'INSERT INTO cd_deployments (id, application, grp, status, doc) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET status = excluded.status, doc = excluded.doc',
      d.deploymentId,
      d.applicationName,
      d.deploymentGroupName,
      d.status,
      JSON.stringify(d),
    );
  }

  deleteDeployments(filter: { application: string; group?: string }) {
    return this.db.run('DELETE FROM cd_deployments WHERE application = $1 AND ($2::text IS NULL OR grp = $2)', [
      filter.application,
      filter.group ?? null,
    ]);
  }
}
