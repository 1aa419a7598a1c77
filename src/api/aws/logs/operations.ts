import type { Logger } from '../../../core/logger.js';
import type { LogSink } from '../../../telemetry/log-sink.js';
import type { ApiHandler } from '../protocol/http.js';
import { jsonRpcService } from '../protocol/json-rpc.js';

export interface LogsApiDeps {
  logs: LogSink;
  logger: Logger;
}

/** CloudWatch Logs (JSON 1.1, `Logs_20140328.*`). */
export function logsApi({ logger }: LogsApiDeps): ApiHandler {
  return jsonRpcService({ targetPrefix: 'Logs_20140328', contentType: 'application/x-amz-json-1.1', operations: {} }, logger);
}
