/**
 * S3's errors. S3 names its errors differently from the JSON services (`NoSuchKey`, not
 * `ResourceNotFoundException`) and puts extra elements beside the message (`<BucketName>`, `<Key>`), so
 * they are a typed error of their own that the REST-XML codec renders, rather than codes in the
 * platform catalogue that no other protocol would use.
 */
export const S3_ERRORS = {
  AccessDenied: 403,
  BadDigest: 400,
  /** PutObject's `x-amz-tagging` past 10 tags (S3's code, not InvalidTag). */
  BadRequest: 400,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  EntityTooLarge: 400,
  EntityTooSmall: 400,
  IllegalLocationConstraintException: 400,
  IllegalVersioningConfigurationException: 400,
  IncompleteBody: 400,
  /** A chunk of an aws-chunked body below 8 KB that was not the last (S3 answers it 403). */
  InvalidChunkSizeError: 403,
  InternalError: 500,
  InvalidArgument: 400,
  InvalidBucketName: 400,
  InvalidDigest: 400,
  InvalidLocationConstraint: 400,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  /** GetObject's partNumber past the object's parts. */
  InvalidPartNumber: 416,
  InvalidRange: 416,
  InvalidRequest: 400,
  InvalidStorageClass: 400,
  InvalidTag: 400,
  KeyTooLongError: 400,
  MalformedPolicy: 400,
  MalformedXML: 400,
  /** A request body past what its operation reads (a bucket's setting). */
  MaxMessageLengthExceeded: 400,
  MetadataTooLarge: 400,
  MethodNotAllowed: 405,
  /** PutBucketAcl / PutObjectAcl with neither a canned ACL, grants nor a document. */
  MissingSecurityHeader: 400,
  NoSuchBucket: 404,
  NoSuchBucketPolicy: 404,
  NoSuchCORSConfiguration: 404,
  NoSuchKey: 404,
  NoSuchLifecycleConfiguration: 404,
  NoSuchPublicAccessBlockConfiguration: 404,
  NoSuchTagSet: 404,
  NoSuchUpload: 404,
  NoSuchVersion: 404,
  NotImplemented: 501,
  NotModified: 304,
  OwnershipControlsNotFoundError: 404,
  PreconditionFailed: 412,
  ServerSideEncryptionConfigurationNotFoundError: 404,
  /** S3's throttle, which the SDKs retry: the memory requests may hold is taken. */
  SlowDown: 503,
  /** An ACL request with a document besides its ACL headers. */
  UnexpectedContent: 400,
  XAmzContentSHA256Mismatch: 400,
  // Authentication, written by the access gate's refusals
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidAccessKeyId: 403,
  SignatureDoesNotMatch: 403,
  RequestTimeTooSkewed: 403,
  ExpiredToken: 400,
} as const;

export type S3ErrorCode = keyof typeof S3_ERRORS;

export class S3Error extends Error {
  override readonly name = 'S3Error';

  constructor(
    readonly code: S3ErrorCode,
    message: string,
    /** Elements written after `<Message>` (`BucketName`, `Key`, `UploadId`, ...), in this order. */
    readonly extra: Record<string, string | number> = {},
    /** Headers the answer carries (`x-amz-bucket-region`, ...). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get status(): number {
    return S3_ERRORS[this.code];
  }
}

export const noSuchBucket = (bucket: string) => new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
export const noSuchKey = (key: string) => new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
export const noSuchUpload = (uploadId: string) =>
  new S3Error(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );
export const malformedXml = () =>
  new S3Error('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
export const invalidArgument = (message: string, name: string, value: string) =>
  new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
export const maxMessageLengthExceeded = () => new S3Error('MaxMessageLengthExceeded', 'Your request was too big.');
