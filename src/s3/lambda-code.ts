import { PlatformError } from '../core/errors.js';
import { S3Error } from './errors.js';
import type { S3Service } from './s3-service.js';

/**
 * Lambda's reader of `Code.S3Bucket`/`S3Key`/`S3ObjectVersion`: the object's bytes, or S3's error in
 * the words Lambda wraps it in ("Error occurred while GetObject. S3 Error Code: NoSuchKey. ...").
 */
export function lambdaCodeReader(s3: S3Service): (bucket: string, key: string, versionId: string | undefined) => Promise<Uint8Array> {
  return async (bucket, key, versionId) => {
    try {
      return await s3.read(bucket, key, versionId);
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      throw new PlatformError(
        'InvalidParameterValueException',
        `Error occurred while GetObject. S3 Error Code: ${err.code}. S3 Error Message: ${err.message}`,
      );
    }
  };
}
