import type { Logger } from '../../../core/logger.js';
import type { ApiHandler } from '../protocol/http.js';
import { jsonRpcService } from '../protocol/json-rpc.js';

export interface CloudWatchApiDeps {
  logger: Logger;
}

/** CloudWatch in both forms clients send: JSON 1.0 (`GraniteServiceVersion20100801.*`) and query. */
export function cloudWatchApi({ logger }: CloudWatchApiDeps): { json: ApiHandler; query: ApiHandler } {
  const json = jsonRpcService({ targetPrefix: 'GraniteServiceVersion20100801', contentType: 'application/x-amz-json-1.0', operations: {} }, logger);
  return { json, query: json };
}
