/**
 * What a deployment package (a zip) may be: AWS's unzipped-size limit, and the rules that make sure every
 * entry can be laid out on disk. Checked when code is uploaded, and again entry by entry while it is
 * unpacked. See docs/limits.md.
 */
import { PlatformError } from '../core/errors.js';
import { inflateEntry, readZipEntries, TooManyEntriesError, ZipFormatError, type ZipEntry } from '../core/zip.js';

/** AWS's limit on a package's unzipped size (GetAccountSettings' CodeSizeUnzipped). */
export const MAX_UNZIPPED_BYTES = 262_144_000;
/** AWS's limit on a zip uploaded directly (CodeSizeZipped). */
export const MAX_ZIPPED_BYTES = 52_428_800;
/** Most entries (files and folders) a package may hold: Versa's bound, not AWS's. */
export const MAX_PACKAGE_ENTRIES = 20_000;
/** Longest path segment (a file or folder name), in bytes: Linux's NAME_MAX. */
export const MAX_NAME_SEGMENT_BYTES = 255;
/** Longest entry path, in bytes: Linux's PATH_MAX. */
export const MAX_NAME_BYTES = 4096;

const UNZIP_FAILED = 'Could not unzip uploaded file. Please check your file, then try to upload again.';

/** The package's layout so far: a tree of the paths seen, each a file or a folder. */
type Node = { file: true } | { file: false; children: Map<string, Node> };

/**
 * Collects entry names one at a time and refuses the first one that cannot be laid out beside the others:
 * a NUL, an absolute path, a `..` segment, a name too long, the same file twice, or a file where a folder
 * must be (`a` and `a/b`). Returns the path's segments (`.` and empty segments dropped).
 */
export class PackageLayout {
  private readonly root: Node = { file: false, children: new Map() };

  add(name: string, nameBytes: number): string[] {
    const directory = name.endsWith('/');
    if (name.includes('\0')) throw layoutError(`the entry name ${shown(name)} contains a NUL character.`);
    if (name.startsWith('/')) throw layoutError(`the entry ${shown(name)} is an absolute path; entries must be relative to the package.`);
    if (nameBytes > MAX_NAME_BYTES) throw layoutError(`an entry name is ${nameBytes} bytes long; at most ${MAX_NAME_BYTES} are allowed.`);
    const segments = name.split('/').filter((s) => s !== '' && s !== '.');
    for (const s of segments) {
      if (s === '..') throw layoutError(`the entry ${shown(name)} climbs out of the package with "..".`);
      const bytes = Buffer.byteLength(s);
      if (bytes > MAX_NAME_SEGMENT_BYTES) {
        throw layoutError(
          `the entry ${shown(name)} has a name of ${bytes} bytes; at most ${MAX_NAME_SEGMENT_BYTES} are allowed per file or folder name.`,
        );
      }
    }
    if (segments.length === 0) {
      if (directory) return segments;
      throw layoutError('an entry has an empty name.');
    }
    let node = this.root;
    for (let i = 0; i < segments.length; i++) {
      const last = i === segments.length - 1;
      if (node.file) throw new Error('unreachable: a file has no children');
      const existing = node.children.get(segments[i]!);
      const here = segments.slice(0, i + 1).join('/');
      if (last && !directory) {
        if (existing?.file) throw layoutError(`the package holds the file ${shown(here)} twice.`);
        if (existing) throw layoutError(`the package holds both a file and a folder named ${shown(here)}.`);
        node.children.set(segments[i]!, { file: true });
        return segments;
      }
      if (existing?.file) {
        throw layoutError(
          `the entry ${shown(name)} needs ${shown(here)} to be a folder, but the package also holds a file ${shown(here)}.`,
        );
      }
      if (!existing) node.children.set(segments[i]!, { file: false, children: new Map() });
      node = node.children.get(segments[i]!)!;
    }
    return segments;
  }
}

export interface PackageVisitor {
  /** Called for each entry, in archive order, before its data; its segments are already checked. */
  onEntry?(segments: string[], directory: boolean): void | Promise<void>;
  /** Each piece of the current entry's data, in order. */
  onData?(chunk: Buffer): void | Promise<void>;
  /** After the current entry's last piece. */
  onEntryEnd?(): void | Promise<void>;
}

/**
 * Reads a package entry by entry, without trusting a size it declares: every name is checked first, then
 * each entry is inflated in small chunks with a running total that stops the moment the package grows
 * past MAX_UNZIPPED_BYTES. Resolves with the unzipped size; refusals are InvalidParameterValueException.
 */
export async function walkPackage(zip: Uint8Array, visitor: PackageVisitor = {}): Promise<{ unzippedBytes: number; entries: number }> {
  let entries: ZipEntry[];
  try {
    entries = readZipEntries(zip, MAX_PACKAGE_ENTRIES);
  } catch (err) {
    if (err instanceof TooManyEntriesError) {
      throw new PlatformError(
        'InvalidParameterValueException',
        `The deployment package holds ${err.count} entries; Versa accepts at most ${MAX_PACKAGE_ENTRIES} files and folders.`,
      );
    }
    throw unzipFailed(err);
  }
  const layout = new PackageLayout();
  const paths = entries.map((e) => layout.add(e.name, e.nameBytes));
  // Declared sizes are a cheap early refusal of an honest oversized package; the running count below is the check.
  let declared = 0;
  for (const e of entries) declared += e.declaredSize;
  if (declared > MAX_UNZIPPED_BYTES) throw tooLarge();
  let unzippedBytes = 0;
  for (const [i, entry] of entries.entries()) {
    const directory = entry.name.endsWith('/');
    if (paths[i]!.length === 0) continue;
    await visitor.onEntry?.(paths[i]!, directory);
    // A folder's data, if an archive gives it any, is never read.
    if (directory) continue;
    try {
      await inflateEntry(zip, entry, async (chunk) => {
        unzippedBytes += chunk.byteLength;
        if (unzippedBytes > MAX_UNZIPPED_BYTES) throw tooLarge();
        await visitor.onData?.(chunk);
      });
    } catch (err) {
      throw unzipFailed(err);
    }
    await visitor.onEntryEnd?.();
  }
  return { unzippedBytes, entries: entries.length };
}

function tooLarge(): PlatformError {
  return new PlatformError('InvalidParameterValueException', `Unzipped size must be smaller than ${MAX_UNZIPPED_BYTES} bytes`);
}

/** A reader's complaint as AWS's answer to an archive it cannot unzip; anything else (a limit, a disk error) as it is. */
function unzipFailed(err: unknown): unknown {
  // AWS's exact words; what was wrong is not said, as on AWS.
  if (err instanceof ZipFormatError) return new PlatformError('InvalidParameterValueException', UNZIP_FAILED);
  // A header pointing outside the archive that slipped past the reader's own checks.
  if (err instanceof RangeError) return new PlatformError('InvalidParameterValueException', UNZIP_FAILED);
  return err;
}

function layoutError(reason: string): PlatformError {
  return new PlatformError('InvalidParameterValueException', `The deployment package cannot be unpacked: ${reason}`);
}

/** A name for a message: quoted, and cut short when long. */
function shown(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}
