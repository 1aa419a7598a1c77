/**
 * The records of Versa's S3: buckets, objects, multipart uploads and their parts. Object bytes live in
 * the data directory's blob store, named by their SHA-256; these records only point at them.
 */

/** The bucket settings SAM and the CDK set: stored and returned as they were sent, otherwise inert. */
export const BUCKET_SETTINGS = [
  'policy',
  'encryption',
  'publicAccessBlock',
  'lifecycle',
  'tagging',
  'ownershipControls',
  'cors',
  'acl',
] as const;
export type BucketSetting = (typeof BUCKET_SETTINGS)[number];

export interface BucketDoc {
  name: string;
  /** The bucket's region: its LocationConstraint, or the region the creating request was signed for. */
  region: string;
  createdAt: number;
  /** Unset until PutBucketVersioning; only the latest version of an object is kept either way. */
  versioning?: 'Enabled' | 'Suspended';
  /** Each setting's document (XML, or JSON for the policy) exactly as it was put. */
  settings: Partial<Record<BucketSetting, string>>;
  /**
   * Set once Versa has read code or a template from the bucket (Lambda's `Code.S3Bucket`, a stack's
   * `TemplateURL`): functions' keys may no longer write to it, so that none can plant what the
   * operator's next deploy installs.
   */
  artifacts?: true;
}

/** What an object carries besides its bytes, shared by objects and the uploads that will become them. */
export interface ObjectAttributes {
  contentType: string;
  /** `x-amz-meta-*` values by lower-cased name (without the prefix). */
  metadata: Record<string, string>;
  /** Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires, as sent. */
  headers: Record<string, string>;
}

export interface ObjectDoc extends ObjectAttributes {
  bucket: string;
  key: string;
  /** SHA-256 (hex) of the bytes: the blob's name. */
  blob: string;
  size: number;
  /** The ETag without quotes: the MD5 (hex), or `md5-of-md5s-N` for a multipart object. */
  etag: string;
  lastModified: number;
  /** Set when the bucket's versioning was Enabled when the object was written. */
  versionId?: string;
  /** A whole-object checksum the client sent (`x-amz-checksum-*`), returned when asked for. */
  checksum?: { algorithm: string; value: string };
  /**
   * The function whose key wrote the object, when one did. An object an operator wrote is not a
   * function's to replace or delete: what the operator uploads to deploy from stays what it uploaded.
   */
  byFunction?: string;
  /** A multipart object's parts' sizes, in order: what GetObject's `partNumber` reads. */
  partSizes?: number[];
}

export interface UploadDoc extends ObjectAttributes {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  /** The function whose key started it, when one did: an operator's upload is not a function's to add to, finish or abort. */
  byFunction?: string;
}

export interface PartDoc {
  uploadId: string;
  partNumber: number;
  blob: string;
  size: number;
  /** MD5 (hex) of the part. */
  etag: string;
  lastModified: number;
}
