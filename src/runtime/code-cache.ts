import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { PlatformError } from '../core/errors.js';
import { walkPackage } from '../domain/code-package.js';
import { SDK_NODE_MODULES } from './paths.js';
import { processAlive } from './processes.js';

/**
 * Unpacks code packages into `<root>/<sha-hex>/`, once per CodeSha256. The folder above the packages
 * links to Versa's node_modules so that function code resolves `@aws-sdk/*` by walking up, as it would
 * find the SDK bundled with the runtime on AWS.
 *
 * A package is unpacked entry by entry into a staging folder (never inflated whole in memory), under the
 * same limits as at upload, and the staging folder is always removed if that fails.
 */
export class CodeCache {
  private readonly ready = new Map<string, Promise<string>>();
  /** The root made ready for packages: once per server, not on every cold start. */
  private prepared: Promise<void> | undefined;

  constructor(
    private readonly root: string,
    private readonly loadZip: (sha256: string) => Promise<Uint8Array | undefined>,
  ) {}

  /** The folder holding the unpacked package with this CodeSha256. */
  dir(sha256: string): Promise<string> {
    let pending = this.ready.get(sha256);
    if (!pending) {
      pending = this.unpack(sha256);
      this.ready.set(sha256, pending);
      // A package that cannot be unpacked never will be (code is immutable by CodeSha256): the refusal is
      // kept, so invoking it again costs nothing. Anything else (a full disk, say) is tried again.
      pending.catch((err: unknown) => {
        if (!(err instanceof PlatformError)) this.ready.delete(sha256);
      });
    }
    return pending;
  }

  private async unpack(sha256: string): Promise<string> {
    const target = path.join(this.root, Buffer.from(sha256, 'base64').toString('hex'));
    if (existsSync(target)) return target;
    await this.prepare();
    const zip = await this.loadZip(sha256);
    if (!zip) throw new Error(`code package ${sha256} is missing from the store`);
    const staging = `${target}.${process.pid}.${Date.now()}.tmp`;
    try {
      await writePackage(staging, zip);
    } catch (err) {
      await rm(staging, { recursive: true, force: true });
      if (err instanceof PlatformError) {
        throw new PlatformError('InvalidZipFileException', `Lambda was unable to unzip the deployment package: ${err.message}`);
      }
      throw err;
    }
    try {
      await rename(staging, target);
    } catch (err) {
      // Another process unpacked the same package first; theirs is identical.
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw err;
    }
    return target;
  }

  /**
   * Makes the root and prepares it, once per server (each step is a trip to the thread pool, and they were
   * a few milliseconds of every cold start); tried again after a failure.
   */
  private prepare(): Promise<void> {
    this.prepared ??= (async () => {
      await mkdir(this.root, { recursive: true });
      await this.sweepStaging();
      await this.prepareRoot();
    })().catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    });
    return this.prepared;
  }

  /** Removes staging folders a crashed process left behind (theirs have another pid). */
  private async sweepStaging(): Promise<void> {
    for (const name of await readdir(this.root)) {
      const m = /\.(\d+)\.\d+\.tmp$/.exec(name);
      if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1])))
        await rm(path.join(this.root, name), { recursive: true, force: true });
    }
  }

  /**
   * The folder above the packages: a link to the SDK, and a package.json that ends Node's search for a
   * package scope there. Without it, a data directory inside a project (Versa's own checkout, whose
   * package.json says `"type": "module"`) would make a function's `.js` files ES modules; on Lambda a
   * package with no package.json of its own is CommonJS.
   */
  private async prepareRoot(): Promise<void> {
    await writeFile(path.join(this.root, 'package.json'), '{ "type": "commonjs" }\n');
    const link = path.join(this.root, 'node_modules');
    await rm(link, { force: true });
    await symlink(SDK_NODE_MODULES, link, 'dir').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/**
 * Writes every entry of a zip under `dir`, one entry at a time, streaming each to its file. The names
 * and sizes are checked as at upload (walkPackage): a name that would escape `dir` or clash with another
 * is refused, and so is a package that grows past the unzipped limit. The caller removes `dir` on failure.
 */
export async function writePackage(dir: string, zip: Uint8Array): Promise<void> {
  await openDir(dir);
  const root = path.resolve(dir);
  let out: WriteStream | undefined;
  const close = async () => {
    if (!out) return;
    const stream = out;
    out = undefined;
    stream.end();
    if (!stream.closed) await once(stream, 'close');
  };
  try {
    await walkPackage(zip, {
      async onEntry(segments, directory) {
        const dest = path.join(root, ...segments);
        // walkPackage already refuses `..` and absolute names; this is the last line of defence.
        if (!dest.startsWith(root + path.sep)) throw new Error(`entry ${segments.join('/')} escapes the package folder`);
        if (directory) {
          await openDir(dest);
          return;
        }
        await openDir(path.dirname(dest));
        // Zip permissions are not carried through; files are made executable so a `bootstrap` can run.
        out = createWriteStream(dest, { flags: 'wx', mode: 0o755 });
        await once(out, 'open');
        await chmod(dest, 0o755);
      },
      async onData(chunk) {
        if (out && !out.write(chunk)) await once(out, 'drain');
      },
      onEntryEnd: close,
    });
  } finally {
    if (out) {
      out.destroy();
      if (!out.closed) await once(out, 'close').catch(() => undefined);
    }
  }
}

/**
 * Makes `dir` and what is missing above it, readable and passable by everyone whatever the server's umask:
 * the sandbox user of a server running as root is another user of the host (sandbox.ts).
 */
async function openDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let made = dir; ; made = path.dirname(made)) {
    await chmod(made, 0o755);
    if (made === first || made === path.dirname(made)) break;
  }
}
