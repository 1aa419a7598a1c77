/**
 * The AWS query protocol (CloudWatch's older wire form): form-encoded requests with `X.member.N` lists
 * and `X.Field` structures; XML answers.
 */
import { asPlatformError, PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import {
  functionDenied,
  serviceBody,
  outOfScope,
  type ApiRequest,
  type ApiResponse,
  type FunctionScope,
  type ServiceHandler,
} from './http.js';
import { isPrototypeKey } from './members.js';

export type QueryValue = string | QueryValue[] | QueryStructure;
/** A structure built from request data: a null-prototype object, so no key reaches Object.prototype. */
export interface QueryStructure {
  [key: string]: QueryValue;
}

/** The highest `member.N` index accepted: no query operation takes a longer list (PutMetricData: 1000). */
export const MAX_QUERY_LIST_INDEX = 1000;
/** Deepest `A.B.member.1.C...` path accepted. */
const MAX_DEPTH = 16;

/**
 * Turns `A.member.1.B=x&C=y` into `{A: [{B: 'x'}], C: 'y'}`. Leaves stay strings; structures are
 * null-prototype objects; a repeated leaf keeps its last value. A parameter that names a prototype key, a list index that is not 1 to
 * {@link MAX_QUERY_LIST_INDEX}, or one that contradicts another (`A=x&A.B=y`) is refused with
 * `invalid(message)`, the protocol's validation error.
 */
export function parseQueryForm(body: string, invalid: (message: string) => PlatformError): QueryStructure {
  const root: QueryStructure = Object.create(null) as QueryStructure;
  for (const [key, value] of new URLSearchParams(body)) {
    const parts = key.split('.');
    if (parts.length > MAX_DEPTH) throw invalid(`The parameter ${key} is nested too deeply.`);
    let node: QueryStructure | QueryValue[] = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const last = i === parts.length - 1;
      if (Array.isArray(node)) {
        if (part === 'member' && !last) continue;
        if (!/^[1-9]\d{0,9}$/.test(part) || Number(part) > MAX_QUERY_LIST_INDEX) {
          throw invalid(`The parameter ${key} has an invalid list index ${part}: it must be 1 to ${MAX_QUERY_LIST_INDEX}.`);
        }
      } else if (part === '' || isPrototypeKey(part)) {
        throw invalid(`The parameter ${key} is not a valid parameter name.`);
      }
      const slot: number | string = Array.isArray(node) ? Number(part) - 1 : part;
      const container = node as Record<string | number, QueryValue | undefined>;
      const existing = container[slot];
      if (last) {
        if (existing !== undefined && typeof existing !== 'string') {
          throw invalid(`The parameter ${key} contradicts another parameter of the same name.`);
        }
        container[slot] = value;
        break;
      }
      const wantsList = parts[i + 1] === 'member';
      if (existing === undefined) {
        container[slot] = wantsList ? [] : (Object.create(null) as QueryStructure);
      } else if (typeof existing === 'string' || Array.isArray(existing) !== wantsList) {
        throw invalid(`The parameter ${key} contradicts another parameter of the same name.`);
      }
      node = container[slot] as QueryStructure | QueryValue[];
    }
  }
  return root;
}

/**
 * Characters XML 1.0 cannot carry at all, escaped or not (its Char production): the C0 controls but tab,
 * LF and CR; U+FFFE and U+FFFF; and UTF-16 surrogates that are not half of a pair.
 */
const NOT_XML =
  // Control characters are the point of this pattern.
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The first character of `text` an XML answer cannot carry, or undefined when there is none. */
export function firstNonXmlCharacter(text: string): string | undefined {
  NOT_XML.lastIndex = 0;
  return NOT_XML.exec(text)?.[0];
}

/**
 * Text as XML character data. A character XML cannot carry is written as U+FFFD: one such character
 * (a stack parameter with a NUL in it) would otherwise make the whole answer unreadable to every client,
 * and with it every list that includes the value (docs/errors.md).
 */
function escapeXml(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Serialises an output object as query-protocol XML: lists as `<member>`, dates as ISO-8601. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(typeof value === 'string' ? value : JSON.stringify(value));
}

export function queryResponseXml(namespace: string, operation: string, result: unknown, requestId: string): string {
  const body = result === undefined ? '' : `<${operation}Result>${toXml(result)}</${operation}Result>`;
  return `<${operation}Response xmlns="${namespace}">${body}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
}

/**
 * An `<ErrorResponse>`, in the service's XML namespace when it has one, as AWS's are. An error AWS gives
 * no message (CloudWatch's ResourceNotFound of SetAlarmState) has no `<Message>` element at all.
 */
export function queryErrorXml(code: string, message: string, fault: 'Sender' | 'Receiver', requestId: string, namespace?: string): string {
  const open = namespace === undefined ? '<ErrorResponse>' : `<ErrorResponse xmlns="${namespace}">`;
  const text = message === '' ? '' : `<Message>${escapeXml(message)}</Message>`;
  return `${open}<Error><Type>${fault}</Type><Code>${escapeXml(code)}</Code>${text}</Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

/** One operation of a query service: the parsed form in, the `…Result` members out (undefined: none), or a promise of them. */
export type QueryOperation = (form: QueryStructure, req: ApiRequest) => unknown;

export interface QueryServiceSpec {
  /** The service model's `xmlNamespace`. */
  namespace: string;
  operations: Record<string, QueryOperation>;
  /** The protocol's code for an error shape when the model renames it (`ChangeSetNotFoundException` → `ChangeSetNotFound`). */
  codes?: Record<string, string>;
  /** The service's error for a malformed request (CloudWatch: InvalidParameterValue; CloudFormation: ValidationError). */
  invalid: (message: string) => PlatformError;
  /** How the service words an `Action` it does not have (STS names its API version). */
  unknownAction?: (action: string) => string;
  /** What a function's key may call (access/function-scope.ts). */
  scope?: FunctionScope;
  logger: Logger;
}

/** A query-protocol service: `Action=Name&…` in, `<NameResponse>` XML or an `<ErrorResponse>` out. */
export function queryService(spec: QueryServiceSpec): ServiceHandler {
  const { namespace, operations, invalid, scope, logger } = spec;
  // The query protocol's name for an IAM denial, whatever the service.
  const codes: Record<string, string> = { AccessDeniedException: 'AccessDenied', ...spec.codes };
  const unknownAction = spec.unknownAction ?? ((action: string) => `The action ${action} is not valid for this web service.`);
  const xml = (status: number, body: string): ApiResponse => ({ status, headers: { 'content-type': 'text/xml' }, body });
  const handler = async (req: ApiRequest): Promise<ApiResponse> => {
    let action = '';
    try {
      const form = parseQueryForm((await serviceBody(req, invalid)).body.toString('utf8'), invalid);
      action = typeof form.Action === 'string' ? form.Action : '';
      // Own properties only: `Action=constructor` must not find Object's.
      const operation = Object.hasOwn(operations, action) ? operations[action] : undefined;
      if (!operation) {
        throw new PlatformError('InvalidAction', action ? unknownAction(action) : 'The request must name an Action.');
      }
      if (outOfScope(scope, action, req)) throw functionDenied(scope!, action, req);
      const result = await operation(form, req);
      return xml(200, queryResponseXml(namespace, action, result, req.requestId));
    } catch (err) {
      const { error, unexpected } = asPlatformError(err);
      if (unexpected) logger.error('internal error', { operation: action, err });
      const code = codes[error.code] ?? error.code;
      return xml(
        error.spec.status,
        queryErrorXml(code, error.message, error.spec.fault === 'client' ? 'Sender' : 'Receiver', req.requestId, namespace),
      );
    }
  };
  return Object.assign(handler, { operations: Object.keys(operations).map((name) => ({ name })) });
}
