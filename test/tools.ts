/**
 * The AWS tools the tests drive as a user would (the `aws` CLI, boto3 in `python3`), run as children with
 * bounded time and output.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded); a numeric exit code is returned, not thrown. */
export function runTool(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      // A numeric code is the command's exit status; anything else means it could not run at all.
      if (err && typeof err.code !== 'number') {
        reject(new Error(`${command} could not run: ${err.message}`));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** An AWS tool's environment: these keys and us-east-1, nothing from the machine's own AWS config. */
export function awsToolEnv(
  scratch: string,
  key: { accessKeyId: string; secretAccessKey: string } = { accessKeyId: 'test', secretAccessKey: 'test' },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: path.join(scratch, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(scratch, 'no-credentials'),
    AWS_PAGER: '',
  };
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_ENDPOINT_URL']) delete env[name];
  return env;
}
