// CodeDeploy applications, deployment groups, deployment configs and deployments.
import type { ApplicationDoc, DeploymentConfigDoc, DeploymentGroupDoc } from '../../domain/code-deploy.js';
import type { DeploymentState } from '../../domain/deployment.js';
import type { CodeDeployRepository } from '../store.js';
import type { Db, Guard } from './db.js';
import { docs, parse } from './db.js';
import { deleteTags } from './tags.js';

export class SqliteCodeDeploy implements CodeDeployRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  private one<T>(sql: string, ...args: unknown[]) {
    return this.guard(() => parse<T>(this.db.prepare(sql).get(...args) as { doc: string } | undefined));
  }

  private many<T>(sql: string, ...args: unknown[]) {
    return this.guard(() => docs<T>(this.db.prepare(sql).all(...args)));
  }

  private run(sql: string, ...args: unknown[]) {
    return this.guard(() => {
      this.db.prepare(sql).run(...args);
    });
  }

  getApplication(name: string) {
    return this.one<ApplicationDoc>('SELECT doc FROM cd_applications WHERE name = ?', name);
  }

  listApplications() {
    return this.many<ApplicationDoc>('SELECT doc FROM cd_applications ORDER BY name');
  }

  putApplication(app: ApplicationDoc) {
    return this.run(
      'INSERT INTO cd_applications (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc',
      app.applicationName,
      JSON.stringify(app),
    );
  }

  deleteApplication(name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM cd_deployment_groups WHERE application = ?').run(name);
        this.db.prepare('DELETE FROM cd_applications WHERE name = ?').run(name);
        deleteTags(this.db, { kind: 'application', name });
        this.db.prepare("DELETE FROM tags WHERE kind = 'deployment-group' AND owner = ?").run(name);
      })();
    });
  }

  getGroup(application: string, name: string) {
    return this.one<DeploymentGroupDoc>('SELECT doc FROM cd_deployment_groups WHERE application = ? AND name = ?', application, name);
  }

  listGroups(application: string) {
    return this.many<DeploymentGroupDoc>('SELECT doc FROM cd_deployment_groups WHERE application = ? ORDER BY name', application);
  }

  groupNames(application: string) {
    return this.guard(() =>
      (
        this.db.prepare('SELECT name FROM cd_deployment_groups WHERE application = ? ORDER BY name').all(application) as { name: string }[]
      ).map((r) => r.name),
    );
  }

  putGroup(group: DeploymentGroupDoc) {
    return this.run(
      'INSERT INTO cd_deployment_groups (application, name, doc) VALUES (?, ?, ?) ON CONFLICT(application, name) DO UPDATE SET doc = excluded.doc',
      group.applicationName,
      group.deploymentGroupName,
      JSON.stringify(group),
    );
  }

  deleteGroup(application: string, name: string) {
    return this.guard(() => {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM cd_deployment_groups WHERE application = ? AND name = ?').run(application, name);
        deleteTags(this.db, { kind: 'deployment-group', application, name });
      })();
    });
  }

  getConfig(name: string) {
    return this.one<DeploymentConfigDoc>('SELECT doc FROM cd_deployment_configs WHERE name = ?', name);
  }

  listConfigs() {
    return this.many<DeploymentConfigDoc>('SELECT doc FROM cd_deployment_configs ORDER BY name');
  }

  putConfig(config: DeploymentConfigDoc) {
    return this.run(
      'INSERT INTO cd_deployment_configs (name, doc) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET doc = excluded.doc',
      config.deploymentConfigName,
      JSON.stringify(config),
    );
  }

  deleteConfig(name: string) {
    return this.run('DELETE FROM cd_deployment_configs WHERE name = ?', name);
  }

  getDeployment(id: string) {
    return this.one<DeploymentState>('SELECT doc FROM cd_deployments WHERE id = ?', id);
  }

  listDeployments(filter: { application?: string; group?: string }) {
    return this.many<DeploymentState>(
      'SELECT doc FROM cd_deployments WHERE (? IS NULL OR application = ?) AND (? IS NULL OR grp = ?) ORDER BY seq DESC',
      filter.application ?? null,
      filter.application ?? null,
      filter.group ?? null,
      filter.group ?? null,
    );
  }

  deploymentIds(filter: { application?: string; group?: string; statuses?: readonly string[] }, page: { before?: number; limit: number }) {
    const statuses = filter.statuses?.length ? ` AND status IN (${filter.statuses.map(() => '?').join(', ')})` : '';
    return this.guard(
      () =>
        this.db
          .prepare(
            `SELECT id, seq FROM cd_deployments WHERE (? IS NULL OR application = ?) AND (? IS NULL OR grp = ?)${statuses} AND seq < ? ORDER BY seq DESC LIMIT ?`,
          )
          .all(
            filter.application ?? null,
            filter.application ?? null,
            filter.group ?? null,
            filter.group ?? null,
            ...(filter.statuses ?? []),
            page.before ?? Number.MAX_SAFE_INTEGER,
            page.limit,
          ) as { id: string; seq: number }[],
    );
  }

  activeDeployments() {
    return this.many<DeploymentState>("SELECT doc FROM cd_deployments WHERE status IN ('Created', 'InProgress') ORDER BY seq");
  }

  putDeployment(d: DeploymentState) {
    return this.run(
      'INSERT INTO cd_deployments (id, seq, application, grp, status, doc) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM cd_deployments), ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, doc = excluded.doc',
      d.deploymentId,
      d.applicationName,
      d.deploymentGroupName,
      d.status,
      JSON.stringify(d),
    );
  }

  deleteDeployments(filter: { application: string; group?: string }) {
    return this.guard(
      () =>
        this.db
          .prepare('DELETE FROM cd_deployments WHERE application = ? AND (? IS NULL OR grp = ?)')
          .run(filter.application, filter.group ?? null, filter.group ?? null).changes,
    );
  }
}
