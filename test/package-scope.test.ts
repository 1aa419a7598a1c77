/**
 * User code never falls under Versa's package scope: with the data directory inside a project whose
 * package.json says `"type": "module"` (as `npm start` puts it inside Versa's own checkout), a
 * function's `exports.handler` in a `.js` file with no package.json of its own is CommonJS, as on Lambda.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { resolveOptions } from '../src/config/options.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { createFunction, lambdaClientFor, payloadOf } from './harness.js';

describe('package scope of user code', () => {
  let project: string;
  let server: RunningServer;
  before(async () => {
    project = await mkdtemp(path.join(tmpdir(), 'versa-esm-project-'));
    await writeFile(path.join(project, 'package.json'), '{ "name": "someone-elses", "type": "module" }\n');
    server = await startServer(resolveOptions({ port: 0, dataDir: path.join(project, '.versa'), logLevel: 'warn' }, {}));
  });
  after(async () => {
    await server?.close();
    await rm(project, { recursive: true, force: true });
  });

  it('Invoke: a CommonJS handler runs although the data directory sits in an ES-module project', async () => {
    const lambda = lambdaClientFor(server.url);
    await createFunction(
      lambda,
      'math-ceil',
      { 'mathCeil.js': 'exports.handler = async (e) => Math.ceil(e.n);\n' },
      { Handler: 'mathCeil.handler' },
    );
    const out = await lambda.send(new InvokeCommand({ FunctionName: 'math-ceil', Payload: Buffer.from('{"n":1.2}') }));
    assert.equal(out.FunctionError, undefined, Buffer.from(out.Payload ?? []).toString());
    assert.equal(payloadOf(out), 2);
    lambda.destroy();
  });
});
