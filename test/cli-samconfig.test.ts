import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { localUrl, samConfig } from '../src/cli/stacks.js';

test('samConfig reads the deploy settings sam deploy --guided saves, for the chosen environment', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'versa-samconfig-'));
  try {
    const file = path.join(dir, 'samconfig.toml');
    await writeFile(
      file,
      [
        'version = 0.1',
        '[default.global.parameters]',
        'template_file = "app/template.yaml"',
        '[default.deploy.parameters]',
        'stack_name = "demo"',
        'parameter_overrides = "Stage=\\"prod\\" Memory=\\"256\\""',
        'confirm_changeset = true',
        '[staging.deploy.parameters]',
        'stack_name = "demo-staging"',
      ].join('\n'),
    );
    assert.deepEqual(samConfig(file, 'default'), {
      template_file: 'app/template.yaml',
      stack_name: 'demo',
      parameter_overrides: 'Stage="prod" Memory="256"',
    });
    assert.deepEqual(samConfig(file, 'staging'), { stack_name: 'demo-staging' });
    assert.deepEqual(samConfig(path.join(dir, 'missing.toml'), 'default'), {});
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('localUrl turns an execute-api output into the stage URL on Versa, and leaves anything else alone', () => {
  assert.equal(
    localUrl('http://127.0.0.1:4566', 'https://abc123.execute-api.us-east-1.amazonaws.com/Prod/hello/'),
    'http://127.0.0.1:4566/restapis/abc123/Prod/_user_request_/hello/',
  );
  assert.equal(
    localUrl('http://127.0.0.1:4566/', 'https://abc123.execute-api.eu-west-1.amazonaws.com/dev'),
    'http://127.0.0.1:4566/restapis/abc123/dev/_user_request_/',
  );
  assert.equal(localUrl('http://127.0.0.1:4566', 'arn:aws:lambda:us-east-1:000000000000:function:f'), undefined);
});
