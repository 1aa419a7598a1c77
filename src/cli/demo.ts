import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateDeploymentCommand as CreateApiDeploymentCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  GetStageCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
  UpdateStageCommand,
} from '@aws-sdk/client-api-gateway';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  GetAliasCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';
import { OptionsError, resolveOptions } from '../config/options.js';
import { startServer, type RunningServer } from '../server/server.js';
import { apiGatewayClient, describeError, lambdaClient } from './client.js';
import { parseFlags } from './flags.js';
import { deployCommand, localUrl } from './stacks.js';

/** The tutorials' SAM project, shipped with Versa. */
const SAM_EXAMPLE = path.resolve(import.meta.dirname, '../../../examples/sam-canary');

const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';
const REGION = 'us-east-1';

const zip = (files: Record<string, string>) => zipSync(Object.fromEntries(Object.entries(files).map(([n, t]) => [n, strToU8(t)])));
const text = (payload: Uint8Array | undefined) => Buffer.from(payload ?? new Uint8Array()).toString('utf8');

/** A failed check: the demo says what it expected and stops. */
class DemoCheckFailed extends Error {}
function check(ok: boolean, what: string): void {
  if (!ok) throw new DemoCheckFailed(what);
}

/**
 * `versa demo`: starts a throwaway server at --time-scale 60 and plays the tutorials through the public
 * APIs — versions and aliases with a 50/50 split, an API Gateway stage canary, a CodeDeploy canary that
 * succeeds and one that an alarm rolls back — printing each step and where to watch it in the console.
 * Checks the final state; exits 0 when all is as the tutorials say.
 */
export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    strict: true,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'time-scale': { type: 'string' },
      keep: { type: 'boolean' },
      pause: { type: 'string' },
    },
  });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'versa-demo-'));
  let server: RunningServer | undefined;
  try {
    let options;
    try {
      options = resolveOptions(
        { port: values.port ?? 4566, host: values.host, dataDir, timeScale: values['time-scale'] ?? 60, logLevel: 'warn' },
        {},
      );
    } catch (err) {
      if (err instanceof OptionsError) {
        process.stderr.write(`versa demo: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const pauseMs = values.pause === undefined ? 0 : Number(values.pause) * 1000;
    if (!Number.isFinite(pauseMs) || pauseMs < 0) {
      process.stderr.write(`versa demo: --pause takes a number of seconds; got ${values.pause}.\n`);
      return 2;
    }
    try {
      server = await startServer(options);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        process.stderr.write(`versa demo: port ${options.port} is in use; pass --port 0 for any free port, or another number.\n`);
        return 1;
      }
      throw err;
    }
    const say = (line: string) => process.stdout.write(`${line}\n`);
    say(`Versa demo: a throwaway server at ${server.url} (time runs ${options.timeScale}x faster), data in ${dataDir}`);
    say(`Watch it in the console: ${server.url}/_versa/\n`);
    const demo = new Demo(server.url, say, pauseMs);
    try {
      await demo.versionsAndAliases();
      await demo.apiCanary();
      await demo.samCanary();
      say('\nAll checks passed.');
    } catch (err) {
      if (err instanceof DemoCheckFailed) {
        process.stderr.write(`versa demo: check failed: ${err.message}\n`);
        return 1;
      }
      process.stderr.write(`versa demo: ${describeError(err, server.url)}\n`);
      return 1;
    } finally {
      demo.close();
    }
    if (values.keep) {
      say(`\nThe server keeps running for you to look around: ${server.url}/_versa/  (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
    return 0;
  } finally {
    await server?.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

class Demo {
  private readonly lambda: LambdaClient;
  private readonly apigw;

  constructor(
    private readonly url: string,
    private readonly say: (line: string) => void,
    private readonly pauseMs: number,
  ) {
    this.lambda = lambdaClient(url);
    this.apigw = apiGatewayClient(url);
  }

  close(): void {
    for (const c of [this.lambda, this.apigw]) c.destroy();
  }

  private async step(title: string, where?: string): Promise<void> {
    if (this.pauseMs) await sleep(this.pauseMs);
    this.say(`\n== ${title}${where ? `\n   console: ${this.url}/_versa/${where}` : ''}`);
  }

  /** Invokes `fn:qualifier` n times (8 at a time); returns how many each executed version served. */
  private async split(fn: string, qualifier: string, n: number): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < n) {
        next++;
        const out = await this.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: qualifier }));
        const v = out.ExecutedVersion ?? '?';
        counts[v] = (counts[v] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return counts;
  }

  private async invokeOnce(fn: string, qualifier: string): Promise<string> {
    const out = await this.lambda.send(new InvokeCommand({ FunctionName: fn, Qualifier: qualifier }));
    this.say(`   ${qualifier.padEnd(8)} → ${text(out.Payload)} (version ${out.ExecutedVersion ?? '?'})`);
    return out.ExecutedVersion ?? '';
  }

  /** Tutorial 000: $LATEST, versions 1 and 2, aliases dev/test/prod, a 50/50 split, promotion. */
  async versionsAndAliases(): Promise<void> {
    const fn = 'lambda-version-demo';
    const code = (said: string) => zip({ 'lambda_function.py': `def lambda_handler(event, context):\n    return "${said}"\n` });
    const where = `#/functions/${fn}`;
    await this.step(`Versions and aliases: create ${fn} ($LATEST) and invoke it`, where);
    await this.lambda.send(
      new CreateFunctionCommand({
        FunctionName: fn,
        Runtime: 'python3.12',
        Handler: 'lambda_function.lambda_handler',
        Role: ROLE,
        Code: { ZipFile: code('this is version one.') },
      }),
    );
    await this.invokeOnce(fn, '$LATEST');

    await this.step('Publish version 1, change the code, publish version 2');
    await this.lambda.send(new PublishVersionCommand({ FunctionName: fn, Description: 'first version' }));
    await this.lambda.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: code('this is version two.') }));
    const v2 = await this.lambda.send(new PublishVersionCommand({ FunctionName: fn, Description: 'second version' }));
    this.say(`   versions 1 and ${v2.Version ?? '?'} published`);

    await this.step('Aliases: dev → $LATEST, test → 2, prod → 1');
    for (const [name, version] of [
      ['dev', '$LATEST'],
      ['test', '2'],
      ['prod', '1'],
    ] as const) {
      await this.lambda.send(new CreateAliasCommand({ FunctionName: fn, Name: name, FunctionVersion: version }));
    }
    check((await this.invokeOnce(fn, 'dev')) === '$LATEST', 'dev should run $LATEST');
    check((await this.invokeOnce(fn, 'test')) === '2', 'test should run version 2');
    check((await this.invokeOnce(fn, 'prod')) === '1', 'prod should run version 1');

    await this.step('Weighted alias: prod sends 50% to version 2', where);
    await this.lambda.send(
      new UpdateAliasCommand({ FunctionName: fn, Name: 'prod', RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } } }),
    );
    const split = await this.split(fn, 'prod', 60);
    this.say(`   60 invocations of prod: version 1 ran ${split['1'] ?? 0}, version 2 ran ${split['2'] ?? 0}`);
    check((split['1'] ?? 0) > 0 && (split['2'] ?? 0) > 0, 'a 50/50 prod should run both versions');

    await this.step('A bad request changes nothing: a weight of 1.5 is refused');
    try {
      await this.lambda.send(
        new UpdateAliasCommand({ FunctionName: fn, Name: 'prod', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } }),
      );
      check(false, 'a weight of 1.5 should be refused');
    } catch (err) {
      if (err instanceof DemoCheckFailed) throw err;
      this.say(`   refused: ${(err as Error).name}: ${(err as Error).message}`);
    }

    await this.step('Promote: prod wholly on version 2');
    await this.lambda.send(
      new UpdateAliasCommand({ FunctionName: fn, Name: 'prod', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} } }),
    );
    check((await this.invokeOnce(fn, 'prod')) === '2', 'promoted prod should run version 2');
    const prod = await this.lambda.send(new GetAliasCommand({ FunctionName: fn, Name: 'prod' }));
    check(
      prod.FunctionVersion === '2' && !Object.keys(prod.RoutingConfig?.AdditionalVersionWeights ?? {}).length,
      'prod should point at 2 alone',
    );
  }

  /** Tutorial 001: a REST API on MathCeil, a stage canary to MathFloor at 10%, then 50%, then promoted. */
  async apiCanary(): Promise<void> {
    const handler = (call: string, label: string) =>
      zip({ 'index.js': `exports.handler = async () => "this is the ${label} function (${call}) = " + ${call}(999.5);\n` });
    await this.step('API canary: functions MathCeil (the original) and MathFloor (the canary)');
    for (const [name, call, label] of [
      ['MathCeil', 'Math.ceil', 'original'],
      ['MathFloor', 'Math.floor', 'canary'],
    ] as const) {
      await this.lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Role: ROLE,
          Code: { ZipFile: handler(call, label) },
        }),
      );
    }
    const api = await this.apigw.send(new CreateRestApiCommand({ name: 'MathApi' }));
    const apiId = api.id!;
    const where = `#/apis/${apiId}`;
    await this.step(`A REST API MathApi (${apiId}) with GET / → MathCeil, deployed to stage prod`, where);
    const root = (await this.apigw.send(new GetResourcesCommand({ restApiId: apiId }))).items![0]!.id!;
    const uri = (fn: string) =>
      `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/arn:aws:lambda:${REGION}:000000000000:function:${fn}/invocations`;
    const integrate = (fn: string) =>
      this.apigw.send(
        new PutIntegrationCommand({
          restApiId: apiId,
          resourceId: root,
          httpMethod: 'GET',
          type: 'AWS',
          integrationHttpMethod: 'POST',
          uri: uri(fn),
        }),
      );
    await this.apigw.send(new PutMethodCommand({ restApiId: apiId, resourceId: root, httpMethod: 'GET', authorizationType: 'NONE' }));
    await integrate('MathCeil');
    await this.apigw.send(new PutMethodResponseCommand({ restApiId: apiId, resourceId: root, httpMethod: 'GET', statusCode: '200' }));
    await this.apigw.send(
      new PutIntegrationResponseCommand({ restApiId: apiId, resourceId: root, httpMethod: 'GET', statusCode: '200', selectionPattern: '' }),
    );
    for (const fn of ['MathCeil', 'MathFloor']) {
      await this.lambda.send(
        new AddPermissionCommand({
          FunctionName: fn,
          StatementId: 'apigateway-get',
          Action: 'lambda:InvokeFunction',
          Principal: 'apigateway.amazonaws.com',
          SourceArn: `arn:aws:execute-api:${REGION}:000000000000:${apiId}/*/GET/`,
        }),
      );
    }
    await this.apigw.send(new CreateApiDeploymentCommand({ restApiId: apiId, stageName: 'prod', description: 'MathCeil' }));
    const stageUrl = `${this.url}/restapis/${apiId}/prod/_user_request_/`;
    this.say(`   stage URL: ${stageUrl}`);
    const count = async (n: number) => {
      let ceil = 0;
      let floor = 0;
      for (let i = 0; i < n; i++) {
        const body = await (await fetch(stageUrl)).text();
        if (body.includes('Math.ceil')) ceil++;
        else if (body.includes('Math.floor')) floor++;
      }
      this.say(`   ${n} requests: MathCeil ${ceil}, MathFloor ${floor}`);
      return { ceil, floor };
    };
    check((await count(20)).floor === 0, 'before the canary, every request should reach MathCeil');

    await this.step('Point GET / at MathFloor and deploy it as a canary of prod with 10% of requests', where);
    await integrate('MathFloor');
    await this.apigw.send(
      new CreateApiDeploymentCommand({
        restApiId: apiId,
        stageName: 'prod',
        description: 'MathFloor canary',
        canarySettings: { percentTraffic: 10 },
      }),
    );
    await count(60);

    await this.step('Raise the canary to 50%', where);
    await this.apigw.send(
      new UpdateStageCommand({
        restApiId: apiId,
        stageName: 'prod',
        patchOperations: [{ op: 'replace', path: '/canarySettings/percentTraffic', value: '50.0' }],
      }),
    );
    const half = await count(60);
    check(half.ceil > 0 && half.floor > 0, 'a 50% canary should send requests to both functions');

    await this.step('Promote the canary: every request gets MathFloor', where);
    await this.apigw.send(
      new UpdateStageCommand({
        restApiId: apiId,
        stageName: 'prod',
        patchOperations: [
          { op: 'replace', path: '/canarySettings/percentTraffic', value: '0.0' },
          { op: 'copy', from: '/canarySettings/deploymentId', path: '/deploymentId' },
          { op: 'copy', from: '/canarySettings/stageVariableOverrides', path: '/variables' },
        ],
      }),
    );
    await this.apigw.send(
      new UpdateStageCommand({ restApiId: apiId, stageName: 'prod', patchOperations: [{ op: 'remove', path: '/canarySettings' }] }),
    );
    check((await count(20)).ceil === 0, 'after promotion, every request should reach MathFloor');
    const stage = await this.apigw.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }));
    check(stage.canarySettings === undefined, 'the promoted stage should have no canary left');
  }

  /**
   * Tutorials 002 and 003 as their SAM project: examples/sam-canary deployed with `versa deploy` three
   * times — version 1; version 2 through a canary with both hooks; a broken version 3 that real traffic
   * trips the alarm on, rolled back.
   */
  async samCanary(): Promise<void> {
    const project = await mkdtemp(path.join(tmpdir(), 'versa-demo-sam-'));
    try {
      await cp(SAM_EXAMPLE, project, { recursive: true });
      const app = path.join(project, 'hello_world', 'app.py');
      const edit = async (change: (code: string) => string) => writeFile(app, change(await readFile(app, 'utf8')));
      const deploy = () =>
        deployCommand(['--stack-name', 'sam-canary', '--template-file', path.join(project, 'template.yaml'), '--endpoint-url', this.url]);
      const live = () => this.lambda.send(new GetAliasCommand({ FunctionName: 'hello-world', Name: 'live' }));

      await this.step('SAM: versa deploy of examples/sam-canary — version 1 behind the alias live, an API, two hooks and an alarm');
      check((await deploy()) === 0, 'the first versa deploy should succeed');
      const url = await this.stackApiUrl('sam-canary');
      check((await this.hello(url)) === 'hello world v1', 'the API should answer hello world v1');
      this.say(`   ${url} → hello world v1`);

      await this.step('SAM: change the message and deploy again — version 2 goes out as a Canary10Percent10Minutes', '#/deployments');
      await edit((code) => code.replace('hello world v1', 'hello world v2'));
      check((await deploy()) === 0, 'the second versa deploy should succeed');
      check((await live()).FunctionVersion === '2', 'after the canary, live should be on version 2');
      check((await this.hello(url)) === 'hello world v2', 'the API should answer hello world v2');

      await this.step('SAM: break version 3 and deploy it while users call the API — the alarm rolls it back', '#/alarms');
      await edit((code) =>
        code
          .replace('hello world v2', 'hello world v3')
          .replace(/\n {4}return \{\n/, '\n    raise RuntimeError("v3 is broken")\n    return {\n'),
      );
      let deploying = true;
      const traffic = (async () => {
        while (deploying) {
          await fetch(url).then(
            (r) => r.arrayBuffer(),
            () => undefined,
          );
          await sleep(20);
        }
      })();
      const status = await deploy();
      deploying = false;
      await traffic;
      check(status === 1, 'the broken deploy should be rolled back and exit 1');
      const after = await live();
      check(
        after.FunctionVersion === '2' && Object.keys(after.RoutingConfig?.AdditionalVersionWeights ?? {}).length === 0,
        'after the rollback, live should be wholly on version 2 again',
      );
      check((await this.hello(url)) === 'hello world v2', 'after the rollback the API should answer hello world v2');
      this.say('   live is back on version 2, and the API answers hello world v2');
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  }

  /** The local URL of a stack's HelloWorldApi output. */
  private async stackApiUrl(stack: string): Promise<string> {
    const res = await fetch(`${this.url}/_versa/api/stacks/${stack}`);
    const { stack: doc } = (await res.json()) as { stack: { outputs: { key: string; value: string }[] } };
    const value = doc.outputs.find((o) => o.key === 'HelloWorldApi')?.value ?? '';
    const local = localUrl(this.url, value);
    check(local !== undefined, `the stack should have an API output, not ${JSON.stringify(value)}`);
    return local!;
  }

  private async hello(url: string): Promise<string> {
    const res = await fetch(url);
    return ((await res.json()) as { message?: string }).message ?? `HTTP ${res.status}`;
  }
}
