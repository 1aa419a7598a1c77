// The tags of every taggable resource, in one table.
import type { TaggedResource, Tags } from '../../domain/tags.js';
import type { TagRepository } from '../store.js';
import type { Db } from './db.js';

/** The key columns of a tagged resource: a deployment group is owned by its application. */
function tagKey(resource: TaggedResource): [kind: string, owner: string, name: string] {
  return [resource.kind, resource.kind === 'deployment-group' ? resource.application : '', resource.name];
}

/** Empties a resource's tags: each taggable aggregate's delete calls it, so the tags go with the resource. */
export async function deleteTags(db: Db, resource: TaggedResource): Promise<void> {
  await db.run('DELETE FROM tags WHERE kind = $1 AND owner = $2 AND name = $3', tagKey(resource));
}

export class PostgresTags implements TagRepository {
  constructor(private readonly db: Db) {}

  async get(resource: TaggedResource) {
    const rows = await this.db.rows<{ key: string; value: string }>(
      'SELECT key, value FROM tags WHERE kind = $1 AND owner = $2 AND name = $3 ORDER BY key',
      tagKey(resource),
    );
    return Object.fromEntries<string>(rows.map((r) => [r.key, r.value]));
  }

  put(resource: TaggedResource, tags: Tags) {
    return this.db.atomic(async (db) => {
      await deleteTags(db, resource);
      const entries = Object.entries(tags);
      if (entries.length === 0) return;
      await db.run(
        'INSERT INTO tags (kind, owner, name, key, value) SELECT $1, $2, $3, k, v FROM unnest($4::text[], $5::text[]) AS t (k, v)',
        [...tagKey(resource), entries.map(([k]) => k), entries.map(([, v]) => v)],
      );
    });
  }
}
