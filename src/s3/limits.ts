import { S3Error } from './errors.js';

/** Longest object key, in UTF-8 bytes (AWS's). */
export const MAX_KEY_BYTES = 1024;
/** Smallest part of a multipart upload other than the last (AWS's 5 MiB). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Highest part number (AWS's). */
export const MAX_PART_NUMBER = 10_000;
/** Largest object a multipart upload may make (AWS's 5 TiB is more than one machine's disk; Versa keeps artifacts). */
export const MAX_OBJECT_BYTES = 5 * 1024 * 1024 * 1024;
/**
 * Largest object a single PutObject (or one part) may carry, decoded. A request's body is read into
 * memory whole, so this stays below the server's request cap; the AWS CLI sends 8 MiB parts above 8 MiB.
 */
export const MAX_PUT_BYTES = 64 * 1024 * 1024;
/**
 * Multipart uploads in progress in one bucket. AWS sets no number; Versa does, because each is a row
 * that ListMultipartUploads reads, and starting one costs a request and no bytes.
 */
export const MAX_OPEN_UPLOADS = 10_000;
/** Of those, how many functions' keys may start: the rest is the operator's, so that a function cannot leave it none. */
export const FUNCTIONS_SHARE = 0.9;
/**
 * Most user-defined metadata an object may carry: its names (without `x-amz-meta-`) and values, in
 * UTF-8 bytes (AWS's). Each object's record holds it, and a list page reads 1,000 records.
 */
export const MAX_METADATA_BYTES = 2048;
/** Most keys one DeleteObjects may name (AWS's). */
export const MAX_DELETE_KEYS = 1000;
/** Most keys one list answers with (AWS's). */
export const MAX_LIST_KEYS = 1000;

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Refuses a bucket name S3 would refuse: 3-63 lower-case letters, digits, dots and hyphens, not an IP address. */
export function validateBucketName(name: string): void {
  if (
    !BUCKET_NAME.test(name) ||
    name.includes('..') ||
    name.includes('.-') ||
    name.includes('-.') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    name.startsWith('xn--') ||
    name.endsWith('-s3alias')
  ) {
    throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
  }
}

/**
 * Largest body a request to a bucket itself may send (a setting's document, CreateBucket's, DeleteObjects'
 * list), refused before more is read. A bucket's settings are kept in its record, which every request
 * to the bucket reads, so their size is every later request's cost too. DeleteObjects' 1,000 keys of up
 * to 1,024 bytes fit twice over (keys made mostly of `&` or `<`, escaped as XML, may not: such a request
 * names fewer keys); a lifecycle configuration's 1,000 rules fit with room to spare.
 */
export const MAX_BUCKET_BODY_BYTES = 2 * 1024 * 1024;
/** Largest bucket policy, in bytes (AWS's 20 KB). */
export const MAX_POLICY_BYTES = 20 * 1024;
/**
 * Largest document of any other setting but the lifecycle configuration: AWS's bound on a CORS
 * configuration (64 KB), which the others (50 tags, one encryption rule, an ACL's grants) stay below.
 */
export const MAX_SETTING_BYTES = 64 * 1024;
/** Largest lifecycle configuration: room for AWS's 1,000 rules of 260 bytes each. */
export const MAX_LIFECYCLE_BYTES = 256 * 1024;
/** Most tags a bucket may have (AWS's). */
export const MAX_BUCKET_TAGS = 50;
/** Most rules a CORS configuration may have (AWS's). */
export const MAX_CORS_RULES = 100;
/** Most rules a lifecycle configuration may have (AWS's). */
export const MAX_LIFECYCLE_RULES = 1000;
