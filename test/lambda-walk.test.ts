/** The versions-and-aliases tutorial (000), walked end to end with the AWS SDK v3. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateAliasCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { seededRandom } from '../src/core/random.js';
import { createFunction, payloadOf, startTestServer, zipOf, type TestServer } from './harness.js';

const source = (text: string) => ({ 'lambda_function.py': `def lambda_handler(event, context):\n    return "${text}"\n` });

describe('tutorial 000: versions and aliases', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ random: seededRandom(42) });
  });
  after(() => t.close());

  it('walks create → publish 1 and 2 → aliases → 50/50 split → promote → restart', async () => {
    const name = 'lambda-version-demo';
    await createFunction(t.lambda, name, source('this is version one.'), {
      Runtime: 'python3.12',
      Handler: 'lambda_function.lambda_handler',
    });
    const first = await t.lambda.send(new InvokeCommand({ FunctionName: name }));
    assert.equal(payloadOf(first), 'this is version one.');
    assert.equal(first.ExecutedVersion, '$LATEST');

    const v1 = await t.lambda.send(new PublishVersionCommand({ FunctionName: name, Description: 'first version' }));
    assert.equal(v1.Version, '1');
    assert.equal(v1.Description, 'first version');
    await t.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zipOf(source('this is version two.')) }));
    const v2 = await t.lambda.send(new PublishVersionCommand({ FunctionName: name, Description: 'second version' }));
    assert.equal(v2.Version, '2');
    assert.notEqual(v2.CodeSha256, v1.CodeSha256);

    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'dev', FunctionVersion: '$LATEST' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'test', FunctionVersion: '2' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: 'prod', FunctionVersion: '1' }));
    const answer = async (qualifier: string) => {
      const out = await t.lambda.send(new InvokeCommand({ FunctionName: name, Qualifier: qualifier }));
      return { text: payloadOf(out), version: out.ExecutedVersion };
    };
    assert.deepEqual(await answer('dev'), { text: 'this is version two.', version: '$LATEST' });
    assert.deepEqual(await answer('test'), { text: 'this is version two.', version: '2' });
    assert.deepEqual(await answer('prod'), { text: 'this is version one.', version: '1' });

    await t.lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: 'prod', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }),
    );
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const { text, version } = await answer('prod');
      assert.equal(text, version === '1' ? 'this is version one.' : 'this is version two.');
      counts[version ?? '?'] = (counts[version ?? '?'] ?? 0) + 1;
    }
    // 200 fair coin flips land within 100 ± 40 with probability far above 1 - 1e-8.
    assert.ok(counts['1']! > 60 && counts['2']! > 60, `split was ${JSON.stringify(counts)}`);

    await t.lambda.send(
      new UpdateAliasCommand({ FunctionName: name, Name: 'prod', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }),
    );
    const prod = await t.lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'prod' }));
    assert.equal(prod.FunctionVersion, '2');
    assert.equal(prod.RoutingConfig, undefined);
    for (let i = 0; i < 10; i++) assert.deepEqual(await answer('prod'), { text: 'this is version two.', version: '2' });

    await t.restart();
    const fn = await t.lambda.send(new GetFunctionCommand({ FunctionName: name }));
    assert.equal(fn.Configuration?.State, 'Active');
    const versions = await t.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: name }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.Version),
      ['$LATEST', '1', '2'],
    );
    const aliases = await t.lambda.send(new ListAliasesCommand({ FunctionName: name }));
    assert.deepEqual(
      aliases.Aliases?.map((a) => [a.Name, a.FunctionVersion]),
      [
        ['dev', '$LATEST'],
        ['prod', '2'],
        ['test', '2'],
      ],
    );
    assert.deepEqual(await answer('1'), { text: 'this is version one.', version: '1' });
    assert.deepEqual(await answer('prod'), { text: 'this is version two.', version: '2' });
  });
});
