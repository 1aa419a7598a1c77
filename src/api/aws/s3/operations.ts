import { hash } from 'node:crypto';
import { PlatformError } from '../../../core/errors.js';
import type { Logger } from '../../../core/logger.js';
import { BUCKET_SETTINGS, type BucketSetting, type ObjectAttributes, type ObjectDoc } from '../../../domain/s3.js';
import { invalidArgument, malformedXml, maxMessageLengthExceeded, noSuchKey, S3Error } from '../../../s3/errors.js';
import {
  MAX_BUCKET_BODY_BYTES,
  MAX_BUCKET_TAGS,
  MAX_CORS_RULES,
  MAX_DELETE_KEYS,
  MAX_LIFECYCLE_BYTES,
  MAX_LIFECYCLE_RULES,
  MAX_LIST_KEYS,
  MAX_METADATA_BYTES,
  MAX_PART_NUMBER,
  MAX_POLICY_BYTES,
  MAX_PUT_BYTES,
  MAX_SETTING_BYTES,
} from '../../../s3/limits.js';
import type { S3Service, WriteCondition } from '../../../s3/s3-service.js';
import { ChunkedBodyError, ChunkSizeError, decodeChunked, STREAMING_PAYLOADS } from '../protocol/aws-chunked.js';
import { header, type ApiRequest, type ApiResponse, type ServiceHandler } from '../protocol/http.js';
import {
  childrenNamed,
  childText,
  parseXml,
  restXmlError,
  xmlDocument,
  XmlSyntaxError,
  type XmlNode,
  type XmlValue,
} from '../protocol/rest-xml.js';
import { pathAddress, s3Address } from './addressing.js';

export interface S3ApiDeps {
  s3: S3Service;
  logger: Logger;
  /**
   * Takes `bytes` of the memory request bodies share, on the caller's account (server.ts's BodyBudget),
   * for bytes an operation reads into memory that came in no body (UploadPartCopy's source range): the
   * function that gives them back, or undefined when the budget has no room.
   */
  hold?: (req: ApiRequest, bytes: number) => (() => void) | undefined;
}

type S3Response = ApiResponse;

/** The owner every bucket and object has: Versa has one account. */
const OWNER = { ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', DisplayName: 'versa' };
const SETTING_OF: Record<string, BucketSetting> = {
  policy: 'policy',
  encryption: 'encryption',
  publicAccessBlock: 'publicAccessBlock',
  lifecycle: 'lifecycle',
  tagging: 'tagging',
  ownershipControls: 'ownershipControls',
  cors: 'cors',
  acl: 'acl',
};
/** The document each XML setting must be (the policy is JSON). */
const SETTING_ROOT: Record<BucketSetting, string> = {
  policy: '',
  encryption: 'ServerSideEncryptionConfiguration',
  publicAccessBlock: 'PublicAccessBlockConfiguration',
  lifecycle: 'LifecycleConfiguration',
  tagging: 'Tagging',
  ownershipControls: 'OwnershipControls',
  cors: 'CORSConfiguration',
  acl: 'AccessControlPolicy',
};
/** What a bucket that was never given a setting answers: AWS's defaults for new buckets, or its "no such" error. */
const SETTING_DEFAULT: Record<BucketSetting, string | { code: S3Error['code']; message: string }> = {
  policy: { code: 'NoSuchBucketPolicy', message: 'The bucket policy does not exist' },
  encryption: xmlDocument('ServerSideEncryptionConfiguration', {
    Rule: { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
  }),
  publicAccessBlock: xmlDocument('PublicAccessBlockConfiguration', {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: true,
    RestrictPublicBuckets: true,
  }),
  lifecycle: { code: 'NoSuchLifecycleConfiguration', message: 'The lifecycle configuration does not exist' },
  tagging: { code: 'NoSuchTagSet', message: 'The TagSet does not exist' },
  ownershipControls: xmlDocument('OwnershipControls', { Rule: { ObjectOwnership: 'BucketOwnerEnforced' } }),
  cors: { code: 'NoSuchCORSConfiguration', message: 'The CORS configuration does not exist' },
  acl: xmlDocument('AccessControlPolicy', {
    Owner: OWNER,
    AccessControlList: { Grant: { Grantee: { ID: OWNER.ID, DisplayName: OWNER.DisplayName }, Permission: 'FULL_CONTROL' } },
  }),
};
/** Each setting's largest document, in bytes: a bucket's record holds them all and every request to it reads it. */
const SETTING_BYTES: Record<BucketSetting, number> = {
  policy: MAX_POLICY_BYTES,
  encryption: MAX_SETTING_BYTES,
  publicAccessBlock: MAX_SETTING_BYTES,
  lifecycle: MAX_LIFECYCLE_BYTES,
  tagging: MAX_SETTING_BYTES,
  ownershipControls: MAX_SETTING_BYTES,
  cors: MAX_SETTING_BYTES,
  acl: MAX_SETTING_BYTES,
};
/** Settings whose deletion leaves a "not found" answer rather than the default. */
const NOT_FOUND_AFTER_DELETE: Partial<Record<BucketSetting, { code: S3Error['code']; message: string }>> = {
  publicAccessBlock: { code: 'NoSuchPublicAccessBlockConfiguration', message: 'The public access block configuration was not found' },
  ownershipControls: { code: 'OwnershipControlsNotFoundError', message: 'The bucket ownership controls were not found' },
};
/** A stored setting of '' means "deleted" (for the settings that have a default). */
const DELETED = '';
/** Headers kept with an object and returned as they were sent. */
const KEPT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'expires'];
const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/**
 * S3 over REST-XML, path style and virtual-host style (see addressing.ts). Decodes `aws-chunked`
 * bodies (their signatures were checked at the front door when credentials are enforced), reads the
 * request documents with the protocol's safe parser, and writes every error as S3 does.
 */
export function s3Api({ s3, logger, hold }: S3ApiDeps): ServiceHandler {
  const handler = async (req: ApiRequest): Promise<ApiResponse> => {
    try {
      checkContentHash(req);
      return await route(s3, req, hold);
    } catch (err) {
      if (err instanceof S3Error) return restXmlError(req.method, err.status, err.code, err.message, req.requestId, err.extra, err.headers);
      if (err instanceof PlatformError && err.spec.fault === 'client') {
        return restXmlError(req.method, err.spec.status, 'InvalidRequest', err.message, req.requestId);
      }
      logger.error('internal error', { service: 's3', method: req.method, path: req.path.slice(0, 200), err });
      return restXmlError(req.method, 500, 'InternalError', 'We encountered an internal error. Please try again.', req.requestId);
    }
  };
  return Object.assign(handler, { operations: OPERATIONS.map((name) => ({ name })) });
}

/** The operations this adapter answers, for the docs and the tests. */
export const OPERATIONS = [
  'ListBuckets',
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketLocation',
  'ListObjects',
  'ListObjectsV2',
  'DeleteObjects',
  'PutObject',
  'GetObject',
  'HeadObject',
  'DeleteObject',
  'CopyObject',
  'CreateMultipartUpload',
  'UploadPart',
  'UploadPartCopy',
  'CompleteMultipartUpload',
  'AbortMultipartUpload',
  'ListParts',
  'ListMultipartUploads',
  'GetBucketVersioning',
  'PutBucketVersioning',
  ...BUCKET_SETTINGS.flatMap((s) => {
    const name = settingOperationName(s);
    return [`Get${name}`, `Put${name}`, ...(s === 'acl' ? [] : [`Delete${name}`])];
  }),
];

function settingOperationName(setting: BucketSetting): string {
  return {
    policy: 'BucketPolicy',
    encryption: 'BucketEncryption',
    publicAccessBlock: 'PublicAccessBlock',
    lifecycle: 'BucketLifecycleConfiguration',
    tagging: 'BucketTagging',
    ownershipControls: 'BucketOwnershipControls',
    cors: 'BucketCors',
    acl: 'BucketAcl',
  }[setting];
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;

/**
 * The body against the hash its `x-amz-content-sha256` declares, before anything is read or changed. The
 * signature covers the declared value, not the body (the access gate leaves this check to S3, as S3 does),
 * so without it a changed body would pass with its request's signature; without credentials it is the only
 * check of the body. A value that is neither a hash nor a payload kind is refused as S3 refuses it.
 */
function checkContentHash(req: ApiRequest): void {
  const declared = header(req, 'x-amz-content-sha256');
  if (declared === undefined || declared === 'UNSIGNED-PAYLOAD' || STREAMING_PAYLOADS.has(declared)) return;
  if (!SHA256_HEX.test(declared)) {
    throw invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, ' +
        'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, ' +
        'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
      'x-amz-content-sha256',
      declared.slice(0, 200),
    );
  }
  const computed = req.bodyDigests?.sha256 ?? hash('sha256', req.body, 'hex');
  if (computed !== declared.toLowerCase()) {
    throw new S3Error('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
      ClientComputedContentSHA256: declared,
      S3ComputedContentSHA256: computed,
    });
  }
}

/**
 * A function's key writes to no bucket Versa deploys from (BucketDoc.artifacts): what it planted there
 * the operator's next deploy would install, and run as another function. S3 answers a denied write 403
 * AccessDenied.
 */
async function refuseArtifactWrite(s3: S3Service, req: ApiRequest, bucket: string): Promise<void> {
  const doc = await s3.bucket(bucket).catch(() => undefined);
  if (doc?.artifacts) throw new S3Error('AccessDenied', 'Access Denied');
}

async function route(s3: S3Service, req: ApiRequest, hold: S3ApiDeps['hold']): Promise<S3Response> {
  // Path style when nothing else says: the front door sent it here as S3's (an unsigned bucket path, or a presigned URL of Signature Version 2).
  const { bucket, key } = s3Address(req) ?? pathAddress(req);
  const q = req.query;
  const method = req.method;
  if (bucket === undefined) {
    if (method === 'GET') return listBuckets(s3, req);
    throw methodNotAllowed(method);
  }
  if (req.caller !== undefined && method !== 'GET' && method !== 'HEAD') {
    // Objects only: a bucket's creation, deletion and settings are the operator's. A function that made
    // a bucket first would own what the operator's template names next.
    if (key === undefined && method !== 'POST') throw new S3Error('AccessDenied', 'Access Denied');
    await refuseArtifactWrite(s3, req, bucket);
  }
  if (key === undefined) {
    // The server refuses such a body before reading it; this keeps the bound for a request handled in-process.
    if (req.body.length > MAX_BUCKET_BODY_BYTES) throw maxMessageLengthExceeded();
    const setting = [...q.keys()].map((k) => SETTING_OF[k]).find((s) => s !== undefined);
    switch (method) {
      case 'PUT':
        if (q.has('versioning')) return putVersioning(s3, req, bucket);
        if (setting) return putSetting(s3, req, bucket, setting);
        if (unsupportedSubresource(q)) throw notImplemented();
        return createBucket(s3, req, bucket);
      case 'GET':
        if (q.has('location')) return getLocation(s3, req, bucket);
        if (q.has('versioning')) return getVersioning(s3, bucket);
        if (setting) return getSetting(s3, bucket, setting);
        if (q.has('uploads')) return listUploads(s3, req, bucket);
        if (unsupportedSubresource(q)) throw notImplemented();
        return listObjects(s3, req, bucket, q.get('list-type') === '2');
      case 'HEAD': {
        const found = await s3.bucket(bucket);
        return { status: 200, headers: { 'x-amz-bucket-region': found.region, 'x-amz-access-point-alias': 'false' }, body: '' };
      }
      case 'DELETE':
        if (setting && setting !== 'acl') return deleteSetting(s3, bucket, setting);
        if (unsupportedSubresource(q)) throw notImplemented();
        await s3.deleteBucket(bucket);
        return empty(204);
      case 'POST':
        if (q.has('delete')) return deleteObjects(s3, req, bucket);
        throw methodNotAllowed(method);
    }
    throw methodNotAllowed(method);
  }
  switch (method) {
    case 'PUT':
      if (q.has('uploadId') || q.has('partNumber')) return uploadPart(s3, req, bucket, key, hold);
      if (q.has('acl')) aclHasDocument(req);
      if (q.has('acl') || q.has('tagging')) {
        await s3.getObject(bucket, key);
        return empty(200);
      }
      if (header(req, 'x-amz-copy-source') !== undefined) return copyObject(s3, req, bucket, key);
      return putObject(s3, req, bucket, key);
    case 'GET':
      if (q.has('uploadId')) return listParts(s3, req, bucket, key);
      if (q.has('acl')) {
        await s3.getObject(bucket, key);
        return xml(200, SETTING_DEFAULT.acl as string);
      }
      if (q.has('tagging')) {
        await getTaggedObject(s3, bucket, key);
        return xml(200, xmlDocument('Tagging', { TagSet: {} }));
      }
      return getObject(s3, req, bucket, key, false);
    case 'HEAD':
      return getObject(s3, req, bucket, key, true);
    case 'DELETE':
      if (q.has('uploadId')) {
        await s3.abortUpload(bucket, key, q.get('uploadId')!, req.caller?.function);
        return empty(204);
      }
      if (q.has('tagging')) {
        await s3.getObject(bucket, key);
        return empty(204);
      }
      refuseBypassGovernance(req);
      await s3.deleteObject(bucket, key, req.caller?.function);
      return empty(204);
    case 'POST':
      if (q.has('uploads')) return createUpload(s3, req, bucket, key);
      if (q.has('uploadId')) return completeUpload(s3, req, bucket, key);
      throw methodNotAllowed(method);
  }
  throw methodNotAllowed(method);
}

/**
 * `x-amz-bypass-governance-retention`, true or false, on a delete: S3 refuses it on a bucket without
 * object lock, which every Versa bucket is.
 */
function refuseBypassGovernance(req: ApiRequest): void {
  if (header(req, 'x-amz-bypass-governance-retention') !== undefined) {
    throw new S3Error('InvalidArgument', 'x-amz-bypass-governance-retention is only applicable to Object Lock enabled buckets.', {
      ArgumentName: 'x-amz-bypass-governance-retention',
    });
  }
}

/** GetObjectTagging's object: S3 names a missing one by bucket and key (`<Key>bucket/key</Key>`), unlike its other operations. */
async function getTaggedObject(s3: S3Service, bucket: string, key: string): Promise<void> {
  try {
    await s3.getObject(bucket, key);
  } catch (err) {
    if (err instanceof S3Error && err.code === 'NoSuchKey') throw noSuchKey(`${bucket}/${key}`);
    throw err;
  }
}

const UNSUPPORTED = [
  'logging',
  'notification',
  'website',
  'replication',
  'accelerate',
  'requestPayment',
  'object-lock',
  'policyStatus',
  'analytics',
  'metrics',
  'inventory',
  'intelligent-tiering',
  'versions',
  'restore',
  'select',
  'torrent',
  'legal-hold',
  'retention',
  'attributes',
  'metadataTable',
];

function unsupportedSubresource(q: URLSearchParams): boolean {
  return UNSUPPORTED.some((name) => q.has(name));
}

function notImplemented(): S3Error {
  return new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented');
}

function methodNotAllowed(method: string): S3Error {
  return new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
    Method: method,
    ResourceType: 'OBJECT',
  });
}

function xml(status: number, body: string, headers: Record<string, string> = {}): S3Response {
  return { status, headers: { 'content-type': 'application/xml', ...headers }, body };
}

function empty(status: number, headers: Record<string, string> = {}): S3Response {
  return { status, headers, body: '' };
}

/** The request document's root, refused as S3 does when it is not XML or is another document. */
function document(req: ApiRequest, root: string): XmlNode {
  let node: XmlNode;
  try {
    node = parseXml(req.body.toString('utf8'));
  } catch (err) {
    if (err instanceof XmlSyntaxError) throw malformedXml();
    throw err;
  }
  if (node.name !== root) throw malformedXml();
  return node;
}

// Buckets

async function listBuckets(s3: S3Service, req: ApiRequest): Promise<S3Response> {
  const buckets = await s3.listBuckets();
  const prefix = req.query.get('prefix') ?? '';
  return xml(
    200,
    xmlDocument('ListAllMyBucketsResult', {
      Owner: OWNER,
      Buckets: {
        Bucket: buckets
          .filter((b) => b.name.startsWith(prefix))
          .map((b) => ({ Name: b.name, CreationDate: new Date(b.createdAt), BucketRegion: b.region })),
      },
      ...(prefix !== '' && { Prefix: prefix }),
    }),
  );
}

async function createBucket(s3: S3Service, req: ApiRequest, bucket: string): Promise<S3Response> {
  let region = 'us-east-1';
  const constraint = req.body.length > 0 ? childText(document(req, 'CreateBucketConfiguration'), 'LocationConstraint') : undefined;
  if (constraint !== undefined && constraint !== '') {
    // us-east-1 is the bucket that names no constraint: naming it is refused.
    if (!/^[a-z0-9-]{1,40}$/.test(constraint) || constraint === 'us-east-1') {
      throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', {
        LocationConstraint: constraint.slice(0, 100),
      });
    }
    region = constraint === 'EU' ? 'eu-west-1' : constraint;
  }
  // Any region's bucket may be made through us-east-1; another region's endpoint makes only its own.
  if (req.region !== 'us-east-1' && region !== req.region) {
    const named = constraint === undefined || constraint === '' ? 'unspecified' : constraint;
    throw new S3Error(
      'IllegalLocationConstraintException',
      `The ${named} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
  await s3.createBucket(bucket, region);
  return empty(200, { location: `/${bucket}` });
}

async function getLocation(s3: S3Service, _req: ApiRequest, name: string): Promise<S3Response> {
  const bucket = await s3.bucket(name);
  const value = bucket.region === 'us-east-1' ? '' : bucket.region;
  return xml(
    200,
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${value}</LocationConstraint>`,
  );
}

async function getVersioning(s3: S3Service, name: string): Promise<S3Response> {
  const bucket = await s3.bucket(name);
  return xml(200, xmlDocument('VersioningConfiguration', { Status: bucket.versioning }));
}

async function putVersioning(s3: S3Service, req: ApiRequest, name: string): Promise<S3Response> {
  const status = childText(document(req, 'VersioningConfiguration'), 'Status');
  if (status === undefined) throw new S3Error('IllegalVersioningConfigurationException', 'The Versioning element must be specified');
  if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
  await s3.putVersioning(name, status);
  return empty(200);
}

async function getSetting(s3: S3Service, name: string, setting: BucketSetting): Promise<S3Response> {
  const stored = await s3.setting(name, setting);
  if (stored !== undefined && stored !== DELETED) {
    return setting === 'policy' ? { status: 200, headers: { 'content-type': 'application/json' }, body: stored } : xml(200, stored);
  }
  const fallback = stored === DELETED ? NOT_FOUND_AFTER_DELETE[setting] : SETTING_DEFAULT[setting];
  if (typeof fallback === 'string') return xml(200, fallback);
  const missing = fallback ?? (SETTING_DEFAULT[setting] as { code: S3Error['code']; message: string });
  throw new S3Error(missing.code, missing.message, { BucketName: name });
}

async function putSetting(s3: S3Service, req: ApiRequest, name: string, setting: BucketSetting): Promise<S3Response> {
  const text = req.body.toString('utf8');
  if (setting === 'policy') {
    // S3's own answer to a policy past 20 KB (MinIO's PolicyTooLarge is not an S3 code the SDKs know).
    if (req.body.length > MAX_POLICY_BYTES) throw new S3Error('MalformedPolicy', 'Policy exceeds the maximum allowed document size.');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new S3Error('MalformedPolicy', "Policies must be valid JSON and the first byte must be '{'");
    }
    if (!('Statement' in parsed)) throw new S3Error('MalformedPolicy', 'Missing required field Statement');
    await s3.putSetting(name, setting, text);
    return empty(204);
  }
  if (setting === 'acl' && !aclHasDocument(req)) {
    // A canned ACL in `x-amz-acl` or grants in headers: accepted, and inert like the rest.
    await s3.bucket(name);
    return empty(200);
  }
  if (req.body.length > SETTING_BYTES[setting]) throw maxMessageLengthExceeded();
  validateSetting(setting, document(req, SETTING_ROOT[setting]));
  await s3.putSetting(name, setting, text);
  return empty(setting === 'tagging' ? 204 : 200);
}

/** A tag's key or value: letters, digits, spaces and `_ . : / = + - @` (S3's set, which has no comma). */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const CORS_METHODS = new Set(['GET', 'PUT', 'HEAD', 'POST', 'DELETE']);
const OBJECT_OWNERSHIP = new Set(['BucketOwnerPreferred', 'ObjectWriter', 'BucketOwnerEnforced']);

/** What S3 refuses in a setting's document that its schema alone lets through, in its words: bounds, tags, methods. */
function validateSetting(setting: BucketSetting, root: XmlNode): void {
  if (setting === 'tagging') {
    const tagSet = childrenNamed(root, 'TagSet')[0];
    const tags = tagSet ? childrenNamed(tagSet, 'Tag') : [];
    if (tags.length > MAX_BUCKET_TAGS) {
      throw new S3Error('InvalidTag', `Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}`);
    }
    const seen = new Set<string>();
    for (const tag of tags) {
      const key = childText(tag, 'Key');
      const value = childText(tag, 'Value');
      if (key === undefined || value === undefined) throw malformedXml();
      if (!TAG_TEXT.test(key)) throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: key.slice(0, 200) });
      if (!TAG_TEXT.test(value)) {
        throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', { TagKey: key, TagValue: value.slice(0, 300) });
      }
      if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: key });
      seen.add(key);
      if (key.startsWith('aws:')) throw new S3Error('InvalidTag', 'System tags cannot be added/updated by requester', { TagKey: key });
    }
  } else if (setting === 'cors') {
    const rules = childrenNamed(root, 'CORSRule');
    if (rules.length === 0) throw malformedXml();
    if (rules.length > MAX_CORS_RULES) {
      throw new S3Error('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_CORS_RULES} rules.`);
    }
    for (const method of rules.flatMap((r) => childrenNamed(r, 'AllowedMethod'))) {
      if (!CORS_METHODS.has(method.text)) {
        throw new S3Error(
          'InvalidRequest',
          `Found unsupported HTTP method in CORS config. Unsupported method is ${method.text.slice(0, 100)}`,
        );
      }
    }
  } else if (setting === 'ownershipControls') {
    const rules = childrenNamed(root, 'Rule');
    if (rules.length !== 1 || !OBJECT_OWNERSHIP.has(childText(rules[0]!, 'ObjectOwnership') ?? '')) throw malformedXml();
  } else if (setting === 'lifecycle') {
    // S3's schema allows 1,000 Rule elements; a document past it does not validate.
    if (childrenNamed(root, 'Rule').length > MAX_LIFECYCLE_RULES) throw malformedXml();
  }
}

async function deleteSetting(s3: S3Service, name: string, setting: BucketSetting): Promise<S3Response> {
  await s3.putSetting(name, setting, NOT_FOUND_AFTER_DELETE[setting] ? DELETED : undefined);
  return empty(204);
}

// Listing

function listParameters(req: ApiRequest) {
  const q = req.query;
  const rawMax = q.get('max-keys');
  let maxKeys = MAX_LIST_KEYS;
  if (rawMax !== null) {
    if (!/^\d{1,10}$/.test(rawMax)) throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', rawMax);
    maxKeys = Math.min(Number(rawMax), MAX_LIST_KEYS);
  }
  return { prefix: q.get('prefix') ?? '', delimiter: q.get('delimiter') ?? '', maxKeys, url: encodingType(req) };
}

/** A listing's `encoding-type`: true for `url`, the only one S3 knows. */
function encodingType(req: ApiRequest): boolean {
  const encoding = req.query.get('encoding-type');
  if (encoding !== null && encoding !== 'url')
    throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encoding);
  return encoding === 'url';
}

/** `encoding-type=url`: keys as the AWS CLI expects to decode them (it asks for this so any key survives XML). */
function encoder(url: boolean): (text: string) => string {
  return url ? (text) => encodeURIComponent(text).replace(/%2F/g, '/') : (text) => text;
}

async function listObjects(s3: S3Service, req: ApiRequest, bucket: string, v2: boolean): Promise<S3Response> {
  const { prefix, delimiter, maxKeys, url } = listParameters(req);
  const enc = encoder(url);
  const q = req.query;
  let after: string;
  const token = q.get('continuation-token');
  if (v2 && token !== null) {
    const decoded = Buffer.from(token, 'base64url').toString('utf8');
    // S3 names the argument but, unlike its other InvalidArgument answers, not the value.
    if (!decoded.startsWith('k:'))
      throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
    after = decoded.slice(2);
  } else after = (v2 ? q.get('start-after') : q.get('marker')) ?? '';
  const out = await s3.listObjects(bucket, { prefix, delimiter, after, maxKeys });
  const contents = out.contents.map((o) => ({
    Key: enc(o.key),
    LastModified: new Date(o.lastModified),
    ETag: `"${o.etag}"`,
    ...(o.checksum && { ChecksumAlgorithm: o.checksum.algorithm }),
    Size: o.size,
    ...((!v2 || q.get('fetch-owner') === 'true') && { Owner: OWNER }),
    StorageClass: 'STANDARD',
  }));
  const common = out.commonPrefixes.map((p) => ({ Prefix: enc(p) }));
  const shared = {
    Name: bucket,
    Prefix: enc(prefix),
    ...(delimiter !== '' && { Delimiter: enc(delimiter) }),
    MaxKeys: maxKeys,
    ...(url && { EncodingType: 'url' }),
  };
  const body: Record<string, XmlValue> = v2
    ? {
        ...shared,
        KeyCount: contents.length + common.length,
        IsTruncated: out.truncated,
        ...(token !== null && { ContinuationToken: token }),
        ...(out.truncated && out.last !== undefined && { NextContinuationToken: Buffer.from(`k:${out.last}`).toString('base64url') }),
        ...(q.get('start-after') !== null && { StartAfter: enc(q.get('start-after')!) }),
        Contents: contents,
        CommonPrefixes: common,
      }
    : {
        ...shared,
        Marker: enc(q.get('marker') ?? ''),
        IsTruncated: out.truncated,
        ...(out.truncated && delimiter !== '' && out.last !== undefined && { NextMarker: enc(out.last) }),
        Contents: contents,
        CommonPrefixes: common,
      };
  return xml(200, xmlDocument('ListBucketResult', body));
}

async function deleteObjects(s3: S3Service, req: ApiRequest, bucket: string): Promise<S3Response> {
  // S3 wants the list's integrity proven, by an MD5 or (since the SDKs' default checksums) any checksum.
  if (header(req, 'content-md5') === undefined && !Object.keys(req.headers).some((h) => h.startsWith('x-amz-checksum-'))) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  }
  refuseBypassGovernance(req);
  const root = document(req, 'Delete');
  const objects = childrenNamed(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw malformedXml();
  const keys = objects.map((o) => {
    const key = childText(o, 'Key');
    if (key === undefined) throw malformedXml();
    return key;
  });
  const quiet = childText(root, 'Quiet') === 'true';
  const results = await s3.deleteObjects(bucket, keys, req.caller?.function);
  return xml(
    200,
    xmlDocument('DeleteResult', {
      Deleted: quiet ? [] : results.filter((r) => !r.error).map((r) => ({ Key: r.key })),
      Error: results.filter((r) => r.error).map((r) => ({ Key: r.key, Code: r.error!.code, Message: r.error!.message })),
    }),
  );
}

// Objects

/** The body's bytes and any checksum sent with them, `aws-chunked` decoded. */
/** The hashes taken of the body as it arrived, when the data stored is the body itself (not decoded from aws-chunked). */
function hashesOf(req: ApiRequest, data: Buffer): { sha256: string; md5: string } | undefined {
  const digests = req.bodyDigests;
  return data === req.body && digests?.md5 !== undefined ? { sha256: digests.sha256, md5: digests.md5 } : undefined;
}

function payload(req: ApiRequest): { data: Buffer; checksum?: { algorithm: string; value: string } } {
  const declared = header(req, 'x-amz-content-sha256') ?? '';
  const chunked = STREAMING_PAYLOADS.has(declared) || /(^|,)\s*aws-chunked\s*(,|$)/.test(header(req, 'content-encoding') ?? '');
  let data = req.body;
  let checksum = checksumFrom(
    CHECKSUM_ALGORITHMS.map((a) => [a, header(req, `x-amz-checksum-${a.toLowerCase()}`)] as const).find(([, v]) => v !== undefined),
  );
  if (chunked) {
    let decoded;
    try {
      decoded = decodeChunked(req.body);
    } catch (err) {
      if (err instanceof ChunkSizeError)
        throw new S3Error('InvalidChunkSizeError', err.message, { Chunk: err.chunk, BadChunkSize: err.badChunkSize });
      if (err instanceof ChunkedBodyError)
        throw new S3Error('IncompleteBody', `The request body could not be decoded as aws-chunked: ${err.message}.`);
      throw err;
    }
    data = decoded.data;
    const expected = header(req, 'x-amz-decoded-content-length');
    if (expected !== undefined && Number(expected) !== data.length) {
      throw new S3Error('IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header');
    }
    const trailer = decoded.trailers.find(([name]) => name.startsWith('x-amz-checksum-'));
    if (trailer) checksum = checksumFrom([trailer[0].slice('x-amz-checksum-'.length).toUpperCase(), trailer[1]]);
  }
  if (data.length > MAX_PUT_BYTES) {
    throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: data.length,
      MaxSizeAllowed: MAX_PUT_BYTES,
    });
  }
  return { data, ...(checksum && { checksum }) };
}

function checksumFrom(pair: readonly [string, string | undefined] | undefined) {
  return pair && pair[1] !== undefined ? { algorithm: pair[0], value: pair[1] } : undefined;
}

function attributesOf(req: ApiRequest): ObjectAttributes {
  const metadata: Record<string, string> = Object.create(null) as Record<string, string>;
  const headers: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = text;
    else if (KEPT_HEADERS.includes(name)) {
      const kept = name === 'content-encoding' ? text.replace(/(^|,)\s*aws-chunked\s*(?=,|$)/, '').replace(/^,/, '') : text;
      if (kept !== '') headers[name] = kept;
    }
  }
  // Node reads a header's bytes one character each (latin1): their count is what the client sent.
  const size = Object.entries(metadata).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
  if (size > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', 'Your metadata headers exceed the maximum allowed metadata size.', {
      Size: size,
      MaxSizeAllowed: MAX_METADATA_BYTES,
    });
  }
  return { contentType: header(req, 'content-type') ?? 'binary/octet-stream', metadata: { ...metadata }, headers: { ...headers } };
}

function writeHeaders(object: ObjectDoc): Record<string, string> {
  return {
    etag: `"${object.etag}"`,
    'x-amz-server-side-encryption': 'AES256',
    ...(object.versionId && { 'x-amz-version-id': object.versionId }),
    ...(object.checksum && { [`x-amz-checksum-${object.checksum.algorithm.toLowerCase()}`]: object.checksum.value }),
  };
}

/** The canned ACLs `x-amz-acl` may name. */
const CANNED_ACLS = new Set([
  'private',
  'public-read',
  'public-read-write',
  'authenticated-read',
  'aws-exec-read',
  'bucket-owner-read',
  'bucket-owner-full-control',
  'log-delivery-write',
]);

/** An `x-amz-acl` that names no canned ACL: InvalidArgument, with (as S3 writes it) an empty message. */
function refuseCannedAcl(req: ApiRequest): void {
  const acl = header(req, 'x-amz-acl');
  if (acl !== undefined && !CANNED_ACLS.has(acl)) throw invalidArgument('', 'x-amz-acl', acl.slice(0, 100));
}

/**
 * PutBucketAcl's and PutObjectAcl's one way of saying the ACL, checked as S3 checks it: a canned ACL,
 * grant headers or a document, never two of them, and at least one. True when it is a document.
 */
function aclHasDocument(req: ApiRequest): boolean {
  refuseCannedAcl(req);
  const canned = header(req, 'x-amz-acl') !== undefined;
  const grants = Object.keys(req.headers).some((h) => h.startsWith('x-amz-grant-'));
  if (canned && grants) throw new S3Error('InvalidRequest', 'Specifying both Canned ACLs and Header Grants is not allowed');
  if (req.body.length > 0) {
    if (canned || grants) throw new S3Error('UnexpectedContent', 'This request does not support content');
    return true;
  }
  if (!canned && !grants) {
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header', { MissingHeaderName: 'x-amz-acl' });
  }
  return false;
}

/** Most tags an object may have (AWS's). */
const MAX_OBJECT_TAGS = 10;
/** The storage classes a general purpose bucket takes (OUTPOSTS, SNOW, EXPRESS_ONEZONE and FSX_* belong to other kinds of bucket). */
const STORAGE_CLASSES = new Set([
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'DEEP_ARCHIVE',
  'GLACIER_IR',
]);

/**
 * The headers of a write that S3 refuses before it stores anything: a storage class no general purpose
 * bucket has, and `x-amz-tagging` past 10 tags or naming one twice. Versa keeps neither (every object is
 * STANDARD, untagged), but a request AWS would refuse must not pass here and fail on deploy.
 */
function refuseWriteHeaders(req: ApiRequest): void {
  refuseCannedAcl(req);
  const storageClass = header(req, 'x-amz-storage-class');
  if (storageClass !== undefined && !STORAGE_CLASSES.has(storageClass)) {
    throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', {
      StorageClassRequested: storageClass.slice(0, 100),
    });
  }
  const tagging = header(req, 'x-amz-tagging');
  if (tagging === undefined || tagging === '') return;
  const keys = [...new URLSearchParams(tagging).keys()];
  if (new Set(keys).size !== keys.length) {
    throw invalidArgument(
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
      'x-amz-tagging',
      tagging.slice(0, 100),
    );
  }
  if (keys.length > MAX_OBJECT_TAGS) throw new S3Error('BadRequest', `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
}

async function putObject(s3: S3Service, req: ApiRequest, bucket: string, key: string): Promise<S3Response> {
  refuseWriteHeaders(req);
  const { data, checksum } = payload(req);
  const md5 = header(req, 'content-md5');
  const hashed = hashesOf(req, data);
  const condition = writeCondition(req);
  const object = await s3.putObject({
    bucket,
    key,
    data,
    ...attributesOf(req),
    ...(condition && { condition }),
    ...(md5 !== undefined && { contentMd5: md5 }),
    ...(checksum && { checksum }),
    ...(hashed && { hashed }),
    ...(req.caller && { byFunction: req.caller.function }),
  });
  return empty(200, writeHeaders(object));
}

/**
 * A conditional write's `If-None-Match` / `If-Match` (PutObject, CompleteMultipartUpload). S3 takes only
 * `If-None-Match: *` (create, never replace) and `If-Match` with an ETag (replace only that object),
 * one at a time, and answers anything else 501, naming the header.
 */
function writeCondition(req: ApiRequest): WriteCondition | undefined {
  const ifNoneMatch = header(req, 'if-none-match');
  const ifMatch = header(req, 'if-match');
  const unsupported = (name: string, why: string) =>
    new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: name,
      additionalMessage: why,
    });
  if (ifNoneMatch !== undefined && ifMatch !== undefined) {
    throw unsupported('If-Match,If-None-Match', 'Multiple conditional request headers present in the request');
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*')
      throw unsupported('If-None-Match', "We don't accept the provided value of If-None-Match header for this API");
    return { ifNoneMatch: true };
  }
  if (ifMatch !== undefined) {
    if (ifMatch.trim() === '*') throw unsupported('If-Match', "We don't accept the provided value of If-Match header for this API");
    return { ifMatch: etagList(ifMatch) };
  }
  return undefined;
}

function copySource(req: ApiRequest): { bucket: string; key: string; versionId?: string } {
  let raw = header(req, 'x-amz-copy-source') ?? '';
  let versionId: string | undefined;
  const q = raw.indexOf('?versionId=');
  if (q >= 0) {
    versionId = raw.slice(q + '?versionId='.length);
    raw = raw.slice(0, q);
  }
  let source: string;
  try {
    source = decodeURIComponent(raw);
  } catch {
    source = raw;
  }
  source = source.replace(/^\//, '');
  const slash = source.indexOf('/');
  if (slash <= 0 || slash === source.length - 1) throw invalidArgument('Invalid copy source object key', 'x-amz-copy-source', raw);
  return { bucket: source.slice(0, slash), key: source.slice(slash + 1), ...(versionId !== undefined && { versionId }) };
}

async function copyObject(s3: S3Service, req: ApiRequest, bucket: string, key: string): Promise<S3Response> {
  refuseWriteHeaders(req);
  const source = copySource(req);
  if (COPY_SOURCE_CONDITIONS.some((name) => header(req, name) !== undefined)) {
    copySourcePrecondition(req, await s3.getObject(source.bucket, source.key, source.versionId), s3.now());
  }
  const condition = writeCondition(req);
  const directive = header(req, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE')
    throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  const object = await s3.copyObject({
    sourceBucket: source.bucket,
    sourceKey: source.key,
    ...(source.versionId !== undefined && { sourceVersionId: source.versionId }),
    bucket,
    key,
    ...(directive === 'REPLACE' && { replace: attributesOf(req) }),
    ...(req.caller && { byFunction: req.caller.function }),
    ...(condition && { condition }),
  });
  const { etag, ...headers } = writeHeaders(object);
  return xml(200, xmlDocument('CopyObjectResult', { ETag: etag, LastModified: new Date(object.lastModified) }), headers);
}

/** Strips quotes and a weak marker from each entity tag of an If-Match / If-None-Match list. */
function etagList(value: string): string[] {
  return value.split(',').map((t) =>
    t
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1'),
  );
}

function matches(value: string, etag: string): boolean {
  return etagList(value).some((t) => t === '*' || t === etag);
}

/** A date header, or undefined when absent or unreadable (which S3 then ignores). */
function dateHeader(req: ApiRequest, name: string): number | undefined {
  const value = header(req, name);
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The conditional-request answer (304 or 412) due for this object, if any, in RFC 7232's order as S3 applies it. */
function precondition(req: ApiRequest, object: ObjectDoc): S3Response | undefined {
  const modified = Math.floor(object.lastModified / 1000) * 1000;
  const ifMatch = header(req, 'if-match');
  const ifNoneMatch = header(req, 'if-none-match');
  const failed = (condition: string) =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition });
  if (ifMatch !== undefined) {
    if (!matches(ifMatch, object.etag)) throw failed('If-Match');
  } else {
    const since = dateHeader(req, 'if-unmodified-since');
    if (since !== undefined && modified > since) throw failed('If-Unmodified-Since');
  }
  const notModified = () => empty(304, { etag: `"${object.etag}"`, 'last-modified': new Date(object.lastModified).toUTCString() });
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch, object.etag)) return notModified();
  } else {
    const since = dateHeader(req, 'if-modified-since');
    if (since !== undefined && modified <= since) return notModified();
  }
  return undefined;
}

const COPY_SOURCE_CONDITIONS = [
  'x-amz-copy-source-if-match',
  'x-amz-copy-source-if-none-match',
  'x-amz-copy-source-if-unmodified-since',
  'x-amz-copy-source-if-modified-since',
];

/**
 * A copy's conditions on its source (`x-amz-copy-source-if-*`), in the order S3 checks them: If-Match
 * (which, when it holds, overrides If-Unmodified-Since), If-Unmodified-Since, If-None-Match (likewise
 * over If-Modified-Since), If-Modified-Since, which S3 ignores when it names a time still to come.
 * Every failure is 412, naming the header as S3 spells it.
 */
function copySourcePrecondition(req: ApiRequest, object: ObjectDoc, now: number): void {
  const modified = Math.floor(object.lastModified / 1000) * 1000;
  const failed = (condition: string) =>
    new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
      Condition: `x-amz-copy-source-${condition}`,
    });
  const ifMatch = header(req, 'x-amz-copy-source-if-match');
  if (ifMatch !== undefined) {
    if (!matches(ifMatch, object.etag)) throw failed('If-Match');
  } else {
    const since = dateHeader(req, 'x-amz-copy-source-if-unmodified-since');
    if (since !== undefined && modified > since) throw failed('If-Unmodified-Since');
  }
  const ifNoneMatch = header(req, 'x-amz-copy-source-if-none-match');
  if (ifNoneMatch !== undefined) {
    if (matches(ifNoneMatch, object.etag)) throw failed('If-None-Match');
  } else {
    const since = dateHeader(req, 'x-amz-copy-source-if-modified-since');
    if (since !== undefined && since <= now && modified <= since) throw failed('If-Modified-Since');
  }
}

/** The byte range asked for: undefined for the whole object (no Range, or one S3 ignores); throws InvalidRange when unsatisfiable. */
function byteRange(req: ApiRequest, size: number): { start: number; end: number } | undefined {
  const value = header(req, 'range');
  if (value === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () =>
    new S3Error(
      'InvalidRange',
      'The requested range is not satisfiable',
      { RangeRequested: value.slice(0, 100), ActualObjectSize: size },
      {
        'content-range': `bytes */${size}`,
      },
    );
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && end < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end: Math.min(end, size - 1) };
}

/**
 * GetObject's and HeadObject's `partNumber`: the bytes of that part (206), as clients that download a
 * multipart object part by part ask for them; a part past the last is 416 InvalidPartNumber. A simple
 * object is one part. Undefined without the parameter.
 */
function partRange(req: ApiRequest, object: ObjectDoc): { range: { start: number; end: number } | undefined; count?: number } | undefined {
  const raw = req.query.get('partNumber');
  if (raw === null) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', raw.slice(0, 100));
  }
  if (header(req, 'range') !== undefined)
    throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  const multipart = /-\d+$/.test(object.etag);
  // Completed before Versa kept part sizes: refused rather than answered with the whole object, which
  // a client reading part by part would join as many times as there are parts.
  if (multipart && object.partSizes === undefined) {
    throw new S3Error('NotImplemented', 'This object was completed before Versa kept its parts; read it with a Range instead.');
  }
  const sizes = object.partSizes ?? [object.size];
  if (n > sizes.length) {
    throw new S3Error('InvalidPartNumber', 'The requested partnumber is not satisfiable', {
      PartNumberRequested: n,
      ActualPartCount: sizes.length,
    });
  }
  const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
  const size = sizes[n - 1]!;
  return { range: size === 0 ? undefined : { start, end: start + size - 1 }, ...(multipart && { count: sizes.length }) };
}

async function getObject(s3: S3Service, req: ApiRequest, bucket: string, key: string, head: boolean): Promise<S3Response> {
  const versionId = req.query.get('versionId') ?? undefined;
  const object = await s3.getObject(bucket, key, versionId);
  const early = precondition(req, object);
  if (early) return early;
  const part = partRange(req, object);
  const range = part?.range ?? byteRange(req, object.size);
  const headers: Record<string, string> = {
    ...(part?.count !== undefined && { 'x-amz-mp-parts-count': String(part.count) }),
    'content-type': object.contentType,
    'last-modified': new Date(object.lastModified).toUTCString(),
    etag: `"${object.etag}"`,
    'accept-ranges': 'bytes',
    'x-amz-server-side-encryption': 'AES256',
    ...object.headers,
    ...(object.versionId && { 'x-amz-version-id': object.versionId }),
  };
  for (const [name, value] of Object.entries(object.metadata)) headers[`x-amz-meta-${name}`] = value;
  if (object.checksum && range === undefined && header(req, 'x-amz-checksum-mode') === 'ENABLED') {
    headers[`x-amz-checksum-${object.checksum.algorithm.toLowerCase()}`] = object.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = req.query.get(param);
    if (value === null) continue;
    // It becomes a header of the answer: what no header may hold (a line break, a control character) is refused.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw invalidArgument(`${param} is not a valid header value.`, param, value.slice(0, 100));
    headers[name] = value;
  }
  if (range) {
    headers['content-range'] = `bytes ${range.start}-${range.end}/${object.size}`;
    headers['content-length'] = String(range.end - range.start + 1);
  } else headers['content-length'] = String(object.size);
  const status = range ? 206 : 200;
  if (head || object.size === 0) return { status, headers, body: '' };
  return { status, headers, body: '', stream: await s3.open(object, range) };
}

// Multipart uploads

async function createUpload(s3: S3Service, req: ApiRequest, bucket: string, key: string): Promise<S3Response> {
  refuseWriteHeaders(req);
  const upload = await s3.createUpload(bucket, key, attributesOf(req), req.caller?.function);
  const algorithm = header(req, 'x-amz-checksum-algorithm');
  return xml(
    200,
    xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId }),
    algorithm ? { 'x-amz-checksum-algorithm': algorithm } : {},
  );
}

async function uploadPart(s3: S3Service, req: ApiRequest, bucket: string, key: string, hold: S3ApiDeps['hold']): Promise<S3Response> {
  const uploadId = req.query.get('uploadId');
  const partNumber = req.query.get('partNumber');
  if (uploadId === null || partNumber === null) throw new S3Error('InvalidRequest', 'UploadPart needs both partNumber and uploadId.');
  if (!/^\d{1,5}$/.test(partNumber)) {
    throw invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', partNumber.slice(0, 20));
  }
  if (header(req, 'x-amz-copy-source') !== undefined) return uploadPartCopy(s3, req, bucket, key, uploadId, Number(partNumber), hold);
  const { data, checksum } = payload(req);
  const md5 = header(req, 'content-md5');
  const hashed = hashesOf(req, data);
  const part = await s3.uploadPart(
    bucket,
    key,
    uploadId,
    Number(partNumber),
    data,
    { ...(md5 !== undefined && { contentMd5: md5 }), ...(checksum && { checksum }), ...(hashed && { hashed }) },
    req.caller?.function,
  );
  return empty(200, {
    etag: `"${part.etag}"`,
    'x-amz-server-side-encryption': 'AES256',
    ...(checksum && { [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value }),
  });
}

/** UploadPartCopy: a part made of (a range of) another object, as `aws s3 cp s3://a s3://b` sends above 8 MB. */
async function uploadPartCopy(
  s3: S3Service,
  req: ApiRequest,
  bucket: string,
  key: string,
  uploadId: string,
  partNumber: number,
  hold: S3ApiDeps['hold'],
): Promise<S3Response> {
  const source = copySource(req);
  const object = await s3.getObject(source.bucket, source.key, source.versionId);
  copySourcePrecondition(req, object, s3.now());
  let range = { start: 0, end: object.size - 1 };
  const asked = header(req, 'x-amz-copy-source-range');
  if (asked !== undefined) {
    const m = /^bytes=(\d{1,15})-(\d{1,15})$/.exec(asked.trim());
    if (!m || Number(m[2]) < Number(m[1])) {
      throw invalidArgument(
        'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
        'x-amz-copy-source-range',
        asked.slice(0, 100),
      );
    }
    // Well formed but past the object: S3 words a range that starts inside it and one that does not differently.
    if (Number(m[1]) >= object.size) throw new S3Error('InvalidRequest', 'The specified copy range is invalid for the source object size');
    if (Number(m[2]) >= object.size) {
      throw invalidArgument(
        `Range specified is not valid for source object of size: ${object.size}`,
        'x-amz-copy-source-range',
        asked.slice(0, 100),
      );
    }
    range = { start: Number(m[1]), end: Number(m[2]) };
  }
  const size = Math.max(0, range.end - range.start + 1);
  if (size > MAX_PUT_BYTES) {
    throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: size,
      MaxSizeAllowed: MAX_PUT_BYTES,
    });
  }
  // The range is read into memory (once: into one buffer of its size), on the caller's share of what
  // bodies may hold: eight copies of 64 MiB at once took the server past a gigabyte outside any budget.
  const release = hold ? hold(req, size) : () => undefined;
  if (release === undefined) throw new S3Error('SlowDown', 'Versa is receiving too much data at once; retry shortly.');
  let part;
  try {
    const data = Buffer.allocUnsafe(size);
    let at = 0;
    try {
      if (size > 0) for await (const chunk of await s3.open(object, range)) at += (chunk as Buffer).copy(data, at);
    } catch (err) {
      // Replaced or deleted since it was looked up.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: source.key });
      throw err;
    }
    part = await s3.uploadPart(bucket, key, uploadId, partNumber, data.subarray(0, at), {}, req.caller?.function);
  } finally {
    release();
  }
  return xml(200, xmlDocument('CopyPartResult', { ETag: `"${part.etag}"`, LastModified: new Date(part.lastModified) }), {
    ...(object.versionId && { 'x-amz-copy-source-version-id': object.versionId }),
  });
}

async function completeUpload(s3: S3Service, req: ApiRequest, bucket: string, key: string): Promise<S3Response> {
  const uploadId = req.query.get('uploadId')!;
  if (req.body.length === 0) throw new S3Error('InvalidRequest', 'You must specify at least one part');
  const root = document(req, 'CompleteMultipartUpload');
  const parts = childrenNamed(root, 'Part').map((p) => {
    const number = childText(p, 'PartNumber');
    const etag = childText(p, 'ETag');
    if (number === undefined || !/^\d{1,5}$/.test(number) || etag === undefined) throw malformedXml();
    return { partNumber: Number(number), etag };
  });
  const object = await s3.completeUpload(bucket, key, uploadId, parts, req.caller?.function, writeCondition(req));
  const { etag, ...headers } = writeHeaders(object);
  return xml(
    200,
    xmlDocument('CompleteMultipartUploadResult', {
      Location: `${req.origin}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
      Bucket: bucket,
      Key: key,
      ETag: etag,
    }),
    headers,
  );
}

async function listParts(s3: S3Service, req: ApiRequest, bucket: string, key: string): Promise<S3Response> {
  const uploadId = req.query.get('uploadId')!;
  const rawMax = req.query.get('max-parts') ?? '1000';
  const rawMarker = req.query.get('part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(rawMax))
    throw invalidArgument('Provided max-parts not an integer or within integer range', 'max-parts', rawMax.slice(0, 20));
  if (!/^\d{1,5}$/.test(rawMarker)) {
    throw invalidArgument(
      'Provided part-number-marker not an integer or within integer range',
      'part-number-marker',
      rawMarker.slice(0, 20),
    );
  }
  const max = Math.min(Number(rawMax), 1000);
  const marker = Number(rawMarker);
  const { upload, parts } = await s3.listParts(bucket, key, uploadId);
  const after = parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, max);
  const truncated = after.length > page.length;
  return xml(
    200,
    xmlDocument('ListPartsResult', {
      Bucket: bucket,
      Key: key,
      UploadId: upload.uploadId,
      PartNumberMarker: marker,
      ...(page.length > 0 && { NextPartNumberMarker: page.at(-1)!.partNumber }),
      MaxParts: max,
      IsTruncated: truncated,
      Part: page.map((p) => ({ PartNumber: p.partNumber, LastModified: new Date(p.lastModified), ETag: `"${p.etag}"`, Size: p.size })),
      Initiator: OWNER,
      Owner: OWNER,
      StorageClass: 'STANDARD',
    }),
  );
}

async function listUploads(s3: S3Service, req: ApiRequest, bucket: string): Promise<S3Response> {
  const prefix = req.query.get('prefix') ?? '';
  const keyMarker = req.query.get('key-marker') ?? '';
  const uploadIdMarker = req.query.get('upload-id-marker') ?? '';
  const url = encodingType(req);
  const enc = encoder(url);
  const maxText = req.query.get('max-uploads');
  const max = maxText === null ? 1000 : /^\d{1,10}$/.test(maxText) ? Number(maxText) : -1;
  if (max < 0 || max > 2_147_483_647) {
    throw invalidArgument('Argument max-uploads must be an integer between 0 and 2147483647', 'max-uploads', String(maxText).slice(0, 100));
  }
  // In key order, then the order they were started in; after the markers (an upload id marker counts
  // only with a key marker: the uploads of that key after it, then the keys after it).
  const uploads = (await s3.listUploads(bucket))
    .filter((u) => u.key.startsWith(prefix))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.initiated - b.initiated || (a.uploadId < b.uploadId ? -1 : 1)));
  let from = 0;
  if (keyMarker !== '') {
    const markerAt = uploadIdMarker === '' ? -1 : uploads.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker);
    // An upload id of another key is refused; one no longer there (completed since the last page) is not.
    if (markerAt < 0 && uploadIdMarker !== '' && uploads.some((u) => u.uploadId === uploadIdMarker)) {
      throw invalidArgument('Invalid uploadId marker', 'upload-id-marker', uploadIdMarker.slice(0, 100));
    }
    from = markerAt >= 0 ? markerAt + 1 : uploads.findIndex((u) => u.key > keyMarker);
    if (from < 0) from = uploads.length;
  }
  const page = uploads.slice(from, from + Math.min(max, 1000));
  const truncated = from + page.length < uploads.length;
  const last = page[page.length - 1];
  return xml(
    200,
    xmlDocument('ListMultipartUploadsResult', {
      Bucket: bucket,
      KeyMarker: enc(keyMarker),
      UploadIdMarker: uploadIdMarker,
      ...(truncated && last && { NextKeyMarker: enc(last.key), NextUploadIdMarker: last.uploadId }),
      ...(prefix !== '' && { Prefix: enc(prefix) }),
      MaxUploads: Math.min(max, 1000),
      ...(url && { EncodingType: 'url' }),
      IsTruncated: truncated,
      Upload: page.map((u) => ({
        Key: enc(u.key),
        UploadId: u.uploadId,
        Initiator: OWNER,
        Owner: OWNER,
        StorageClass: 'STANDARD',
        Initiated: new Date(u.initiated),
      })),
    }),
  );
}
