/**
 * `sam deploy` as the SAM CLI makes its calls (test/fixtures/sam_cli_deploy.py replays them with boto3,
 * in the SAM CLI's order and with its arguments, since the SAM CLI itself cannot be installed here): the
 * managed artifact stack, the uploads, a change set from a TemplateURL, the event tail and the waiters —
 * a first deploy, then new code released through the template's canary.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import { startTestServer, zipOf, type TestServer } from './harness.js';
import { runTool } from './tools.js';

const SCRIPT = path.resolve(import.meta.dirname, '../../test/fixtures/sam_cli_deploy.py');
const TEMPLATE = `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: sam-cli-fn
      CodeUri: CODE_URI
      Handler: index.handler
      Runtime: nodejs20.x
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
Outputs:
  Alias:
    Value: !Ref Fn.Alias
`;

let t: TestServer;
let dir: string;

before(async () => {
  t = await startTestServer({ timeScale: 120 });
  dir = await mkdtemp(path.join(tmpdir(), 'versa-sam-cli-'));
  await writeFile(path.join(dir, 'template.yaml'), TEMPLATE);
});

after(async () => {
  await t.close();
  await rm(dir, { recursive: true, force: true });
});

async function deploy(says: string): Promise<{ bucket: string; status: string; changes: Record<string, string[]>; events: string[] }> {
  await writeFile(path.join(dir, 'code.zip'), zipOf({ 'index.js': `exports.handler = async () => '${says}';` }));
  const out = await runTool('python3', [SCRIPT, t.url, 'sam-app', path.join(dir, 'template.yaml'), path.join(dir, 'code.zip')]);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as never;
}

test('sam deploy: the managed stack, uploads, a change set from a TemplateURL, the event tail; then a canary', async () => {
  const first = await deploy('v1');
  assert.match(first.bucket, /^aws-sam-cli-managed-default-samclisourcebucket-/);
  assert.equal(first.status, 'CREATE_COMPLETE');
  assert.ok(first.changes.Add?.includes('Fn'), JSON.stringify(first.changes));
  assert.ok(first.events.includes('CREATE_COMPLETE AWS::Lambda::Function Fn'), first.events.join('\n'));
  assert.ok(first.events.includes('CREATE_COMPLETE AWS::CloudFormation::Stack sam-app'), first.events.join('\n'));
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'sam-cli-fn', Name: 'live' }))).FunctionVersion, '1');

  const second = await deploy('v2');
  assert.equal(second.status, 'UPDATE_COMPLETE');
  assert.ok(
    second.changes.Add?.some((id) => id.startsWith('FnVersion')),
    JSON.stringify(second.changes),
  );
  assert.ok(second.changes.Modify?.includes('FnAliaslive'), JSON.stringify(second.changes));
  assert.ok(
    second.events.some((e) => e.startsWith('UPDATE_IN_PROGRESS AWS::Lambda::Alias FnAliaslive')),
    second.events.join('\n'),
  );
  assert.ok(second.events.includes('UPDATE_COMPLETE AWS::CloudFormation::Stack sam-app'), second.events.join('\n'));
  assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'sam-cli-fn', Name: 'live' }))).FunctionVersion, '2');
});
