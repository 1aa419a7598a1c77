/**
 * Versa's SAM transform against the real one: the same templates go through `aws-sam-translator` (the
 * Python library the SAM CLI and CloudFormation use) and through src/stacks/sam.ts, and the resources
 * that come out must be the same — logical ids, types, resource attributes and properties — except
 * where Versa legitimately differs:
 *
 * - the code: SAM points at S3 (CodeUri becomes s3://versa/<uri>.zip for it), Versa at the zip it keeps,
 *   so the 10-hex-digit hashes of `<Fn>Version<hash>` differ; so do those of `<Api>Deployment<hash>`
 *   (SAM hashes Python's str() of the Swagger body). Both are normalised to `<Fn>Version#`.
 * - the `lambda:createdBy: SAM` tags SAM adds, and SAM's `Fn::Sub` spelling of DeploymentConfigName.
 * - an API's name: SAM sets RestApi Name, Versa the Swagger title; what API Gateway names the API is compared.
 *
 * The test needs python3 with aws-sam-translator; without it the test fails, it does not skip.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { transform, type Artifacts, type Transformed } from '../src/stacks/sam.js';
import { parameterValues } from '../src/stacks/parameters.js';
import { isObject, parseTemplate, TemplateError } from '../src/stacks/template.js';
import type { Json, JsonObject } from '../src/domain/stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Translates each template of a JSON list read on stdin; prints the list of results. */
const ORACLE = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.public.exceptions import InvalidDocumentException

class Loader:
    def load(self):
        return {}

results = []
for case in json.load(sys.stdin):
    try:
        results.append({"template": transform(case["template"], case["parameters"], Loader())})
    except InvalidDocumentException as e:
        results.append({"errors": [getattr(c, "message", str(c)) for c in e.causes]})
print(json.dumps(results, default=str))
`;

interface Case {
  name: string;
  template: JsonObject;
  /** Parameter overrides, given to both. */
  parameters?: Record<string, string>;
}

type OracleResult = { template: JsonObject; errors?: undefined } | { errors: string[]; template?: undefined };

/** Runs the SAM translator on every case at once (it takes a second to start). */
function samTranslate(cases: Case[]): OracleResult[] {
  const python = spawnSync('python3', ['-c', ORACLE], {
    input: JSON.stringify(cases.map((c) => ({ template: forSam(c.template), parameters: c.parameters ?? {} }))),
    encoding: 'utf8',
    env: { ...process.env, AWS_DEFAULT_REGION: 'us-east-1' },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  if (python.error) assert.fail(`The SAM oracle needs python3: ${python.error.message}`);
  if (python.status !== 0) {
    if (/No module named .?samtranslator/.test(python.stderr)) {
      assert.fail('The SAM oracle needs the SAM translator: python3 -m pip install aws-sam-translator');
    }
    assert.fail(`The SAM translator failed (exit ${python.status}):\n${python.stderr}`);
  }
  return JSON.parse(python.stdout) as OracleResult[];
}

/** SAM reads code from S3 only: each local CodeUri becomes s3://versa/<uri>.zip. */
function forSam(template: JsonObject): JsonObject {
  const copy = structuredClone(template);
  const rewrite = (props: Json | undefined) => {
    if (isObject(props ?? null) && typeof (props as JsonObject).CodeUri === 'string') {
      (props as JsonObject).CodeUri = `s3://versa/${(props as JsonObject).CodeUri as string}.zip`;
    }
  };
  if (isObject(copy.Globals ?? null)) rewrite((copy.Globals as JsonObject).Function);
  for (const r of Object.values(copy.Resources as JsonObject)) {
    if (isObject(r) && r.Type === 'AWS::Serverless::Function') rewrite(r.Properties);
  }
  return copy;
}

/** Versa's transform, given a packaged zip for each CodeUri as written, and parameters as a deploy has them. */
function versaTransform(c: Case): Transformed {
  const artifacts: Artifacts = {};
  const uris = [(c.template.Globals as { Function?: JsonObject } | undefined)?.Function?.CodeUri];
  for (const r of Object.values(c.template.Resources as JsonObject)) {
    if (isObject(r) && isObject(r.Properties ?? null)) uris.push((r.Properties as JsonObject).CodeUri);
  }
  for (const uri of uris) {
    if (typeof uri === 'string') artifacts[uri] = { codeSha256: createHash('sha256').update(uri).digest('base64') };
  }
  const parameters = parameterValues(c.template, c.parameters ?? {});
  return transform(c.template, artifacts, { 'AWS::Region': 'us-east-1', 'AWS::AccountId': '000000000000', ...parameters });
}

/** `<Fn>Version<10 hex>` → `<Fn>Version#`, `<Api>Deployment<10 hex>` → `<Api>Deployment#`, in ids and in every string. */
const HASHED = /(Version|Deployment)[0-9a-f]{10}(?![0-9A-Za-z])/g;
function normalise(value: Json): Json {
  if (typeof value === 'string') return value.replace(HASHED, '$1#');
  if (Array.isArray(value)) return value.map(normalise);
  if (!isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(HASHED, '$1#'), normalise(v)]));
}

/** A resource with what Versa legitimately does differently taken out. */
function comparable(resource: JsonObject): JsonObject {
  const r = structuredClone(resource);
  const props = (r.Properties ?? {}) as JsonObject;
  switch (r.Type) {
    case 'AWS::Lambda::Function':
      delete props.Code;
      delete props.Tags;
      break;
    case 'AWS::IAM::Role':
      delete props.Tags;
      break;
    case 'AWS::ApiGateway::Deployment':
      assert.match(typeof props.Description === 'string' ? props.Description : '', /^RestApi deployment id: [0-9a-f]{40}$/);
      delete props.Description;
      break;
    case 'AWS::ApiGateway::RestApi': {
      // The name API Gateway gives the API: Name, else the title of the imported definition.
      const body = props.Body as { info: JsonObject };
      props.Name = props.Name ?? body.info.title!;
      delete body.info.title;
      break;
    }
    case 'AWS::CodeDeploy::DeploymentGroup': {
      // SAM writes a predefined config as { Fn::Sub: ['CodeDeployDefault.Lambda${ConfigName}', { ConfigName }] }.
      const name = props.DeploymentConfigName;
      if (isObject(name ?? null) && Array.isArray((name as JsonObject)['Fn::Sub'])) {
        const [text, vars] = (name as { 'Fn::Sub': [string, Record<string, string>] })['Fn::Sub'];
        props.DeploymentConfigName = text.replace(/\$\{(\w+)\}/g, (_m, v: string) => vars[v] ?? `\${${v}}`);
      }
      break;
    }
  }
  return normalise(r) as JsonObject;
}

function compare(name: string, sam: JsonObject, versa: Transformed): void {
  const samResources = sam.Resources as Record<string, JsonObject>;
  const samIds = Object.keys(samResources)
    .map((id) => `${id.replace(HASHED, '$1#')} ${samResources[id]!.Type as string}`)
    .sort();
  const versaIds = Object.entries(versa.resources)
    .map(([id, r]) => `${id.replace(HASHED, '$1#')} ${r.Type}`)
    .sort();
  assert.deepEqual(versaIds, samIds, `${name}: the same resources (logical id and type)`);

  const versaByNormalId = new Map(Object.entries(versa.resources).map(([id, r]) => [id.replace(HASHED, '$1#'), r]));
  for (const [id, samResource] of Object.entries(samResources)) {
    const normalId = id.replace(HASHED, '$1#');
    const mine = comparable(versaByNormalId.get(normalId) as unknown as JsonObject);
    const theirs = comparable(samResource);
    assert.deepEqual(mine, theirs, `${name}: resource ${normalId} (${samResource.Type as string})`);
  }
  const samOutputs = (sam.Outputs ?? {}) as JsonObject;
  assert.deepEqual(normalise(versa.outputs as unknown as Json), normalise(samOutputs), `${name}: outputs`);
}

// ---------------------------------------------------------------------------------------------------------

const fn = (props: JsonObject, extra: JsonObject = {}): JsonObject => ({
  Type: 'AWS::Serverless::Function',
  ...extra,
  Properties: props,
});
const api = (path: string, method: string, restApi?: string): JsonObject => ({
  Type: 'Api',
  Properties: { Path: path, Method: method, ...(restApi !== undefined && { RestApiId: { Ref: restApi } }) },
});
const sam = (body: JsonObject): JsonObject => ({
  AWSTemplateFormatVersion: '2010-09-09',
  Transform: 'AWS::Serverless-2016-10-31',
  ...body,
});

const CASES: Case[] = [
  {
    name: 'examples/sam-canary',
    template: parseTemplate(readFileSync(path.join(ROOT, 'examples/sam-canary/template.yaml'), 'utf8')),
  },
  {
    name: 'examples/sam-canary with a DeploymentType override',
    template: parseTemplate(readFileSync(path.join(ROOT, 'examples/sam-canary/template.yaml'), 'utf8')),
    parameters: { DeploymentType: 'Linear10PercentEvery1Minute' },
  },
  {
    name: 'implicit API: two functions, several events, Linear and AllAtOnce, Globals',
    template: parseTemplate(
      [
        'Transform: AWS::Serverless-2016-10-31',
        'Globals:',
        '  Function:',
        '    Runtime: python3.12',
        '    Timeout: 10',
        '    MemorySize: 256',
        '    Environment:',
        '      Variables:',
        '        SHARED: one',
        '        LEVEL: global',
        '  Api:',
        '    Variables:',
        '      mode: fast',
        'Resources:',
        '  OrdersFunction:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      CodeUri: orders/',
        '      Handler: app.handler',
        '      MemorySize: 512',
        '      AutoPublishAlias: live',
        '      Environment:',
        '        Variables:',
        '          LEVEL: own',
        '          TABLE: !Ref AWS::StackName',
        '      DeploymentPreference:',
        '        Type: Linear10PercentEvery1Minute',
        '        Alarms: [!Ref OrdersErrors, !Ref OrdersLatency]',
        '      Events:',
        '        List:',
        '          Type: Api',
        '          Properties: {Path: /orders, Method: get}',
        '        One:',
        '          Type: Api',
        '          Properties: {Path: "/orders/{id}", Method: any}',
        '        Trailing:',
        '          Type: Api',
        '          Properties: {Path: /orders/search/, Method: POST}',
        '  UsersFunction:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      CodeUri: users/',
        '      Handler: app.handler',
        '      AutoPublishAlias: my_live-1',
        '      DeploymentPreference:',
        '        Type: AllAtOnce',
        '        Enabled: true',
        '        Hooks:',
        '          PostTraffic: !Ref CheckFunction',
        '      Events:',
        '        Get:',
        '          Type: Api',
        '          Properties: {Path: "/users/{user}/orders/{order}", Method: GET}',
        '  CheckFunction:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      CodeUri: check/',
        '      Handler: app.handler',
        '      FunctionName: CodeDeployHook_check',
        '      Environment:',
        '        Variables:',
        '          TARGET: !Ref UsersFunction.Alias',
        '          VERSION: !Ref UsersFunction.Version',
        '  OrdersErrors:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties:',
        '      Namespace: AWS/Lambda',
        '      MetricName: Errors',
        '      Dimensions:',
        '        - {Name: Resource, Value: !Sub "${OrdersFunction}:live"}',
        '        - {Name: ExecutedVersion, Value: !GetAtt OrdersFunction.Version.Version}',
        '  OrdersLatency:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties: {Namespace: AWS/Lambda, MetricName: Duration}',
        'Outputs:',
        '  Url:',
        '    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/orders"',
        '  Users:',
        '    Value: !Ref UsersFunction.Alias',
        '    Description: !Sub "alias ${UsersFunction.Alias} on ${UsersFunction.Version}"',
      ].join('\n'),
    ),
  },
  {
    name: 'explicit APIs (Prod and a literal stage), Enabled false, no alias, a custom config',
    template: sam({
      Resources: {
        ProdApi: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'Prod', Description: 'the prod API' } },
        BetaApi: {
          Type: 'AWS::Serverless::Api',
          Properties: {
            StageName: 'v1-beta',
            Name: 'beta',
            Variables: { tier: 'beta' },
            MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', ThrottlingBurstLimit: 20, ThrottlingRateLimit: 5 }],
          },
        },
        ItemsFunction: fn({
          CodeUri: 'items/',
          Handler: 'app.handler',
          Runtime: 'nodejs20.x',
          AutoPublishAlias: 'live',
          VersionDescription: 'items release',
          DeploymentPreference: { Type: 'Canary10Percent5Minutes', Enabled: false },
          Events: { Read: api('/items/{id}', 'get', 'ProdApi'), Write: api('/items', 'put', 'BetaApi') },
        }),
        PlainFunction: fn({
          CodeUri: 'plain/',
          Handler: 'app.handler',
          Runtime: 'nodejs20.x',
          Events: { Ping: api('/ping', 'get', 'BetaApi'), Health: api('/health', 'get', 'ProdApi') },
        }),
        CustomFunction: fn({
          CodeUri: 'plain/',
          Handler: 'app.handler',
          Runtime: 'nodejs20.x',
          AutoPublishAlias: 'prod',
          DeploymentPreference: {
            Type: 'TeamCanary',
            Role: 'arn:aws:iam::000000000000:role/codedeploy',
            Hooks: { PreTraffic: { Ref: 'PlainFunction' } },
          },
        }),
      },
      Outputs: {
        Version: { Value: { 'Fn::GetAtt': ['ItemsFunction.Version', 'Version'] } },
        Alias: { Value: { 'Fn::Sub': '${ItemsFunction.Alias}' } },
        Api: { Value: { Ref: 'BetaApi' } },
      },
    }),
  },
  {
    name: 'Parameters and Conditions: alias and deployment type from parameters, conditional function',
    parameters: { AliasName: 'blue', Stage: 'prod' },
    template: sam({
      Parameters: {
        AliasName: { Type: 'String', Default: 'live' },
        ConfigType: {
          Type: 'String',
          Default: 'Linear10PercentEvery2Minutes',
          AllowedValues: ['Linear10PercentEvery2Minutes', 'AllAtOnce'],
        },
        Stage: { Type: 'String', Default: 'dev' },
        Memory: { Type: 'Number', Default: 256 },
      },
      Conditions: {
        IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
        IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      },
      Globals: { Function: { Runtime: 'python3.12', Handler: 'app.handler', CodeUri: 'shared/' } },
      Resources: {
        Fn: fn(
          {
            AutoPublishAlias: { Ref: 'AliasName' },
            MemorySize: { Ref: 'Memory' },
            Environment: { Variables: { STAGE: { Ref: 'Stage' }, DEBUG: { 'Fn::If': ['IsDev', 'yes', { Ref: 'AWS::NoValue' }] } } },
            DeploymentPreference: { Type: { Ref: 'ConfigType' } },
          },
          { DependsOn: 'Topic' },
        ),
        Reporter: fn(
          {
            CodeUri: 'reporter/',
            AutoPublishAlias: 'live',
            DeploymentPreference: { Type: 'Canary10Percent15Minutes' },
          },
          { Condition: 'IsProd' },
        ),
        Topic: { Type: 'AWS::CloudWatch::Alarm', Properties: { Namespace: 'x', MetricName: 'y' } },
        DevAlarm: { Type: 'AWS::CloudWatch::Alarm', Condition: 'IsDev', Properties: { Namespace: 'x', MetricName: { Ref: 'Fn.Alias' } } },
      },
      Outputs: {
        Reporter: { Condition: 'IsProd', Value: { Ref: 'Reporter.Alias' } },
        Fn: { Value: { 'Fn::GetAtt': ['Fn.Version', 'Version'] } },
      },
    }),
  },
];

/** Templates SAM refuses, and the message of SAM's that Versa's TemplateError must carry. */
const REFUSED: (Case & { message: string })[] = [
  {
    name: 'DeploymentPreference without AutoPublishAlias',
    template: sam({
      Resources: { Fn: fn({ CodeUri: 'a/', Handler: 'h', Runtime: 'nodejs20.x', DeploymentPreference: { Type: 'AllAtOnce' } }) },
    }),
    message: "'DeploymentPreference' requires AutoPublishAlias property to be specified.",
  },
  {
    name: 'DeploymentPreference without Type',
    template: sam({
      Resources: {
        Fn: fn({ CodeUri: 'a/', Handler: 'h', Runtime: 'nodejs20.x', AutoPublishAlias: 'live', DeploymentPreference: { Alarms: [] } }),
      },
    }),
    message: "'DeploymentPreference' is missing required Property 'Type'",
  },
  {
    name: 'Globals.Api.StageName',
    template: sam({
      Globals: { Api: { StageName: 'dev' } },
      Resources: { Fn: fn({ CodeUri: 'a/', Handler: 'h', Runtime: 'nodejs20.x', Events: { Get: api('/', 'get') } }) },
    }),
    message: "'StageName' is not a supported property of 'Api'.",
  },
];

describe('the SAM transform matches aws-sam-translator', () => {
  let results: OracleResult[] = [];
  before(() => {
    results = samTranslate([...CASES, ...REFUSED]);
  });

  for (const [i, c] of CASES.entries()) {
    it(c.name, () => {
      const oracle = results[i]!;
      assert.ok(oracle.template, `SAM translated it: ${JSON.stringify(oracle.errors)}`);
      compare(c.name, oracle.template, versaTransform(c));
    });
  }

  for (const [i, c] of REFUSED.entries()) {
    it(`both refuse: ${c.name}`, () => {
      const oracle = results[CASES.length + i]!;
      assert.ok(oracle.errors, 'SAM refused it');
      assert.ok(
        oracle.errors.some((e) => e.includes(c.message)),
        `SAM's message: ${JSON.stringify(oracle.errors)}`,
      );
      assert.throws(
        () => versaTransform(c),
        (err: unknown) => err instanceof TemplateError && err.problems.some((p) => p.includes(c.message)),
      );
    });
  }

  it('the comparison notices a difference (a changed alias name, a dropped permission)', () => {
    const c = CASES[0]!;
    const versa = versaTransform(c);
    const alias = versa.resources.HelloWorldFunctionAliaslive!;
    alias.Properties = { ...alias.Properties, Name: 'other' };
    assert.throws(() => compare(c.name, results[0]!.template!, versa), /resource HelloWorldFunctionAliaslive/);
    const fewer = versaTransform(c);
    delete fewer.resources.HelloWorldFunctionHelloPermissionProd;
    assert.throws(() => compare(c.name, results[0]!.template!, fewer), /the same resources/);
  });
});
