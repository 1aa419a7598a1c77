// The tags of every taggable resource, in one table.
import type { TaggedResource, Tags } from '../../domain/tags.js';
import type { TagRepository } from '../store.js';
import type { Db, Guard } from './db.js';

/** The key columns of a tagged resource: a deployment group is owned by its application. */
function tagKey(resource: TaggedResource): [kind: string, owner: string, name: string] {
  return [resource.kind, resource.kind === 'deployment-group' ? resource.application : '', resource.name];
}

/** Empties a resource's tags: each taggable aggregate's delete calls it, so the tags go with the resource. */
export function deleteTags(db: Db, resource: TaggedResource): void {
  db.prepare('DELETE FROM tags WHERE kind = ? AND owner = ? AND name = ?').run(...tagKey(resource));
}

export class SqliteTags implements TagRepository {
  constructor(
    private readonly db: Db,
    private readonly guard: Guard,
  ) {}

  get(resource: TaggedResource) {
    return this.guard(() => {
      const rows = this.db
        .prepare('SELECT key, value FROM tags WHERE kind = ? AND owner = ? AND name = ? ORDER BY key')
        .all(...tagKey(resource)) as { key: string; value: string }[];
      return Object.fromEntries<string>(rows.map((r) => [r.key, r.value]));
    });
  }

  put(resource: TaggedResource, tags: Tags) {
    return this.guard(() => {
      this.db.transaction(() => {
        deleteTags(this.db, resource);
        const insert = this.db.prepare('INSERT INTO tags (kind, owner, name, key, value) VALUES (?, ?, ?, ?, ?)');
        for (const [key, value] of Object.entries(tags)) insert.run(...tagKey(resource), key, value);
      })();
    });
  }
}
