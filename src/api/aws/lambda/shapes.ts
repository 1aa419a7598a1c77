import { createHash } from 'node:crypto';
import { functionArn } from '../../../domain/arn.js';
import { formatLastModified, type AliasRecord } from '../../../domain/lambda-function.js';
import type { ResolvedConfiguration } from '../../../lambda/function-service.js';

/**
 * The `FunctionConfiguration` shape every Lambda operation answers with. AWS lists functions and versions
 * (`listed`) without their state, update status and runtime version; the single-function answers carry them.
 */
export function functionConfiguration(region: string, c: ResolvedConfiguration, { listed = false } = {}): Record<string, unknown> {
  const { spec } = c;
  return {
    FunctionName: c.name,
    FunctionArn: functionArn(region, c.name, c.arnQualifier),
    Runtime: spec.runtime,
    Role: spec.role,
    Handler: spec.handler,
    CodeSize: spec.codeSize,
    Description: spec.description,
    Timeout: spec.timeout,
    MemorySize: spec.memorySize,
    LastModified: formatLastModified(c.lastModified),
    CodeSha256: spec.codeSha256,
    Version: c.version,
    ...(spec.environment && { Environment: { Variables: spec.environment } }),
    TracingConfig: { Mode: spec.tracingMode },
    RevisionId: c.revisionId,
    ...(!listed && status(c)),
    PackageType: 'Zip',
    Architectures: spec.architectures,
    EphemeralStorage: { Size: spec.ephemeralStorageSize },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${c.name}` },
    ...(!listed && { RuntimeVersionConfig: { RuntimeVersionArn: runtimeVersionArn(region, spec.runtime) } }),
  };
}

/**
 * State and update status as AWS reports them: a Pending function has no LastUpdateStatus yet, and an
 * update in progress gives the reason code AWS sends (`Creating`), not one of its own.
 */
function status(c: ResolvedConfiguration): Record<string, unknown> {
  if (c.state === 'Pending') return { State: c.state, StateReason: 'The function is being created.', StateReasonCode: 'Creating' };
  return {
    State: c.state,
    LastUpdateStatus: c.lastUpdateStatus,
    ...(c.lastUpdateStatus === 'InProgress' && {
      LastUpdateStatusReason: 'The function is being created.',
      LastUpdateStatusReasonCode: 'Creating',
    }),
  };
}

/** AWS names the runtime build a function runs by an ARN ending in a 64-hex digest; Versa's is one per runtime. */
function runtimeVersionArn(region: string, runtime: string): string {
  return `arn:aws:lambda:${region}::runtime:${createHash('sha256').update(`versa:${runtime}`).digest('hex')}`;
}

export function aliasConfiguration(region: string, a: AliasRecord): Record<string, unknown> {
  return {
    AliasArn: functionArn(region, a.functionName, a.name),
    Name: a.name,
    FunctionVersion: a.functionVersion,
    Description: a.description,
    ...(a.additionalVersionWeights && { RoutingConfig: { AdditionalVersionWeights: a.additionalVersionWeights } }),
    RevisionId: a.revisionId,
  };
}
