import { restJson } from './aws';

/** A stack as `/_versa/api/stacks` lists it (Versa's own API behind `versa deploy`). */
export interface StackSummary {
  name: string;
  status: string;
  reason?: string;
  createdAt: number;
  updatedAt: number;
  outputs: { key: string; value: string; description?: string }[];
  resources: number;
}

export async function listStacks(): Promise<StackSummary[]> {
  return (await restJson<{ stacks: StackSummary[] }>('GET', '/_versa/api/stacks')).stacks;
}

const EXECUTE_API = /^https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\/([^/]+)(\/.*)?$/;

/** The page-relative Versa URL of an `https://{api}.execute-api.{region}.amazonaws.com/{stage}/...` output. */
export function localUrl(value: string): string | undefined {
  const m = EXECUTE_API.exec(value);
  return m ? `/restapis/${m[1]}/${m[2]}/_user_request_${m[3] ?? '/'}` : undefined;
}
