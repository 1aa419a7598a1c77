import { PlatformError } from '../../core/errors.js';
import { header, type ApiRequest, type ApiResponse } from '../aws/protocol/http.js';
import { jsonRpcError } from '../aws/protocol/json-rpc.js';
import { queryErrorXml } from '../aws/protocol/query.js';
import { restJsonError } from '../aws/protocol/rest-json.js';
import { restXmlError } from '../aws/protocol/rest-xml.js';
import type { AuthFailure } from './sigv4.js';

/** The wire protocol a request speaks, so that a refusal is written in it. */
export type Protocol = 'rest-json' | 'json-rpc' | 'query' | 'rest-xml';

const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const NOT_SIGNED = 'There were headers present in the request which were not signed';

/** The query protocol's codes for the authentication errors (IAM's and CloudWatch's names). */
const QUERY_CODES = {
  MissingAuthenticationTokenException: { code: 'MissingAuthenticationToken', status: 403 },
  UnrecognizedClientException: { code: 'InvalidClientTokenId', status: 403 },
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', status: 403 },
  IncompleteSignatureException: { code: 'IncompleteSignature', status: 400 },
  ThrottlingException: { code: 'Throttling', status: 400 },
} as const;

function errorFor(protocol: Protocol, failure: AuthFailure): PlatformError {
  switch (failure.kind) {
    case 'missing':
      return new PlatformError(
        'MissingAuthenticationTokenException',
        protocol === 'rest-json' ? 'Missing Authentication Token' : 'Request is missing Authentication Token',
      );
    case 'incomplete':
      return new PlatformError('IncompleteSignatureException', failure.message);
    case 'unknown-key':
      return new PlatformError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    case 'mismatch':
      return new PlatformError('InvalidSignatureException', MISMATCH);
    case 'expired':
      return new PlatformError('InvalidSignatureException', failure.message);
    case 'unsigned-headers':
      return new PlatformError('InvalidSignatureException', `${NOT_SIGNED}: ${failure.headers.join(', ')}.`);
    case 'shut-out':
      return new PlatformError('ThrottlingException', shutOut(failure.seconds));
  }
}

function shutOut(seconds: number): string {
  return `Too many requests with a wrong signature for this access key came from this address: its requests with this key are refused for ${seconds} more seconds.`;
}

/** A JSON-RPC error in the JSON version the request was sent in; JSON-RPC services answer client errors with 400. */
function jsonRpcRefusal(req: ApiRequest, error: PlatformError): ApiResponse {
  const contentType = (header(req, 'content-type') ?? '').includes('1.0') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
  return jsonRpcError({ contentType, errorStatus: () => 400 }, error);
}

/** S3's words for each authentication failure (S3 names them differently from every other service). */
function s3Refusal(failure: AuthFailure, req: ApiRequest): ApiResponse {
  const refuse = (status: number, code: string, message: string) => restXmlError(req.method, status, code, message, req.requestId);
  switch (failure.kind) {
    case 'missing':
      return refuse(403, 'AccessDenied', 'Access Denied');
    case 'incomplete':
      return refuse(400, 'AuthorizationHeaderMalformed', failure.message);
    case 'unknown-key':
      return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    case 'mismatch':
      return refuse(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      );
    case 'expired':
      return failure.message.startsWith('Request ')
        ? refuse(403, 'AccessDenied', failure.message)
        : refuse(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    case 'unsigned-headers':
      return restXmlError(req.method, 403, 'AccessDenied', NOT_SIGNED, req.requestId, { HeadersNotSigned: failure.headers.join(', ') });
    case 'shut-out':
      return refuse(503, 'SlowDown', shutOut(failure.seconds));
  }
}

/** An authentication failure as the request's protocol answers it on AWS. */
export function authRefusal(protocol: Protocol, failure: AuthFailure, req: ApiRequest): ApiResponse {
  if (protocol === 'rest-xml') return s3Refusal(failure, req);
  const error = errorFor(protocol, failure);
  if (protocol === 'json-rpc') return jsonRpcRefusal(req, error);
  if (protocol === 'query') {
    const { code, status } = QUERY_CODES[error.code as keyof typeof QUERY_CODES];
    return { status, headers: { 'content-type': 'text/xml' }, body: queryErrorXml(code, error.message, 'Sender', req.requestId) };
  }
  const answer = restJsonError(error);
  // A throttle of the REST APIs (Lambda, API Gateway) is a 429, as theirs are.
  return failure.kind === 'shut-out' ? { ...answer, status: 429 } : answer;
}

/** A request refused before any work for a reason that is not its signature (origin, host), in its protocol. */
export function accessDenied(protocol: Protocol, message: string, req: ApiRequest): ApiResponse {
  if (protocol === 'rest-xml') return restXmlError(req.method, 403, 'AccessDenied', message, req.requestId);
  const error = new PlatformError('AccessDeniedException', message);
  if (protocol === 'json-rpc') return jsonRpcError({ contentType: 'application/x-amz-json-1.1', errorStatus: () => 403 }, error);
  if (protocol === 'query') {
    return { status: 403, headers: { 'content-type': 'text/xml' }, body: queryErrorXml('AccessDenied', message, 'Sender', req.requestId) };
  }
  return restJsonError(error);
}

/** A request no Versa service answers (an unknown `X-Amz-Target` service or path), in its protocol. */
export function unknownService(protocol: 'rest-json' | 'json-rpc', message: string, req: ApiRequest): ApiResponse {
  const error = new PlatformError('UnknownOperationException', message);
  return protocol === 'json-rpc' ? jsonRpcRefusal(req, error) : restJsonError(error);
}
