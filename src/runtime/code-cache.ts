import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { SDK_NODE_MODULES } from './paths.js';

/**
 * Unpacks code packages into `<root>/<sha-hex>/`, once per CodeSha256. The folder above the packages
 * links to Versa's node_modules so that function code resolves `@aws-sdk/*` by walking up, as it would
 * find the SDK bundled with the runtime on AWS.
 */
export class CodeCache {
  private readonly ready = new Map<string, Promise<string>>();

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
      pending.catch(() => this.ready.delete(sha256));
    }
    return pending;
  }

  private async unpack(sha256: string): Promise<string> {
    const target = path.join(this.root, Buffer.from(sha256, 'base64').toString('hex'));
    if (existsSync(target)) return target;
    await mkdir(this.root, { recursive: true });
    await this.linkSdk();
    const zip = await this.loadZip(sha256);
    if (!zip) throw new Error(`code package ${sha256} is missing from the store`);
    const staging = `${target}.${process.pid}.${Date.now()}.tmp`;
    await writePackage(staging, zip);
    try {
      await rename(staging, target);
    } catch (err) {
      // Another process unpacked the same package first; theirs is identical.
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw err;
    }
    return target;
  }

  private async linkSdk(): Promise<void> {
    const link = path.join(this.root, 'node_modules');
    await rm(link, { force: true });
    await symlink(SDK_NODE_MODULES, link, 'dir').catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** Writes every entry of a zip under `dir`, refusing paths that escape it. */
export async function writePackage(dir: string, zip: Uint8Array): Promise<void> {
  const files = unzipSync(zip);
  await mkdir(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const dest = path.resolve(dir, name);
    if (!dest.startsWith(path.resolve(dir) + path.sep)) continue;
    if (name.endsWith('/')) {
      await mkdir(dest, { recursive: true });
      continue;
    }
    await mkdir(path.dirname(dest), { recursive: true });
    await writeFile(dest, data);
    // Zip permissions are not carried through; files are made executable so a `bootstrap` can run.
    await chmod(dest, 0o755);
  }
}
