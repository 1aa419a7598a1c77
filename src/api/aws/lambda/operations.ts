import { PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { functionArn, parseFunctionRef, resolveQualifier } from '../../../domain/arn.js';
import type { InvocationService, InvocationType } from '../../../invoke/invocation-service.js';
import type { EventInvokeConfigRecord } from '../../../domain/async-event.js';
import type { EventInvokeConfigInput, EventInvokeConfigService } from '../../../lambda/event-invoke-configs.js';
import type { AliasInput, Caller, FunctionService } from '../../../lambda/function-service.js';
import { header, type ApiRequest, type ServiceHandler } from '../protocol/http.js';
import { emptyResponse, jsonResponse, parseJsonBody, restJsonError, routeTable, type Route } from '../protocol/rest-json.js';
import {
  maxItems,
  optBlob,
  optInteger,
  optBoolean,
  optNumber,
  optObject,
  optString,
  optStringList,
  optStringMap,
  paginate,
} from './members.js';
import { aliasConfiguration, functionConfiguration } from './shapes.js';

export interface LambdaApiDeps {
  functions: FunctionService;
  eventInvokeConfigs: EventInvokeConfigService;
  invocations: InvocationService;
  logger: Logger;
}

const P = '/2015-03-31/functions';
const INVOCATION_TYPES = new Set<InvocationType>(['RequestResponse', 'Event', 'DryRun']);
/** ListFunctions and ListVersionsByFunction answer at most 50 items a page, whatever MaxItems asks for. */
const MAX_PAGE = 50;
const pageSize = (query: URLSearchParams) => Math.min(maxItems(query, 10000) ?? MAX_PAGE, MAX_PAGE);
/** Largest CreateFunction and UpdateFunctionCode body AWS reads: a 50 MB zip, base64, in its JSON. */
export const MAX_CODE_REQUEST_BYTES = 70_167_211;

/** Refuses a code upload's body over AWS's limit before it is parsed (the zip's own size is checked after). */
function checkCodeRequestSize(req: ApiRequest, operation: string): void {
  if (req.body.byteLength > MAX_CODE_REQUEST_BYTES) {
    throw new PlatformError(
      'RequestEntityTooLargeException',
      `Request must be smaller than ${MAX_CODE_REQUEST_BYTES} bytes for the ${operation} operation`,
    );
  }
}

/** The Lambda service: its rest-json operation table over FunctionService and InvocationService. */
export function lambdaApi({ functions, eventInvokeConfigs, invocations, logger }: LambdaApiDeps): ServiceHandler {
  const caller = (req: ApiRequest): Caller => ({ region: req.region });
  const body = (req: ApiRequest) =>
    parseJsonBody(req, (m) => new PlatformError('InvalidRequestContentException', `Could not parse request body into json: ${m}`));
  /** The function named in the path, with the qualifier from the name or the `Qualifier` parameter. */
  const target = (req: ApiRequest, params: Record<string, string>) => {
    const ref = parseFunctionRef(params.FunctionName ?? '');
    return { name: ref.name, qualifier: resolveQualifier(ref, req.query.get('Qualifier') ?? undefined) };
  };
  /** The function named in the path; operations on the function itself refuse a qualifier in it. */
  const unqualified = (params: Record<string, string>) => parseFunctionRef(params.FunctionName ?? '').name;
  const aliasInput = (b: Record<string, unknown>): AliasInput => {
    const routing = optObject(b, 'RoutingConfig');
    return {
      functionVersion: optString(b, 'FunctionVersion'),
      description: optString(b, 'Description'),
      additionalVersionWeights: routing ? (optObject(routing, 'AdditionalVersionWeights') ?? {}) : undefined,
      revisionId: optString(b, 'RevisionId'),
    };
  };

  const eventInvokeInput = (b: Record<string, unknown>): EventInvokeConfigInput => {
    const d = optObject(b, 'DestinationConfig');
    const onSuccess = d && optObject(d, 'OnSuccess');
    const onFailure = d && optObject(d, 'OnFailure');
    return {
      maximumRetryAttempts: optInteger(b, 'MaximumRetryAttempts'),
      maximumEventAgeInSeconds: optInteger(b, 'MaximumEventAgeInSeconds'),
      ...(d && {
        destinationConfig: {
          ...(onSuccess && { onSuccess: optString(onSuccess, 'Destination') ?? '' }),
          ...(onFailure && { onFailure: optString(onFailure, 'Destination') ?? '' }),
        },
      }),
    };
  };
  const EIC = '/2019-09-25/functions/{FunctionName}/event-invoke-config';

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: P,
      operation: 'CreateFunction',
      async handle(req) {
        checkCodeRequestSize(req, 'CreateFunction');
        const b = body(req);
        const code = optObject(b, 'Code');
        const environment = optObject(b, 'Environment');
        const name = optString(b, 'FunctionName');
        if (name === undefined)
          throw new PlatformError(
            'ValidationException',
            "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null",
          );
        const { config } = await functions.createFunction(caller(req), {
          functionName: name,
          runtime: optString(b, 'Runtime'),
          handler: optString(b, 'Handler'),
          role: optString(b, 'Role'),
          description: optString(b, 'Description'),
          timeout: optNumber(b, 'Timeout'),
          memorySize: optNumber(b, 'MemorySize'),
          environment: environment && optStringMap(environment, 'Variables'),
          code: code && {
            zipFile: optBlob(code, 'ZipFile'),
            s3Bucket: optString(code, 'S3Bucket'),
            s3Key: optString(code, 'S3Key'),
            s3ObjectVersion: optString(code, 'S3ObjectVersion'),
          },
          publish: optBoolean(b, 'Publish'),
          architectures: optStringList(b, 'Architectures'),
          ephemeralStorageSize: optNumber(optObject(b, 'EphemeralStorage') ?? {}, 'Size'),
          tracingMode: optString(optObject(b, 'TracingConfig') ?? {}, 'Mode'),
          packageType: optString(b, 'PackageType'),
        });
        return jsonResponse(201, functionConfiguration(req.region, config));
      },
    },
    {
      method: 'GET',
      pattern: P,
      operation: 'ListFunctions',
      async handle(req) {
        const all = req.query.get('FunctionVersion') === 'ALL';
        const list = await functions.listFunctions(all);
        const { page, nextMarker } = paginate(list, req.query.get('Marker'), pageSize(req.query));
        return jsonResponse(200, {
          Functions: page.map((c) => functionConfiguration(req.region, c)),
          ...(nextMarker && { NextMarker: nextMarker }),
        });
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}`,
      operation: 'GetFunction',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        const config = await functions.getConfiguration(caller(req), name, qualifier);
        const hex = Buffer.from(config.spec.codeSha256, 'base64').toString('hex');
        return jsonResponse(200, {
          Configuration: functionConfiguration(req.region, config),
          Code: { RepositoryType: 'S3', Location: `${req.origin}/_versa/code/${hex}.zip` },
        });
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}/configuration`,
      operation: 'GetFunctionConfiguration',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        return jsonResponse(200, functionConfiguration(req.region, await functions.getConfiguration(caller(req), name, qualifier)));
      },
    },
    {
      method: 'PUT',
      pattern: `${P}/{FunctionName}/code`,
      operation: 'UpdateFunctionCode',
      async handle(req, params) {
        checkCodeRequestSize(req, 'UpdateFunctionCode');
        const b = body(req);
        const config = await functions.updateFunctionCode(caller(req), unqualified(params), {
          code: {
            zipFile: optBlob(b, 'ZipFile'),
            s3Bucket: optString(b, 'S3Bucket'),
            s3Key: optString(b, 'S3Key'),
            s3ObjectVersion: optString(b, 'S3ObjectVersion'),
          },
          publish: optBoolean(b, 'Publish'),
          revisionId: optString(b, 'RevisionId'),
          architectures: optStringList(b, 'Architectures'),
        });
        return jsonResponse(200, functionConfiguration(req.region, config));
      },
    },
    {
      method: 'PUT',
      pattern: `${P}/{FunctionName}/configuration`,
      operation: 'UpdateFunctionConfiguration',
      async handle(req, params) {
        const b = body(req);
        const environment = optObject(b, 'Environment');
        const config = await functions.updateFunctionConfiguration(caller(req), unqualified(params), {
          runtime: optString(b, 'Runtime'),
          handler: optString(b, 'Handler'),
          role: optString(b, 'Role'),
          description: optString(b, 'Description'),
          timeout: optNumber(b, 'Timeout'),
          memorySize: optNumber(b, 'MemorySize'),
          environment: environment && (optStringMap(environment, 'Variables') ?? {}),
          ephemeralStorageSize: optNumber(optObject(b, 'EphemeralStorage') ?? {}, 'Size'),
          tracingMode: optString(optObject(b, 'TracingConfig') ?? {}, 'Mode'),
          revisionId: optString(b, 'RevisionId'),
        });
        return jsonResponse(200, functionConfiguration(req.region, config));
      },
    },
    {
      method: 'DELETE',
      pattern: `${P}/{FunctionName}`,
      operation: 'DeleteFunction',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        await functions.deleteFunction(caller(req), name, qualifier);
        return emptyResponse(204);
      },
    },
    {
      method: 'POST',
      pattern: `${P}/{FunctionName}/versions`,
      operation: 'PublishVersion',
      async handle(req, params) {
        const b = body(req);
        const config = await functions.publishVersion(caller(req), unqualified(params), {
          codeSha256: optString(b, 'CodeSha256'),
          revisionId: optString(b, 'RevisionId'),
          description: optString(b, 'Description'),
        });
        return jsonResponse(201, functionConfiguration(req.region, config));
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}/versions`,
      operation: 'ListVersionsByFunction',
      async handle(req, params) {
        const list = await functions.listVersions(caller(req), unqualified(params));
        const { page, nextMarker } = paginate(list, req.query.get('Marker'), pageSize(req.query));
        return jsonResponse(200, {
          Versions: page.map((c) => functionConfiguration(req.region, c)),
          ...(nextMarker && { NextMarker: nextMarker }),
        });
      },
    },
    {
      method: 'POST',
      pattern: `${P}/{FunctionName}/aliases`,
      operation: 'CreateAlias',
      async handle(req, params) {
        const b = body(req);
        const alias = await functions.createAlias(caller(req), unqualified(params), b.Name, aliasInput(b));
        return jsonResponse(201, aliasConfiguration(req.region, alias));
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}/aliases`,
      operation: 'ListAliases',
      async handle(req, params) {
        const list = await functions.listAliases(caller(req), unqualified(params), req.query.get('FunctionVersion') ?? undefined);
        const { page, nextMarker } = paginate(list, req.query.get('Marker'), maxItems(req.query, 10000));
        return jsonResponse(200, {
          Aliases: page.map((a) => aliasConfiguration(req.region, a)),
          ...(nextMarker && { NextMarker: nextMarker }),
        });
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}/aliases/{Name}`,
      operation: 'GetAlias',
      async handle(req, params) {
        return jsonResponse(
          200,
          aliasConfiguration(req.region, await functions.getAlias(caller(req), unqualified(params), params.Name ?? '')),
        );
      },
    },
    {
      method: 'PUT',
      pattern: `${P}/{FunctionName}/aliases/{Name}`,
      operation: 'UpdateAlias',
      async handle(req, params) {
        const alias = await functions.updateAlias(caller(req), unqualified(params), params.Name ?? '', aliasInput(body(req)));
        return jsonResponse(200, aliasConfiguration(req.region, alias));
      },
    },
    {
      method: 'DELETE',
      pattern: `${P}/{FunctionName}/aliases/{Name}`,
      operation: 'DeleteAlias',
      async handle(req, params) {
        await functions.deleteAlias(caller(req), unqualified(params), params.Name ?? '');
        return emptyResponse(204);
      },
    },
    {
      method: 'POST',
      pattern: `${P}/{FunctionName}/invocations`,
      operation: 'Invoke',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        const type = (header(req, 'x-amz-invocation-type') ?? 'RequestResponse') as InvocationType;
        if (!INVOCATION_TYPES.has(type)) {
          throw new PlatformError(
            'ValidationException',
            `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
          );
        }
        const result = await invocations.invoke(caller(req), {
          functionName: name,
          qualifier,
          payload: req.body,
          invocationType: type,
          tailLog: header(req, 'x-amz-log-type') === 'Tail',
          clientContext: header(req, 'x-amz-client-context'),
          requestId: req.requestId,
        });
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        // An Event invocation has not run yet: no version has executed it.
        if (result.executedVersion) headers['x-amz-executed-version'] = result.executedVersion;
        if (result.functionError) headers['x-amz-function-error'] = result.functionError;
        if (result.logResult) headers['x-amz-log-result'] = result.logResult;
        return { status: result.statusCode, headers, body: result.payload };
      },
    },
    {
      method: 'POST',
      pattern: `${P}/{FunctionName}/policy`,
      operation: 'AddPermission',
      async handle(req, params) {
        const b = body(req);
        const { name, qualifier } = target(req, params);
        const statement = await functions.addPermission(caller(req), name, qualifier, {
          statementId: optString(b, 'StatementId'),
          action: optString(b, 'Action'),
          principal: optString(b, 'Principal'),
          sourceArn: optString(b, 'SourceArn'),
          sourceAccount: optString(b, 'SourceAccount'),
          revisionId: optString(b, 'RevisionId'),
        });
        return jsonResponse(201, { Statement: JSON.stringify(statement) });
      },
    },
    {
      method: 'DELETE',
      pattern: `${P}/{FunctionName}/policy/{StatementId}`,
      operation: 'RemovePermission',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        await functions.removePermission(caller(req), name, qualifier, params.StatementId ?? '');
        return emptyResponse(204);
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}/policy`,
      operation: 'GetPolicy',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        const { policy, revisionId } = await functions.getPolicy(caller(req), name, qualifier);
        return jsonResponse(200, { Policy: JSON.stringify(policy), RevisionId: revisionId });
      },
    },
    {
      method: 'PUT',
      pattern: EIC,
      operation: 'PutFunctionEventInvokeConfig',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        const record = await eventInvokeConfigs.put(caller(req), name, qualifier, eventInvokeInput(body(req)));
        return jsonResponse(200, eventInvokeConfig(req.region, record));
      },
    },
    {
      method: 'POST',
      pattern: EIC,
      operation: 'UpdateFunctionEventInvokeConfig',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        const record = await eventInvokeConfigs.update(caller(req), name, qualifier, eventInvokeInput(body(req)));
        return jsonResponse(200, eventInvokeConfig(req.region, record));
      },
    },
    {
      method: 'GET',
      pattern: EIC,
      operation: 'GetFunctionEventInvokeConfig',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        return jsonResponse(200, eventInvokeConfig(req.region, await eventInvokeConfigs.get(caller(req), name, qualifier)));
      },
    },
    {
      method: 'DELETE',
      pattern: EIC,
      operation: 'DeleteFunctionEventInvokeConfig',
      async handle(req, params) {
        const { name, qualifier } = target(req, params);
        await eventInvokeConfigs.delete(caller(req), name, qualifier);
        return emptyResponse(204);
      },
    },
    {
      method: 'GET',
      pattern: `${EIC}/list`,
      operation: 'ListFunctionEventInvokeConfigs',
      async handle(req, params) {
        const list = await eventInvokeConfigs.list(unqualified(params));
        const { page, nextMarker } = paginate(list, req.query.get('Marker'), maxItems(req.query, 50));
        return jsonResponse(200, {
          FunctionEventInvokeConfigs: page.map((c) => eventInvokeConfig(req.region, c)),
          ...(nextMarker && { NextMarker: nextMarker }),
        });
      },
    },
    {
      method: 'GET',
      pattern: '/2016-08-19/account-settings',
      operation: 'GetAccountSettings',
      handle: () =>
        Promise.resolve(
          jsonResponse(200, {
            AccountLimit: {
              TotalCodeSize: 80530636800,
              CodeSizeUnzipped: 262144000,
              CodeSizeZipped: 52428800,
              ConcurrentExecutions: 1000,
              UnreservedConcurrentExecutions: 1000,
            },
            AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
          }),
        ),
    },
  ];

  return routeTable(routes, restJsonError, logger, (req) => {
    return new PlatformError(
      'UnknownOperationException',
      `Versa does not implement the Lambda operation at ${req.method} ${req.path.split('?')[0] ?? ''}.`,
    );
  });
}

function eventInvokeConfig(region: string, c: EventInvokeConfigRecord): Record<string, unknown> {
  return {
    LastModified: c.lastModified / 1000,
    FunctionArn: functionArn(region, c.functionName, c.qualifier),
    ...(c.maximumRetryAttempts !== undefined && { MaximumRetryAttempts: c.maximumRetryAttempts }),
    ...(c.maximumEventAgeInSeconds !== undefined && { MaximumEventAgeInSeconds: c.maximumEventAgeInSeconds }),
    DestinationConfig: {
      OnSuccess: c.onSuccess ? { Destination: c.onSuccess } : {},
      OnFailure: c.onFailure ? { Destination: c.onFailure } : {},
    },
  };
}
