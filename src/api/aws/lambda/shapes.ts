import { functionArn } from '../../../domain/arn.js';
import { formatLastModified, type AliasRecord } from '../../../domain/lambda-function.js';
import type { ResolvedConfiguration } from '../../../lambda/function-service.js';

/** The `FunctionConfiguration` shape every Lambda operation answers with. */
export function functionConfiguration(region: string, c: ResolvedConfiguration): Record<string, unknown> {
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
    State: c.state,
    ...(c.state === 'Pending' && { StateReason: 'The function is being created.', StateReasonCode: 'Creating' }),
    LastUpdateStatus: c.lastUpdateStatus,
    ...(c.lastUpdateStatus === 'InProgress' && {
      LastUpdateStatusReason: 'The function is being updated.',
      LastUpdateStatusReasonCode: 'InProgress',
    }),
    PackageType: 'Zip',
    Architectures: spec.architectures,
    EphemeralStorage: { Size: spec.ephemeralStorageSize },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${c.name}` },
  };
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
