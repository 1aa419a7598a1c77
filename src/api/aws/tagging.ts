import type { PlatformError } from '../../core/errors.js';
import { checkTags, mergeTags, type TagErrors, type TaggedResource, type Tags } from '../../domain/tags.js';
import type { Store } from '../../store/store.js';

/** How a service answers about tags: its errors for broken rules and for a resource that does not exist. */
export interface TagDialect extends TagErrors {
  notFound: (resource: TaggedResource) => PlatformError;
}

/**
 * The tag operations every service's API shares: read, add and remove the tags of a resource that
 * exists, checked by AWS's rules, in one store transaction with the existence check, so a tag never
 * outlives (or lands on a name-sake of) a resource deleted at the same moment.
 */
export class ResourceTags {
  constructor(private readonly store: Store) {}

  async list(resource: TaggedResource, dialect: Pick<TagDialect, 'notFound'>): Promise<Tags> {
    if (!(await exists(this.store, resource))) throw dialect.notFound(resource);
    return this.store.tags.get(resource);
  }

  /**
   * The tags of a resource, none when it does not exist (CloudWatch's ListTagsForResource answers so): a
   * resource's tags are deleted with it, so a missing one has none to show.
   */
  async listOrNone(resource: TaggedResource): Promise<Tags> {
    return this.store.tags.get(resource);
  }

  async add(resource: TaggedResource, tags: Tags, dialect: TagDialect): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!(await exists(tx, resource))) throw dialect.notFound(resource);
      const existing = await tx.tags.get(resource);
      checkTags(tags, existing, dialect);
      await tx.tags.put(resource, mergeTags(existing, tags));
    });
  }

  async remove(resource: TaggedResource, keys: readonly string[], dialect: Pick<TagDialect, 'notFound'>): Promise<void> {
    await this.store.transaction(async (tx) => {
      if (!(await exists(tx, resource))) throw dialect.notFound(resource);
      await tx.tags.put(resource, mergeTags(await tx.tags.get(resource), {}, keys));
    });
  }
}

async function exists(store: Store, resource: TaggedResource): Promise<boolean> {
  switch (resource.kind) {
    case 'function':
      return (await store.functions.get(resource.name)) !== undefined;
    case 'log-group':
      return (await store.logs.getGroup(resource.name)) !== undefined;
    case 'alarm':
      return (await store.alarms.get(resource.name)) !== undefined;
    case 'application':
      return (await store.codeDeploy.getApplication(resource.name)) !== undefined;
    case 'deployment-group':
      return (await store.codeDeploy.getGroup(resource.application, resource.name)) !== undefined;
  }
}
