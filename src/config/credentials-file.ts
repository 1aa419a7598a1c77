import { readFileSync } from 'node:fs';

/** One access key pair the server accepts. */
export interface OperatorKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Reads an AWS shared-credentials file: `[profile]` sections with `aws_access_key_id` and
 * `aws_secret_access_key` (other keys are ignored). Every profile becomes one accepted key pair.
 * Throws a plain sentence naming the file and line when the file cannot be used.
 */
export function readCredentialsFile(file: string): OperatorKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`could not read the credentials file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}.`, { cause: err });
  }
  return parseCredentials(text, file);
}

export function parseCredentials(text: string, file: string): OperatorKey[] {
  const profiles: { name: string; line: number; values: Map<string, string> }[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const section = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (section) {
      profiles.push({ name: section[1]!, line: index + 1, values: new Map() });
      return;
    }
    const eq = line.indexOf('=');
    const current = profiles.at(-1);
    if (eq < 0 || !current) throw new Error(`${file}:${index + 1}: expected "[profile]" or "key = value", got "${line.slice(0, 60)}".`);
    current.values.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  });
  const keys: OperatorKey[] = [];
  for (const p of profiles) {
    const accessKeyId = p.values.get('aws_access_key_id');
    const secretAccessKey = p.values.get('aws_secret_access_key');
    if (!accessKeyId && !secretAccessKey) continue;
    if (!accessKeyId || !secretAccessKey) {
      throw new Error(`${file}:${p.line}: profile [${p.name}] needs both aws_access_key_id and aws_secret_access_key.`);
    }
    keys.push({ accessKeyId, secretAccessKey });
  }
  if (keys.length === 0) throw new Error(`${file} holds no profile with aws_access_key_id and aws_secret_access_key.`);
  return keys;
}
