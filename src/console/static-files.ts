import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApiResponse } from '../api/aws/protocol/http.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Where `vite build` puts the console: `dist/web`, two folders up from this module's `dist/src/console/`. */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Versa console</title>
<p>The console has not been built. Run <code>npm run build</code> in the Versa folder and reload this page.</p>`;

/**
 * Serves the built console: `index.html` for the page itself and hashed files under `assets/`. Files
 * are read once and kept; a name that is not a plain file name is never looked up on disk.
 */
export class StaticFiles {
  private readonly cache = new Map<string, Promise<Buffer | undefined>>();

  constructor(private readonly root = WEB_ROOT) {}

  /** The console page, or a page saying how to build it. */
  async index(): Promise<ApiResponse> {
    const body = await this.read('index.html');
    if (!body) return { status: 503, headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-store' }, body: NOT_BUILT };
    return { status: 200, headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' }, body };
  }

  /** A file by its path under the web root (`assets/index-abc123.js`, `favicon.svg`), if there is one. */
  async file(relative: string): Promise<ApiResponse | undefined> {
    const parts = relative.split('/');
    if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'assets') || !parts.every((p) => /^[\w][\w.-]*$/.test(p))) return undefined;
    const body = await this.read(relative);
    if (!body) return undefined;
    const type = TYPES[path.extname(relative)] ?? 'application/octet-stream';
    // Vite puts a content hash in every asset's name, so an asset never changes under its name.
    const cache = parts[0] === 'assets' ? 'public, max-age=31536000, immutable' : 'no-cache';
    return { status: 200, headers: { 'content-type': type, 'cache-control': cache, 'x-content-type-options': 'nosniff' }, body };
  }

  private read(relative: string): Promise<Buffer | undefined> {
    let hit = this.cache.get(relative);
    if (!hit) {
      hit = readFile(path.join(this.root, relative)).then(
        (b) => b,
        () => undefined,
      );
      // A missing file is looked for again next time: the console may be built while the server runs.
      void hit.then((b) => {
        if (!b) this.cache.delete(relative);
      });
      this.cache.set(relative, hit);
    }
    return hit;
  }
}
