import { PlatformError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { StackService } from '../../stacks/stack-service.js';
import { maskedParameters, maskSecrets, noEchoValues, type StackDoc } from '../../domain/stack.js';
import type { ApiHandler, ApiRequest, ApiResponse } from '../aws/protocol/http.js';
import { memberReader } from '../aws/protocol/members.js';
import { jsonResponse, parseJsonBody, restJsonError } from '../aws/protocol/rest-json.js';

const STACK = /^\/_versa\/api\/stacks\/([^/]+)(\/deploy|\/rollback)?$/;

/**
 * Versa's own stack API, which `versa deploy`, `versa rollback`, `versa delete` and `versa stacks`
 * speak (CloudFormation's wire API over the same engine is in api/aws/cloudformation):
 *   GET    /_versa/api/stacks                  → { stacks: [...] }
 *   GET    /_versa/api/stacks/{name}           → { stack }
 *   POST   /_versa/api/stacks/{name}/deploy    { template, parameters?, artifacts?: { codeUri: base64 zip }, planOnly? } → { stack, changes }
 *   POST   /_versa/api/stacks/{name}/rollback  → { stopped, moved }
 *   DELETE /_versa/api/stacks/{name}
 * Errors are JSON `{ message }` with the error name in `x-amzn-errortype`, as on the AWS APIs.
 */
export function stacksApi(deps: { stacks: StackService; logger: Logger }): {
  /** True for the requests this module answers: those under `/_versa/api/stacks`. */
  owns(req: ApiRequest): boolean;
  handle(req: ApiRequest): Promise<ApiResponse>;
} {
  const { stacks, logger } = deps;
  const handle: ApiHandler = async (req) => {
    if (req.path === '/_versa/api/stacks' && req.method === 'GET') {
      return jsonResponse(200, { stacks: (await stacks.list()).map(summary) });
    }
    const m = STACK.exec(req.path)!;
    const name = decodeLabel(m[1]!);
    const action = m[2];
    if (!action && req.method === 'GET') return jsonResponse(200, { stack: shown(await stacks.get(name)) });
    if (!action && req.method === 'DELETE') {
      await stacks.delete(name);
      return jsonResponse(200, {});
    }
    if (action === '/deploy' && req.method === 'POST') {
      const body = parseJsonBody(req, (why) => new PlatformError('ValidationError', `The request body is not valid JSON: ${why}`));
      const template = read.string(body, 'template');
      if (template === undefined) throw new PlatformError('ValidationError', 'The request must carry the template.');
      const parameters = read.stringMap(body, 'parameters') ?? {};
      const artifacts = new Map<string, Uint8Array>();
      for (const [uri, zip] of Object.entries(read.object(body, 'artifacts') ?? {})) {
        if (typeof zip !== 'string') throw new PlatformError('ValidationError', `Artifact ${uri} must be a base64-encoded zip.`);
        artifacts.set(uri, Buffer.from(zip, 'base64'));
      }
      const result = await stacks.deploy(
        name,
        {
          template,
          parameters,
          artifacts: Object.fromEntries(artifacts),
          planOnly: body.planOnly === true,
        },
        { region: req.region },
      );
      return jsonResponse(200, { ...result, stack: shown(result.stack) });
    }
    if (action === '/rollback' && req.method === 'POST') return jsonResponse(200, await stacks.rollback(name));
    throw new PlatformError('UnknownOperationException', `No Versa stack operation answers ${req.method} ${req.path}.`);
  };
  return {
    owns: (req) => req.path === '/_versa/api/stacks' || STACK.test(req.path),
    async handle(req) {
      try {
        return await handle(req);
      } catch (err) {
        if (err instanceof PlatformError) return restJsonError(err);
        logger.error('stack request failed', { err });
        return restJsonError(new PlatformError('InternalFailure', 'The stack operation failed inside Versa; see the server log.'));
      }
    },
  };
}

const read = memberReader((member, expected) => new PlatformError('ValidationError', `The request member ${member} must be ${expected}.`));

/** A path label, percent-decoded; a malformed escape is the caller's mistake, not ours. */
function decodeLabel(label: string): string {
  try {
    return decodeURIComponent(label);
  } catch {
    throw new PlatformError('ValidationError', `The stack name ${label} in the path is not validly percent-encoded.`);
  }
}

function summary(stack: StackDoc) {
  return {
    name: stack.name,
    status: stack.status,
    ...(stack.reason && { reason: maskSecrets(stack.reason, noEchoValues(stack)) }),
    createdAt: stack.createdAt,
    updatedAt: stack.updatedAt,
    outputs: stack.outputs,
    resources: Object.keys(stack.resources).length,
  };
}

/**
 * A stack as this API shows it: `NoEcho` parameters as `****` (as DescribeStacks shows them), and their
 * values masked wherever the engine's own records would repeat them (resources' resolved properties
 * and attributes, reasons); an operation in flight only as far as a client follows it. Outputs are shown as they are,
 * as CloudFormation shows them.
 */
export function shown(stack: StackDoc): Omit<StackDoc, 'operation'> & { operation?: Record<string, unknown> } {
  const secrets = noEchoValues(stack);
  const { operation: op, ...rest } = stack;
  return {
    ...rest,
    ...(rest.reason !== undefined && { reason: maskSecrets(rest.reason, secrets) }),
    parameters: maskedParameters(stack.parameters, stack.noEcho),
    resources: Object.fromEntries(
      Object.entries(stack.resources).map(([id, r]) => [
        id,
        { ...r, properties: maskSecrets(r.properties, secrets), attributes: maskSecrets(r.attributes, secrets) },
      ]),
    ),
    events: stack.events.map((e) => (e.reason === undefined ? e : { ...e, reason: maskSecrets(e.reason, secrets) })),
    ...(op && {
      operation: {
        kind: op.kind,
        phase: op.phase,
        startedAt: op.startedAt,
        deployments: op.deployments,
        ...(op.failure !== undefined && { failure: maskSecrets(op.failure, secrets) }),
      },
    }),
    ...(stack.changeSets && {
      changeSets: stack.changeSets.map((c) => ({
        ...c,
        parameters: maskedParameters(c.parameters, c.noEcho ?? stack.noEcho),
        ...(c.statusReason !== undefined && { statusReason: maskSecrets(c.statusReason, secrets) }),
      })),
    }),
  };
}
