import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseCredentials } from './credentials-file.js';
import { isLoopbackAddress, OptionsError, resolveOptions } from './options.js';

describe('options: credentials and listening address', () => {
  it('resolveOptions: refuses a non-loopback address without credentials, saying how to set them', () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.10', 'example.com']) {
      assert.throws(
        () => resolveOptions({ host }, {}),
        (err: unknown) =>
          err instanceof OptionsError &&
          /refusing to listen on .* without credentials.*VERSA_ACCESS_KEY_ID.*--credentials FILE/.test(err.message),
        host,
      );
    }
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(resolveOptions({ host }, {}).host, host);
  });

  it('resolveOptions: with VERSA_ACCESS_KEY_ID/SECRET or a credentials file, any address is allowed', () => {
    const fromEnv = resolveOptions({ host: '0.0.0.0' }, { VERSA_ACCESS_KEY_ID: 'AKID', VERSA_SECRET_ACCESS_KEY: 's' });
    assert.deepEqual(fromEnv.credentials, [{ accessKeyId: 'AKID', secretAccessKey: 's' }]);
    const dir = mkdtempSync(path.join(tmpdir(), 'versa-creds-'));
    const file = path.join(dir, 'credentials');
    writeFileSync(
      file,
      '[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n\n[profile ci]\naws_access_key_id=A2\naws_secret_access_key=S2\nregion=x\n',
    );
    const fromFile = resolveOptions({ host: '0.0.0.0', credentialsFile: file }, {});
    assert.deepEqual(
      fromFile.credentials.map((k) => k.accessKeyId),
      ['A1', 'A2'],
    );
    assert.throws(() => resolveOptions({}, { VERSA_ACCESS_KEY_ID: 'AKID' }), /set both VERSA_ACCESS_KEY_ID and VERSA_SECRET_ACCESS_KEY/);
    assert.throws(() => resolveOptions({ credentialsFile: path.join(dir, 'absent') }, {}), /could not read the credentials file .*ENOENT/);
  });

  it('resolveOptions: --allowed-hosts and --cors-origins are comma lists', () => {
    const o = resolveOptions({ allowedHosts: 'a.example, *.b.example', corsOrigins: 'https://app.example' }, {});
    assert.deepEqual(o.allowedHosts, ['a.example', '*.b.example']);
    assert.deepEqual(o.corsOrigins, ['https://app.example']);
  });

  it('resolveOptions: --function-access is scoped unless set to full (flag or VERSA_FUNCTION_ACCESS)', () => {
    assert.equal(resolveOptions({}, {}).functionAccess, 'scoped');
    assert.equal(resolveOptions({}, { VERSA_FUNCTION_ACCESS: 'full' }).functionAccess, 'full');
    assert.equal(resolveOptions({ functionAccess: 'scoped' }, { VERSA_FUNCTION_ACCESS: 'full' }).functionAccess, 'scoped');
    assert.throws(() => resolveOptions({ functionAccess: 'none' }, {}), /functionAccess must be scoped or full; got none/);
  });

  it('parseCredentials: a profile missing its secret, or no profile at all, is a plain error naming the line', () => {
    assert.throws(() => parseCredentials('[default]\naws_access_key_id = A\n', 'f'), /f:1: profile \[default\] needs both/);
    assert.throws(() => parseCredentials('# nothing\n', 'f'), /holds no profile/);
    assert.throws(() => parseCredentials('key = value\n', 'f'), /f:1: expected "\[profile\]"/);
  });

  it('isLoopbackAddress: 127/8, ::1 and localhost only', () => {
    assert.deepEqual(['127.0.0.1', '::1', '[::1]', 'localhost', '0.0.0.0', '10.0.0.1', '::'].map(isLoopbackAddress), [
      true,
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
