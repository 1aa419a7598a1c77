import { PlatformError } from '../../../core/errors.js';
import { own } from '../../../core/own.js';
import type { Logger } from '../../../core/logger.js';
import { ACCOUNT_ID, checkReachable, functionArn, parseFunctionRef, resolveQualifier } from '../../../domain/arn.js';
import { checkTags } from '../../../domain/tags.js';
import { LATEST } from '../../../domain/lambda-function.js';
import { Violations } from '../../../domain/validation.js';
import type { InvocationService, InvocationType } from '../../../invoke/invocation-service.js';
import type { EventInvokeConfigRecord } from '../../../domain/async-event.js';
import type { EventInvokeConfigInput, EventInvokeConfigService } from '../../../lambda/event-invoke-configs.js';
import type { AliasInput, Caller, FunctionService } from '../../../lambda/function-service.js';
import type { ReservedConcurrencyService } from '../../../lambda/reserved-concurrency.js';
import { credentialScopeOf, header, type ApiRequest, type ServiceHandler } from '../protocol/http.js';
import { parseJsonBodyDecoding } from '../protocol/large-json.js';
import { emptyResponse, jsonResponse, parseJsonBody, restJsonError, routeTable, type Route } from '../protocol/rest-json.js';
import {
  markerNumber,
  markerOf,
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
import type { ResourceTags, TagDialect } from '../tagging.js';
import { aliasConfiguration, functionConfiguration } from './shapes.js';
import { codeUrl } from '../../access/code-links.js';
import { functionScope } from '../../access/function-scope.js';

export interface LambdaApiDeps {
  functions: FunctionService;
  eventInvokeConfigs: EventInvokeConfigService;
  invocations: InvocationService;
  concurrency: ReservedConcurrencyService;
  tags: ResourceTags;
  logger: Logger;
  /** GetFunction's `Code.Location` for a package (its SHA-256 in hex) at the request's origin. */
  codeLocation?: (origin: string, sha: string) => string;
  /** The chain of the invocation running in the environment given an access key, for a function's own calls. */
  chainOf?: (accessKeyId: string) => number | undefined;
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
export function lambdaApi({
  functions,
  eventInvokeConfigs,
  invocations,
  concurrency,
  tags,
  logger,
  codeLocation = codeUrl,
  chainOf,
}: LambdaApiDeps): ServiceHandler {
  const caller = (req: ApiRequest): Caller => ({ region: req.region });
  const unparsable = (m: string) => new PlatformError('InvalidRequestContentException', `Could not parse request body into json: ${m}`);
  const body = (req: ApiRequest) => parseJsonBody(req, unparsable);
  /** A code upload's body: a large one is parsed, and its zip decoded, on the parser's thread. */
  const codeBody = (req: ApiRequest, zipFile: string[]) => parseJsonBodyDecoding(req, unparsable, [zipFile]);
  /** The function named in the path, with the qualifier from the name or the `Qualifier` parameter. */
  const target = (req: ApiRequest, params: Record<string, string>) => {
    const param = req.query.get('Qualifier') ?? undefined;
    const ref = parseFunctionRef(params.FunctionName ?? '', param);
    checkReachable(ref, req.region);
    return { name: ref.name, qualifier: resolveQualifier(ref, param) };
  };
  /** The function named in the path; operations on the function itself refuse a qualifier in it. */
  const unqualified = (req: ApiRequest, params: Record<string, string>) => {
    const ref = parseFunctionRef(params.FunctionName ?? '');
    checkReachable(ref, req.region);
    return ref.name;
  };
  /** The function named in the path, for operations AWS permits on the function only: a qualifier is refused. */
  const wholeFunction = (req: ApiRequest, params: Record<string, string>) => {
    const ref = parseFunctionRef(params.FunctionName ?? '');
    checkReachable(ref, req.region);
    if (ref.qualifier !== undefined) {
      throw new PlatformError(
        'InvalidParameterValueException',
        'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
      );
    }
    return ref.name;
  };
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
        const b = await codeBody(req, ['Code', 'ZipFile']);
        const code = optObject(b, 'Code');
        const environment = optObject(b, 'Environment');
        const name = optString(b, 'FunctionName');
        if (name === undefined)
          throw new PlatformError(
            'ValidationException',
            "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null",
          );
        const newTags = optStringMap(b, 'Tags');
        if (newTags) checkTags(newTags, {}, tagDialect(req.region));
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
          snapStartApplyOn: optString(optObject(b, 'SnapStart') ?? {}, 'ApplyOn'),
          packageType: optString(b, 'PackageType'),
        });
        if (newTags) await tags.add({ kind: 'function', name: config.name }, newTags, tagDialect(req.region));
        return jsonResponse(201, functionConfiguration(req.region, config));
      },
    },
    {
      method: 'GET',
      pattern: P,
      operation: 'ListFunctions',
      async handle(req) {
        const version = req.query.get('FunctionVersion');
        if (version !== null && version !== 'ALL') {
          new Violations().add(version, 'functionVersion', 'Member must satisfy enum value set: [ALL]').throwIfAny();
        }
        const list = await functions.listFunctions(version === 'ALL');
        const { page, nextMarker } = paginate(list, req.query.get('Marker'), pageSize(req.query));
        return jsonResponse(200, {
          Functions: page.map((c) => functionConfiguration(req.region, c, { listed: true })),
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
        const own = await tags.list({ kind: 'function', name }, tagDialect(req.region));
        // The reservation is the function's, whichever version or alias was asked for.
        const reserved = await concurrency.get(caller(req), config.name);
        return jsonResponse(200, {
          Configuration: functionConfiguration(req.region, config),
          Code: { RepositoryType: 'S3', Location: codeLocation(req.origin, hex) },
          ...(Object.keys(own).length > 0 && { Tags: own }),
          ...(reserved !== undefined && { Concurrency: { ReservedConcurrentExecutions: reserved } }),
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
        const b = await codeBody(req, ['ZipFile']);
        const config = await functions.updateFunctionCode(caller(req), unqualified(req, params), {
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
        const config = await functions.updateFunctionConfiguration(caller(req), unqualified(req, params), {
          runtime: optString(b, 'Runtime'),
          handler: optString(b, 'Handler'),
          role: optString(b, 'Role'),
          description: optString(b, 'Description'),
          timeout: optNumber(b, 'Timeout'),
          memorySize: optNumber(b, 'MemorySize'),
          environment: environment && (optStringMap(environment, 'Variables') ?? {}),
          ephemeralStorageSize: optNumber(optObject(b, 'EphemeralStorage') ?? {}, 'Size'),
          tracingMode: optString(optObject(b, 'TracingConfig') ?? {}, 'Mode'),
          snapStartApplyOn: optString(optObject(b, 'SnapStart') ?? {}, 'ApplyOn'),
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
        const config = await functions.publishVersion(caller(req), unqualified(req, params), {
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
        // The marker carries the number of the last version listed ($LATEST, listed first, is 0).
        const { versions, more } = await functions.listVersions(caller(req), unqualified(req, params), {
          after: markerNumber(req.query.get('Marker')),
          limit: pageSize(req.query),
        });
        const last = versions.at(-1)?.version;
        return jsonResponse(200, {
          Versions: versions.map((c) => functionConfiguration(req.region, c, { listed: true })),
          ...(more && last !== undefined && { NextMarker: markerOf(last === LATEST ? 0 : Number(last)) }),
        });
      },
    },
    {
      method: 'POST',
      pattern: `${P}/{FunctionName}/aliases`,
      operation: 'CreateAlias',
      async handle(req, params) {
        const b = body(req);
        const alias = await functions.createAlias(caller(req), unqualified(req, params), b.Name, aliasInput(b));
        return jsonResponse(201, aliasConfiguration(req.region, alias));
      },
    },
    {
      method: 'GET',
      pattern: `${P}/{FunctionName}/aliases`,
      operation: 'ListAliases',
      async handle(req, params) {
        const list = await functions.listAliases(caller(req), unqualified(req, params), req.query.get('FunctionVersion') ?? undefined);
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
          aliasConfiguration(req.region, await functions.getAlias(caller(req), unqualified(req, params), params.Name ?? '')),
        );
      },
    },
    {
      method: 'PUT',
      pattern: `${P}/{FunctionName}/aliases/{Name}`,
      operation: 'UpdateAlias',
      async handle(req, params) {
        const alias = await functions.updateAlias(caller(req), unqualified(req, params), params.Name ?? '', aliasInput(body(req)));
        return jsonResponse(200, aliasConfiguration(req.region, alias));
      },
    },
    {
      method: 'DELETE',
      pattern: `${P}/{FunctionName}/aliases/{Name}`,
      operation: 'DeleteAlias',
      async handle(req, params) {
        await functions.deleteAlias(caller(req), unqualified(req, params), params.Name ?? '');
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
          ...(req.caller && chainOf && { callerChain: chainOf(credentialScopeOf(req.headers.authorization, req.query).accessKeyId ?? '') }),
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
          principalOrgId: optString(b, 'PrincipalOrgID'),
          functionUrlAuthType: optString(b, 'FunctionUrlAuthType'),
          eventSourceToken: optString(b, 'EventSourceToken'),
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
        await functions.removePermission(caller(req), name, qualifier, params.StatementId ?? '', req.query.get('RevisionId') ?? undefined);
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
        const list = await eventInvokeConfigs.list(unqualified(req, params));
        const { page, nextMarker } = paginate(list, req.query.get('Marker'), maxItems(req.query, 50));
        return jsonResponse(200, {
          FunctionEventInvokeConfigs: page.map((c) => eventInvokeConfig(req.region, c)),
          ...(nextMarker && { NextMarker: nextMarker }),
        });
      },
    },
    {
      method: 'GET',
      pattern: '/2020-06-30/functions/{FunctionName}/code-signing-config',
      operation: 'GetFunctionCodeSigningConfig',
      async handle(req, params) {
        // Versa verifies no code signatures, so no function has a code signing config: AWS answers that with empty members.
        const config = await functions.getConfiguration(caller(req), unqualified(req, params), undefined);
        return jsonResponse(200, { CodeSigningConfigArn: '', FunctionName: config.name });
      },
    },
    {
      method: 'GET',
      pattern: TAGS_PATH,
      operation: 'ListTags',
      async handle(req, params) {
        return jsonResponse(200, { Tags: await tags.list(taggedFunction(params), tagDialect(req.region)) });
      },
    },
    {
      method: 'POST',
      pattern: TAGS_PATH,
      operation: 'TagResource',
      async handle(req, params) {
        const resource = taggedFunction(params);
        const add = optStringMap(body(req), 'Tags');
        if (add === undefined || Object.keys(add).length === 0) {
          // Left out, the member is missing; given empty, AWS answers in these words, which say nothing more.
          if (add === undefined) new Violations().missing('tags').throwIfAny();
          throw new PlatformError('InvalidParameterValueException', 'An error occurred and the request cannot be processed.');
        }
        await tags.add(resource, add, tagDialect(req.region));
        return emptyResponse(204);
      },
    },
    {
      method: 'DELETE',
      pattern: TAGS_PATH,
      operation: 'UntagResource',
      async handle(req, params) {
        const keys = req.query.getAll('tagKeys');
        if (keys.length === 0) new Violations().missing('tagKeys').throwIfAny();
        await tags.remove(taggedFunction(params), keys, tagDialect(req.region));
        return emptyResponse(204);
      },
    },
    {
      method: 'PUT',
      pattern: '/2017-10-31/functions/{FunctionName}/concurrency',
      operation: 'PutFunctionConcurrency',
      async handle(req, params) {
        const reserved = optInteger(body(req), 'ReservedConcurrentExecutions');
        // Members are checked before the function is looked for, as AWS does.
        if (reserved === undefined) {
          throw new PlatformError(
            'ValidationException',
            "1 validation error detected: Value null at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must not be null",
          );
        }
        if (reserved < 0) {
          new Violations().add(reserved, 'reservedConcurrentExecutions', 'Member must have value greater than or equal to 0').throwIfAny();
        }
        const name = wholeFunction(req, params);
        return jsonResponse(200, { ReservedConcurrentExecutions: await concurrency.put(caller(req), name, reserved) });
      },
    },
    {
      method: 'GET',
      pattern: '/2019-09-30/functions/{FunctionName}/concurrency',
      operation: 'GetFunctionConcurrency',
      async handle(req, params) {
        const reserved = await concurrency.get(caller(req), wholeFunction(req, params));
        return jsonResponse(200, reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved });
      },
    },
    {
      method: 'DELETE',
      pattern: '/2017-10-31/functions/{FunctionName}/concurrency',
      operation: 'DeleteFunctionConcurrency',
      async handle(req, params) {
        await concurrency.delete(caller(req), wholeFunction(req, params));
        return emptyResponse(204);
      },
    },
    {
      method: 'GET',
      pattern: '/2016-08-19/account-settings',
      operation: 'GetAccountSettings',
      async handle() {
        const { limit, unreserved } = await concurrency.account();
        return jsonResponse(200, {
          AccountLimit: {
            TotalCodeSize: 80530636800,
            CodeSizeUnzipped: 262144000,
            CodeSizeZipped: 52428800,
            ConcurrentExecutions: limit,
            UnreservedConcurrentExecutions: unreserved,
          },
          AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
        });
      },
    },
  ];

  return routeTable(
    routes,
    restJsonError,
    logger,
    (req) => {
      return new PlatformError(
        'UnknownOperationException',
        `Versa does not implement the Lambda operation at ${req.method} ${req.path.split('?')[0] ?? ''}.`,
      );
    },
    functionScope('lambda'),
  );
}

const TAGS_PATH = '/2017-03-31/tags/{Resource}';

/** Lambda's answers about tags: its limit of 50 is an InvalidParameterValueException, as every broken rule. */
const tagDialect = (region: string): TagDialect => ({
  invalid: 'InvalidParameterValueException',
  tooMany: 'InvalidParameterValueException',
  tooManyMessage: 'Number of tags exceeds resource tag limit.',
  notFound: (resource) => new PlatformError('ResourceNotFoundException', `Function not found: ${functionArn(region, resource.name)}`),
});

/** The Lambda resources AWS tags, as its pattern for a tagging ARN (quoted when one does not match). */
const TAGGABLE_SHOWN =
  'arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)';
const TAGGABLE = new RegExp(`^(?:${TAGGABLE_SHOWN})$`);
/** How AWS names the taggable resources Versa has none of, when one is not found (AWS's words where recorded). */
const NOT_HERE: Record<string, string> = { 'event-source-mapping': 'Event source mapping', 'capacity-provider': 'Capacity provider' };

/** The function a tagging ARN names; Lambda tags functions, not their versions or aliases. */
function taggedFunction(params: Record<string, string>): { kind: 'function'; name: string } {
  const arn = params.Resource ?? '';
  if (!TAGGABLE.test(arn)) {
    new Violations().add(arn, 'resource', `Member must satisfy regular expression pattern: ${TAGGABLE_SHOWN}`).throwIfAny();
  }
  const [account, kind = '', name = '', qualifier] = arn.split(':').slice(4);
  if (kind !== 'function') {
    const what = own(NOT_HERE, kind);
    throw new PlatformError('ResourceNotFoundException', what ? `${what} not found: ${arn}` : 'The resource you requested does not exist.');
  }
  // Refused before the function is looked for, as AWS does.
  if (qualifier !== undefined) {
    throw new PlatformError(
      'InvalidParameterValueException',
      'Tags on function aliases and versions are not supported. Please specify a function ARN.',
    );
  }
  // Versa has one account: a function of any other is not here.
  if (account !== ACCOUNT_ID) throw new PlatformError('ResourceNotFoundException', `Function not found: ${arn}`);
  return { kind: 'function', name };
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
