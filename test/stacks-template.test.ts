/**
 * The pieces `versa deploy` builds a stack from, each on its own: parsing templates (YAML short forms,
 * JSON), resolving intrinsic functions, evaluating conditions, checking parameters, and the SAM transform.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { PlatformError } from '../src/core/errors.js';
import { evaluateCondition, references, resolve, type ResolveContext } from '../src/stacks/intrinsics.js';
import { expand, transform, type Artifacts, type Transformed } from '../src/stacks/sam.js';
import { evaluateConditions, parameterValues } from '../src/stacks/parameters.js';
import { codeUris, parseTemplate, TemplateError } from '../src/stacks/template.js';
import type { Json, JsonObject } from '../src/domain/stack.js';

/** The Properties of resource `id` of a parsed template. */
function propsOf(template: JsonObject, id: string): JsonObject {
  const resources = template.Resources as JsonObject;
  return (resources[id] as JsonObject).Properties as JsonObject;
}

/** Asserts that `fn` throws a TemplateError whose problems match each pattern, and returns them. */
function templateProblems(fn: () => unknown, ...patterns: RegExp[]): string[] {
  let problems: string[] | undefined;
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TemplateError, `a TemplateError, not ${err instanceof Error ? err.name : typeof err}`);
    problems = err.problems;
    return true;
  });
  for (const pattern of patterns) {
    assert.ok(
      problems!.some((p) => pattern.test(p)),
      `a problem matches ${pattern.source}; got:\n  ${problems!.join('\n  ')}`,
    );
  }
  return problems!;
}

describe('parseTemplate', () => {
  const wrap = (value: string) => `Resources:\n  R:\n    Type: AWS::CloudWatch::Alarm\n    Properties:\n      V: ${value}\n`;
  const parsed = (value: string) => propsOf(parseTemplate(wrap(value)), 'R').V;

  it('turns every short form into its long form', () => {
    const cases: [string, Json][] = [
      ['!Ref Name', { Ref: 'Name' }],
      ['!Ref AWS::Region', { Ref: 'AWS::Region' }],
      ['!Condition IsProd', { Condition: 'IsProd' }],
      ['!GetAtt Fn.Arn', { 'Fn::GetAtt': ['Fn', 'Arn'] }],
      ['!GetAtt A.B.C', { 'Fn::GetAtt': ['A', 'B.C'] }],
      ['!GetAtt [Fn, Arn]', { 'Fn::GetAtt': ['Fn', 'Arn'] }],
      ["!Sub 'arn:${AWS::Partition}:x'", { 'Fn::Sub': 'arn:${AWS::Partition}:x' }],
      ["!Join [',', [a, b]]", { 'Fn::Join': [',', ['a', 'b']] }],
      ['!If [C, a, b]', { 'Fn::If': ['C', 'a', 'b'] }],
      ['!Select [1, [a, b]]', { 'Fn::Select': [1, ['a', 'b']] }],
      ["!Split [',', 'a,b']", { 'Fn::Split': [',', 'a,b'] }],
      ['!Equals [a, b]', { 'Fn::Equals': ['a', 'b'] }],
      ['!And [x, y]', { 'Fn::And': ['x', 'y'] }],
      ['!Or [x, y]', { 'Fn::Or': ['x', 'y'] }],
      ['!Not [x]', { 'Fn::Not': ['x'] }],
      ['!FindInMap [M, k1, k2]', { 'Fn::FindInMap': ['M', 'k1', 'k2'] }],
      ['!Base64 hello', { 'Fn::Base64': 'hello' }],
      ["!GetAZs ''", { 'Fn::GetAZs': '' }],
      ['!ImportValue Shared', { 'Fn::ImportValue': 'Shared' }],
      ["!Cidr ['10.0.0.0/16', 2, 8]", { 'Fn::Cidr': ['10.0.0.0/16', 2, 8] }],
      ['!Length [a, b]', { 'Fn::Length': ['a', 'b'] }],
      ['!ToJsonString {a: 1}', { 'Fn::ToJsonString': { a: 1 } }],
    ];
    for (const [short, long] of cases) assert.deepEqual(parsed(short), long, short);
  });

  it('nests short forms inside one another', () => {
    assert.deepEqual(parsed("!Sub ['${x}-${AWS::Region}', {x: !Ref Y}]"), {
      'Fn::Sub': ['${x}-${AWS::Region}', { x: { Ref: 'Y' } }],
    });
    assert.deepEqual(parsed('!If [C, !Ref A, !Ref AWS::NoValue]'), {
      'Fn::If': ['C', { Ref: 'A' }, { Ref: 'AWS::NoValue' }],
    });
    assert.deepEqual(parsed('!Join [":", [!GetAtt A.Arn, !Select [0, !Split [",", !Ref L]]]]'), {
      'Fn::Join': [':', [{ 'Fn::GetAtt': ['A', 'Arn'] }, { 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: 'L' }] }] }]],
    });
    // A block mapping under a tag, as templates write multi-line functions.
    const t = parseTemplate(
      [
        'Conditions:',
        '  Both: !And',
        '    - !Equals [!Ref Stage, prod]',
        '    - !Not [!Condition IsDev]',
        'Resources:',
        '  R:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties:',
        '      V: !Sub',
        "        - 'https://${Api}.example/${p}'",
        '        - p: !FindInMap [Paths, !Ref Stage, root]',
      ].join('\n'),
    );
    assert.deepEqual((t.Conditions as JsonObject).Both, {
      'Fn::And': [{ 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] }, { 'Fn::Not': [{ Condition: 'IsDev' }] }],
    });
    assert.deepEqual(propsOf(t, 'R').V, {
      'Fn::Sub': ['https://${Api}.example/${p}', { p: { 'Fn::FindInMap': ['Paths', { Ref: 'Stage' }, 'root'] } }],
    });
  });

  it('expands anchors, aliases and << merge keys', () => {
    const t = parseTemplate(
      [
        'Resources:',
        '  A:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties: &base',
        '      Namespace: AWS/Lambda',
        '      Name: !Ref Fn',
        '  B:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties: *base',
        '  C:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties:',
        '      <<: *base',
        '      Namespace: Mine',
      ].join('\n'),
    );
    assert.deepEqual(propsOf(t, 'B'), { Namespace: 'AWS/Lambda', Name: { Ref: 'Fn' } });
    assert.deepEqual(propsOf(t, 'C'), { Namespace: 'Mine', Name: { Ref: 'Fn' } });
  });

  it('takes the last of a key repeated in a mapping, as CloudFormation does, in time linear in the keys', () => {
    const props = propsOf(parseTemplate(`${wrap('first')}      V: second\n`), 'R');
    assert.equal(props.V, 'second');
    const resources = parseTemplate('Resources:\n  R:\n    Type: A\n  R:\n    Type: B\n').Resources as JsonObject;
    assert.deepEqual(resources.R, { Type: 'B' });
    // yaml's unique-key check compared each key with every one before it: 60,000 keys took 28 s.
    const keys = Array.from({ length: 60_000 }, (_, i) => `    k${i.toString(36)}: ${i}`).join('\n');
    const started = process.cpuUsage();
    const template = parseTemplate(`${wrap('x')}Metadata:\n  M:\n${keys}\n`);
    const used = process.cpuUsage(started);
    const cpuMs = (used.user + used.system) / 1000;
    assert.equal(Object.keys((template.Metadata as JsonObject).M as JsonObject).length, 60_000);
    assert.ok(cpuMs < 5_000, `parsed 60,000 keys in ${cpuMs} ms of CPU`);
  });

  it('reads JSON templates as they are, long forms included', () => {
    const json = {
      AWSTemplateFormatVersion: '2010-09-09',
      Resources: { R: { Type: 'AWS::CloudWatch::Alarm', Properties: { V: { 'Fn::GetAtt': ['A', 'B.C'] }, N: 3 } } },
    };
    assert.deepEqual(parseTemplate(JSON.stringify(json, null, 2)), json);
    assert.deepEqual(parseTemplate(`  \n${JSON.stringify(json)}`), json);
  });

  it('refuses invalid YAML, invalid JSON, unknown tags and templates without resources', () => {
    templateProblems(
      () => parseTemplate('Resources:\n  R: [unclosed\n'),
      /^Template format error: YAML not well-formed\. \(line \d+, column \d+\)$/,
    );
    templateProblems(
      () => parseTemplate('{ "Resources": { "R": } }'),
      /^Template format error: JSON not well-formed\. \(line 1, column 24\)$/,
    );
    templateProblems(() => parseTemplate(wrap('!Reff X')), /unknown tag !Reff/);
    templateProblems(() => parseTemplate('- a\n- b\n'), /^Template format error: unsupported structure\.$/);
    templateProblems(() => parseTemplate('Description: nothing\n'), /At least one Resources member must be defined/);
    templateProblems(() => parseTemplate('{"Resources": []}'), /^Template format error: Any Resources member must be an object\.$/);
  });

  it('codeUris lists each CodeUri of the functions and of Globals once', () => {
    const t = parseTemplate(
      [
        'Globals:',
        '  Function:',
        '    CodeUri: shared/',
        'Resources:',
        '  A:',
        '    Type: AWS::Serverless::Function',
        '    Properties: {CodeUri: a/}',
        '  B:',
        '    Type: AWS::Serverless::Function',
        '    Properties: {CodeUri: a/}',
        '  C:',
        '    Type: AWS::Serverless::Function',
        '    Properties: {CodeUri: c.zip}',
        '  D:',
        '    Type: AWS::Lambda::Function',
        '    Properties: {CodeUri: not-serverless/}',
      ].join('\n'),
    );
    assert.deepEqual(codeUris(t).sort(), ['a/', 'c.zip', 'shared/']);
  });
});

/** A stack of two resources and a few parameters, conditions and mappings. */
function context(): ResolveContext {
  const refs: Record<string, string> = { Fn: 'my-fn', Api: 'abc123' };
  const atts: Record<string, string> = {
    'Fn.Arn': 'arn:aws:lambda:us-east-1:000000000000:function:my-fn',
    'Api.RootResourceId': 'root1',
    'Api.Deep.Attr': 'deep',
  };
  return {
    parameters: { Stage: 'prod', Count: '3', List: ['a', 'b', 'c'], 'AWS::Region': 'us-east-1', 'AWS::AccountId': '000000000000' },
    conditions: { IsProd: true, IsDev: false },
    mappings: { Sizes: { prod: { Memory: 512, Name: 'big' }, dev: { Memory: 128 } } },
    ref: (id) => refs[id],
    getAtt: (id, attribute) => atts[`${id}.${attribute}`],
  };
}

/** Resolves with `where` as the stack service passes it. */
const r = (value: Json) => resolve(value, context(), 'Resource X');

describe('resolve', () => {
  it('Ref: parameters, pseudo parameters and resources', () => {
    assert.equal(r({ Ref: 'Stage' }), 'prod');
    assert.equal(r({ Ref: 'AWS::Region' }), 'us-east-1');
    assert.equal(r({ Ref: 'Fn' }), 'my-fn');
    assert.deepEqual(r({ Ref: 'List' }), ['a', 'b', 'c']);
  });

  it('Fn::GetAtt: the list form, the dotted form and attributes with dots', () => {
    assert.equal(r({ 'Fn::GetAtt': ['Fn', 'Arn'] }), 'arn:aws:lambda:us-east-1:000000000000:function:my-fn');
    assert.equal(r({ 'Fn::GetAtt': 'Api.RootResourceId' }), 'root1');
    assert.equal(r({ 'Fn::GetAtt': ['Api', 'Deep.Attr'] }), 'deep');
    assert.equal(r(propsOf(parseTemplate('Resources: {R: {Properties: {V: !GetAtt Api.Deep.Attr}}}'), 'R').V!), 'deep');
  });

  it('Fn::Sub: parameters, resources, attributes, literals and local variables', () => {
    assert.equal(
      r({ 'Fn::Sub': '${Stage}/${AWS::Region}/${Fn}/${Fn.Arn}' }),
      'prod/us-east-1/my-fn/arn:aws:lambda:us-east-1:000000000000:function:my-fn',
    );
    assert.equal(r({ 'Fn::Sub': '${!Literal}-${Stage}-${!Fn.Arn}' }), '${Literal}-prod-${Fn.Arn}');
    assert.equal(r({ 'Fn::Sub': 'no variables' }), 'no variables');
    // Local variables are resolved themselves, and win over parameters of the same name.
    assert.equal(
      r({ 'Fn::Sub': ['${Stage}:${id}:${Count}', { Stage: 'local', id: { Ref: 'Api' }, Count: { 'Fn::Select': [2, { Ref: 'List' }] } }] }),
      'local:abc123:c',
    );
  });

  it('Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Base64', () => {
    assert.equal(r({ 'Fn::Join': ['-', ['a', { Ref: 'Stage' }, 7]] }), 'a-prod-7');
    assert.equal(r({ 'Fn::Join': ['', []] }), '');
    assert.equal(r({ 'Fn::Select': [1, { Ref: 'List' }] }), 'b');
    assert.equal(r({ 'Fn::Select': ['0', ['x', 'y']] }), 'x');
    assert.deepEqual(r({ 'Fn::Split': [',', 'a,,b'] }), ['a', '', 'b']);
    assert.equal(r({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::Sub': '${Stage}/x/y' }] }] }), 'y');
    assert.equal(r({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] }), 512);
    assert.equal(r({ 'Fn::FindInMap': ['Sizes', 'prod', 'Name'] }), 'big');
    assert.equal(r({ 'Fn::Base64': { 'Fn::Sub': 'echo ${Stage}' } }), Buffer.from('echo prod').toString('base64'));
  });

  it('Fn::If picks a branch by the condition, and resolves only that branch', () => {
    assert.equal(r({ 'Fn::If': ['IsProd', { Ref: 'Stage' }, { Ref: 'Missing' }] }), 'prod');
    assert.equal(r({ 'Fn::If': ['IsDev', { Ref: 'Missing' }, 'fallback'] }), 'fallback');
    assert.equal(r({ 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] }), true);
  });

  it('AWS::NoValue drops the property, or the list element, that holds it', () => {
    assert.deepEqual(r({ Keep: 1, Drop: { Ref: 'AWS::NoValue' }, Maybe: { 'Fn::If': ['IsDev', 'x', { Ref: 'AWS::NoValue' }] } }), {
      Keep: 1,
    });
    assert.deepEqual(r({ List: [1, { 'Fn::If': ['IsDev', 2, { Ref: 'AWS::NoValue' }] }, 3, { Ref: 'AWS::NoValue' }] }), { List: [1, 3] });
    assert.deepEqual(r({ Nested: { Inner: { Ref: 'AWS::NoValue' } } }), { Nested: {} });
    assert.equal(r({ Ref: 'AWS::NoValue' }), null);
  });

  it('errors name the resource and the property path, and the cause', () => {
    const cases: [Json, string][] = [
      [
        { Environment: { Variables: { X: { Ref: 'Nope' } } } },
        'Resource X.Environment.Variables.X: Ref names Nope, which is not a parameter or resource of the template.',
      ],
      [
        { Dimensions: [{ Value: 'ok' }, { Value: { 'Fn::GetAtt': ['Nope', 'Arn'] } }] },
        'Resource X.Dimensions[1].Value: Fn::GetAtt names Nope, which is not a resource of the template.',
      ],
      [{ V: { 'Fn::GetAtt': ['Fn', 'Bogus'] } }, 'Resource X.V: Fn::GetAtt: Fn has no attribute Bogus.'],
      [{ V: { 'Fn::Select': [3, { Ref: 'List' }] } }, 'Resource X.V: Fn::Select: index 3 is outside the list of 3.'],
      [{ V: { 'Fn::Select': [-1, ['a']] } }, 'Resource X.V: Fn::Select: index -1 is outside the list of 1.'],
      [{ V: { 'Fn::Sub': '${Nope}' } }, 'Resource X.V: Fn::Sub: ${Nope} is not a parameter or resource of the template.'],
      [{ V: { 'Fn::Sub': '${Fn.Bogus}' } }, 'Resource X.V: Fn::Sub: ${Fn.Bogus} names no resource attribute of the template.'],
      [{ V: { 'Fn::Sub': '${List}' } }, 'Resource X.V: Fn::Sub: ${List} is not a string.'],
      [{ V: { 'Fn::If': ['Unknown', 1, 2] } }, 'Resource X.V: Fn::If names the condition Unknown, which the template does not define.'],
      [{ V: { 'Fn::FindInMap': ['Sizes', 'test', 'Memory'] } }, 'Resource X.V: Fn::FindInMap: Mappings has no Sizes.test.Memory.'],
      [{ V: { 'Fn::Join': [',', 'not-a-list'] } }, 'Resource X.V: Fn::Join takes a delimiter and a list of values.'],
      [{ V: { 'Fn::ImportValue': 'Shared' } }, 'Resource X.V: No export named Shared found.'],
      [{ V: { Ref: ['not', 'a', 'name'] } }, 'Resource X.V: Ref takes the name of a parameter or resource.'],
    ];
    for (const [value, message] of cases) {
      const problems = templateProblems(() => r(value));
      assert.deepEqual(problems, [message]);
    }
  });
});

describe('evaluateConditions', () => {
  it('a condition may name conditions declared after it; one that names itself, through others or not, is refused', () => {
    const conditions = {
      IsProdAndEast: { 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'IsEast' }] },
      IsProd: { 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] },
      IsEast: { 'Fn::Equals': ['us-east-1', 'us-east-1'] },
      NotProto: { 'Fn::Not': [{ Condition: 'constructor' }] },
    };
    const parameters = { Stage: 'prod' };
    assert.deepEqual(
      templateProblems(() => evaluateConditions(conditions, parameters, {})),
      ['Condition NotProto: Condition names "constructor", which is not defined.'],
    );
    const { NotProto: _, ...valid } = conditions;
    assert.deepEqual(evaluateConditions(valid, parameters, {}), { IsProdAndEast: true, IsProd: true, IsEast: true });
    const loop = { A: { 'Fn::Not': [{ Condition: 'B' }] }, B: { 'Fn::Not': [{ Condition: 'A' }] } };
    assert.deepEqual(
      templateProblems(() => evaluateConditions(loop, parameters, {})),
      ['Condition A refers to itself.'],
    );
  });
});

describe('evaluateCondition', () => {
  const ev = (expr: Json) => evaluateCondition(expr, context(), 'Condition C');

  it('Fn::Equals, Fn::And, Fn::Or, Fn::Not and Condition', () => {
    assert.equal(ev({ 'Fn::Equals': [{ Ref: 'Stage' }, 'prod'] }), true);
    assert.equal(ev({ 'Fn::Equals': [{ Ref: 'Stage' }, 'dev'] }), false);
    // Parameters are text: a Number parameter equals the number written in the template.
    assert.equal(ev({ 'Fn::Equals': [{ Ref: 'Count' }, 3] }), true);
    assert.equal(ev({ 'Fn::Equals': [{ Ref: 'List' }, ['a', 'b', 'c']] }), true);
    assert.equal(ev({ 'Fn::And': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['a', 'a'] }] }), true);
    assert.equal(ev({ 'Fn::And': [{ Condition: 'IsProd' }, { Condition: 'IsDev' }] }), false);
    assert.equal(ev({ 'Fn::Or': [{ Condition: 'IsDev' }, { 'Fn::Equals': ['a', 'b'] }] }), false);
    assert.equal(ev({ 'Fn::Or': [{ Condition: 'IsDev' }, { Condition: 'IsProd' }] }), true);
    assert.equal(ev({ 'Fn::Not': [{ Condition: 'IsDev' }] }), true);
    assert.equal(ev({ 'Fn::Not': [{ 'Fn::Or': [{ Condition: 'IsDev' }, { Condition: 'IsProd' }] }] }), false);
    assert.equal(ev({ Condition: 'IsDev' }), false);
    assert.equal(ev(true), true);
    assert.equal(ev('false'), false);
  });

  it('refuses what is not a condition', () => {
    const cases: [Json, string][] = [
      [{ Condition: 'Nope' }, 'Condition C: Condition names "Nope", which is not defined.'],
      [{ 'Fn::Not': [true, false] }, 'Condition C: Fn::Not takes a list of 1.'],
      [{ 'Fn::Equals': ['a'] }, 'Condition C: Fn::Equals takes a list of 2.'],
      [{ 'Fn::Join': ['', []] }, 'Condition C: Fn::Join cannot be used in a condition.'],
      ['maybe', 'Condition C: a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition.'],
    ];
    for (const [expr, message] of cases)
      assert.deepEqual(
        templateProblems(() => ev(expr)),
        [message],
      );
  });
});

describe('references', () => {
  it('collects the names of Ref, Fn::GetAtt and Fn::Sub, but not literals or local variables', () => {
    const found = references({
      A: { Ref: 'Param' },
      B: [{ 'Fn::GetAtt': ['Res1', 'Arn'] }, { 'Fn::GetAtt': 'Res2.Deep.Attr' }],
      C: { 'Fn::Sub': '${Res3}/${Res4.Arn}/${!Literal}/${AWS::Region}' },
      D: { 'Fn::Sub': ['${local}/${Res5}', { local: { Ref: 'Res6' } }] },
      E: { 'Fn::If': ['Cond', { Ref: 'Res7' }, 'x'] },
    });
    assert.deepEqual([...found].sort(), ['AWS::Region', 'Param', 'Res1', 'Res2', 'Res3', 'Res4', 'Res5', 'Res6', 'Res7']);
  });
});

describe('parameterValues', () => {
  const template = (parameters: JsonObject): JsonObject => ({ Parameters: parameters, Resources: {} });
  const validation = (fn: () => unknown, message: RegExp) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof PlatformError, 'a PlatformError');
      assert.equal(err.code, 'ValidationError');
      assert.match(err.message, message);
      return true;
    });

  it('takes defaults, and overrides over them', () => {
    const t = template({ Stage: { Type: 'String', Default: 'dev' }, Size: { Type: 'Number', Default: 5 }, Free: { Type: 'String' } });
    assert.deepEqual(parameterValues(t, { Free: 'x' }), { Stage: 'dev', Size: '5', Free: 'x' });
    assert.deepEqual(parameterValues(t, { Free: 'x', Stage: 'prod', Size: '42' }), { Stage: 'prod', Size: '42', Free: 'x' });
    assert.deepEqual(parameterValues({ Resources: {} }, {}), {});
  });

  it('refuses overrides of parameters the template does not declare, and parameters without a value', () => {
    const t = template({ A: { Type: 'String' }, B: { Type: 'String' }, C: { Type: 'String', Default: 'c' } });
    validation(() => parameterValues(t, { A: 'a', B: 'b', Nope: 'x' }), /Parameters: \[Nope\] do not exist in the template/);
    validation(() => parameterValues(t, {}), /Parameters: \[A, B\] must have values/);
  });

  it('checks AllowedValues, AllowedPattern and Number', () => {
    const t = template({
      Stage: { Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod'] },
      Port: { Type: 'Number', Default: '80', AllowedValues: [80, 443] },
      Name: { Type: 'String', Default: 'ok', AllowedPattern: '[a-z]+' },
      Count: { Type: 'Number', Default: '1' },
    });
    assert.deepEqual(parameterValues(t, { Stage: 'prod', Port: '443' }), { Stage: 'prod', Port: '443', Name: 'ok', Count: '1' });
    validation(() => parameterValues(t, { Stage: 'test' }), /Parameter 'Stage' must be one of AllowedValues/);
    validation(() => parameterValues(t, { Port: '8080' }), /Parameter 'Port' must be one of AllowedValues/);
    validation(() => parameterValues(t, { Name: 'Not-Lower' }), /Parameter 'Name' must match pattern \[a-z\]\+/);
    validation(() => parameterValues(t, { Count: 'three' }), /Parameter 'Count' must be a number/);
    validation(() => parameterValues(t, { Count: ' ' }), /Parameter 'Count' must be a number/);
  });

  it('splits a CommaDelimitedList into a list, and refuses types it does not support', () => {
    const t = template({ Subnets: { Type: 'CommaDelimitedList', Default: 'a, b,c' }, Ports: { Type: 'List<Number>', Default: '1,2' } });
    assert.deepEqual(parameterValues(t, {}), { Subnets: ['a', 'b', 'c'], Ports: ['1', '2'] });
    assert.deepEqual(parameterValues(t, { Subnets: 'x' }).Subnets, ['x']);
    validation(() => parameterValues(t, { Ports: '1,x' }), /Parameter 'Ports' must be a number/);
    validation(
      () => parameterValues(template({ Vpc: { Type: 'AWS::EC2::VPC::Id', Default: 'vpc-1' } }), {}),
      /Parameter Vpc: type AWS::EC2::VPC::Id is not supported by Versa/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// The SAM transform

const ARTIFACTS: Artifacts = { 'src/': { codeSha256: 'sha-one' }, 'other/': { codeSha256: 'sha-other' } };

function samTemplate(resources: JsonObject, extra: JsonObject = {}): JsonObject {
  return { AWSTemplateFormatVersion: '2010-09-09', Transform: 'AWS::Serverless-2016-10-31', ...extra, Resources: resources };
}

/** A template with one function, Fn, published to the alias `live`, with `props` added to it. */
function fnTemplate(props: JsonObject = {}, extra: JsonObject = {}): JsonObject {
  return samTemplate(
    {
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: { CodeUri: 'src/', Handler: 'app.handler', Runtime: 'nodejs20.x', AutoPublishAlias: 'live', ...props },
      },
    },
    extra,
  );
}

const sam = (template: JsonObject, artifacts = ARTIFACTS, parameters: Record<string, Json> = {}): Transformed =>
  transform(template, artifacts, parameters);

/** The logical id of the one version of `fn` the transform made. */
function versionId(out: Transformed, fn = 'Fn'): string {
  const ids = Object.keys(out.resources).filter((id) => new RegExp(`^${fn}Version[0-9a-f]{10}$`).test(id));
  assert.equal(ids.length, 1, `one version of ${fn} in ${Object.keys(out.resources).join(', ')}`);
  return ids[0]!;
}

describe('SAM transform: functions and versions', () => {
  it("reads a CodeUri in S3 (s3://bucket/key or {Bucket, Key, Version}) from Versa's S3", () => {
    const uri = sam(fnTemplate({ CodeUri: 's3://artifacts/app/9f2c.zip' }));
    assert.deepEqual(uri.resources.Fn!.Properties!.Code, { S3Bucket: 'artifacts', S3Key: 'app/9f2c.zip' });
    const object = sam(fnTemplate({ CodeUri: { Bucket: 'artifacts', Key: 'app.zip', Version: 'v1' } }));
    assert.deepEqual(object.resources.Fn!.Properties!.Code, { S3Bucket: 'artifacts', S3Key: 'app.zip', S3ObjectVersion: 'v1' });
  });

  it('makes the function, its role, a version (kept on delete) and the alias on it', () => {
    const out = sam(fnTemplate({ Timeout: 5, Description: 'd' }));
    const version = versionId(out);
    assert.deepEqual(Object.keys(out.resources).sort(), ['Fn', 'FnAliaslive', 'FnRole', version].sort());
    assert.equal(out.resources.Fn!.Type, 'AWS::Lambda::Function');
    assert.deepEqual(out.resources.Fn!.Properties, {
      Description: 'd',
      Handler: 'app.handler',
      Runtime: 'nodejs20.x',
      Timeout: 5,
      Code: { ZipFileSha256: 'sha-one' },
      Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] },
    });
    assert.equal(out.resources.FnRole!.Type, 'AWS::IAM::Role');
    assert.deepEqual(out.resources[version], {
      Type: 'AWS::Lambda::Version',
      DeletionPolicy: 'Retain',
      Properties: { FunctionName: { Ref: 'Fn' } },
    });
    assert.deepEqual(out.resources.FnAliaslive, {
      Type: 'AWS::Lambda::Alias',
      Properties: { Name: 'live', FunctionName: { Ref: 'Fn' }, FunctionVersion: { 'Fn::GetAtt': [version, 'Version'] } },
    });
  });

  it("changes the version's logical id with the code, Environment and MemorySize, not with Timeout (SAM's rule)", () => {
    const base = versionId(sam(fnTemplate({ Timeout: 3, MemorySize: 128, Environment: { Variables: { A: '1' } } })));
    const id = (props: JsonObject, artifacts = ARTIFACTS) =>
      versionId(sam(fnTemplate({ Timeout: 3, MemorySize: 128, Environment: { Variables: { A: '1' } }, ...props }), artifacts));
    assert.equal(id({}), base, 'the same template makes the same id');
    assert.notEqual(id({}, { 'src/': { codeSha256: 'sha-two' } }), base, 'new code');
    assert.notEqual(id({ Environment: { Variables: { A: '2' } } }), base, 'new Environment');
    assert.notEqual(id({ MemorySize: 256 }), base, 'new MemorySize');
    assert.equal(id({ Timeout: 30 }), base, 'a new Timeout alone publishes no version');
    assert.equal(id({ Description: 'new' }), base, 'a new Description alone publishes no version');
    // A parameter the Environment refers to is substituted: a new value is a new version.
    const withParam = (value: string) =>
      versionId(sam(fnTemplate({ Environment: { Variables: { S: { Ref: 'Stage' } } } }), ARTIFACTS, { Stage: value }));
    assert.equal(withParam('a'), withParam('a'));
    assert.notEqual(withParam('a'), withParam('b'));
  });

  it('AutoPublishAliasAllProperties makes any property change a new version; AutoPublishCodeSha256 names it', () => {
    const all = (props: JsonObject) => versionId(sam(fnTemplate({ AutoPublishAliasAllProperties: true, Timeout: 3, ...props })));
    assert.notEqual(all({ Timeout: 30 }), all({}));
    assert.equal(versionId(sam(fnTemplate({ AutoPublishCodeSha256: 'abcdef0123456789' }))), 'FnVersionabcdef0123');
  });

  it('mangles alias names into the logical id as SAM does, and refuses invalid ones', () => {
    const out = sam(fnTemplate({ AutoPublishAlias: 'my_live-1' }));
    assert.ok(out.resources.FnAliasmyUliveD1, Object.keys(out.resources).join(', '));
    assert.equal(out.resources.FnAliasmyUliveD1.Properties!.Name, 'my_live-1');
    templateProblems(() => sam(fnTemplate({ AutoPublishAlias: '123' })), /^Resource Fn: property AutoPublishAlias must match/);
    templateProblems(() => sam(fnTemplate({ AutoPublishAlias: 'a.b' })), /^Resource Fn: property AutoPublishAlias must match/);
  });

  it('resolves AutoPublishAlias given as a Ref to a parameter', () => {
    const out = sam(fnTemplate({ AutoPublishAlias: { Ref: 'AliasName' } }), ARTIFACTS, { AliasName: 'blue' });
    assert.equal(out.resources.FnAliasblue?.Properties?.Name, 'blue');
  });

  it('without AutoPublishAlias makes no version and no alias', () => {
    const plain = sam(
      samTemplate({ Fn: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'src/', Handler: 'h', Runtime: 'nodejs20.x' } } }),
    );
    assert.deepEqual(Object.keys(plain.resources).sort(), ['Fn', 'FnRole']);
  });

  it('keeps a given Role, and carries Condition and DependsOn to what it makes from the function', () => {
    const t = fnTemplate({
      Role: 'arn:aws:iam::000000000000:role/mine',
      Events: { Get: { Type: 'Api', Properties: { Path: '/', Method: 'get' } } },
    });
    const fn = (t.Resources as JsonObject).Fn as JsonObject;
    fn.Condition = 'IsProd';
    fn.DependsOn = 'Other';
    const out = sam(t);
    assert.equal(out.resources.FnRole, undefined, 'no role is made when the function names one');
    assert.equal(out.resources.Fn!.Properties!.Role, 'arn:aws:iam::000000000000:role/mine');
    assert.equal(out.resources.Fn!.DependsOn, 'Other');
    for (const id of ['Fn', versionId(out), 'FnAliaslive', 'FnGetPermissionProd']) {
      assert.equal(out.resources[id]!.Condition, 'IsProd', id);
    }
  });

  it('merges Globals: the resource wins, Environment.Variables maps merge', () => {
    const out = sam(
      fnTemplate(
        { MemorySize: 256, Environment: { Variables: { B: 'resource', C: 'resource' } } },
        {
          Globals: {
            Function: { Timeout: 3, MemorySize: 128, Runtime: 'python3.12', Environment: { Variables: { A: 'global', B: 'global' } } },
          },
        },
      ),
    );
    const props = out.resources.Fn!.Properties!;
    assert.equal(props.Timeout, 3);
    assert.equal(props.MemorySize, 256);
    assert.equal(props.Runtime, 'nodejs20.x');
    assert.deepEqual(props.Environment, { Variables: { A: 'global', B: 'resource', C: 'resource' } });
    // An intrinsic is a value, not a map to merge into.
    const iff: JsonObject = { 'Fn::If': ['C', { X: '1' }, { Y: '2' }] };
    const replaced = sam(
      fnTemplate({ Environment: { Variables: iff } }, { Globals: { Function: { Environment: { Variables: { A: 'g' } } } } }),
    );
    assert.deepEqual(replaced.resources.Fn!.Properties!.Environment, { Variables: iff });
  });

  it('rewrites Fn.Version and Fn.Alias references to the generated logical ids', () => {
    const t = parseTemplate(
      [
        'Resources:',
        '  Fn:',
        '    Type: AWS::Serverless::Function',
        '    Properties: {CodeUri: src/, Handler: h, Runtime: nodejs20.x, AutoPublishAlias: live}',
        '  Hook:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      CodeUri: other/',
        '      Handler: h',
        '      Runtime: nodejs20.x',
        '      Environment:',
        '        Variables:',
        '          V: !Ref Fn.Version',
        '          A: !Ref Fn.Alias',
        '          N: !GetAtt Fn.Version.Version',
        "          S: !Sub '${Fn.Alias}|${Fn.Version}|${Fn.Version.Version}|${Fn}|${!Fn.Alias}'",
        '  Alarm:',
        '    Type: AWS::CloudWatch::Alarm',
        '    Properties:',
        '      Dimensions:',
        '        - {Name: Resource, Value: !Ref Fn.Alias}',
        'Outputs:',
        '  Alias:',
        '    Value: !Ref Fn.Alias',
        '  Version:',
        '    Value: !GetAtt Fn.Version.Version',
        '    Description: !Sub "version of ${Fn.Alias}"',
      ].join('\n'),
    );
    const out = sam(t);
    const v = versionId(out);
    assert.deepEqual(out.resources.Hook!.Properties!.Environment, {
      Variables: {
        V: { Ref: v },
        A: { Ref: 'FnAliaslive' },
        N: { 'Fn::GetAtt': [v, 'Version'] },
        S: { 'Fn::Sub': `\${FnAliaslive}|\${${v}}|\${${v}.Version}|\${Fn}|\${!Fn.Alias}` },
      },
    });
    assert.deepEqual(out.resources.Alarm!.Properties!.Dimensions, [{ Name: 'Resource', Value: { Ref: 'FnAliaslive' } }]);
    assert.deepEqual(out.outputs, {
      Alias: { Value: { Ref: 'FnAliaslive' } },
      Version: { Value: { 'Fn::GetAtt': [v, 'Version'] }, Description: { 'Fn::Sub': 'version of ${FnAliaslive}' } },
    });
  });
});

describe('SAM transform: DeploymentPreference', () => {
  const preference = (p: JsonObject, props: JsonObject = {}) => fnTemplate({ DeploymentPreference: p, ...props });

  it('makes the application, the service role, the deployment group and the alias update policy', () => {
    const out = sam(
      preference({
        Type: 'Canary10Percent5Minutes',
        Alarms: [{ Ref: 'ErrorsAlarm' }],
        Hooks: { PreTraffic: { Ref: 'Pre' }, PostTraffic: { Ref: 'Post' } },
      }),
    );
    assert.deepEqual(out.resources.ServerlessDeploymentApplication, {
      Type: 'AWS::CodeDeploy::Application',
      Properties: { ComputePlatform: 'Lambda' },
    });
    assert.equal(out.resources.CodeDeployServiceRole!.Type, 'AWS::IAM::Role');
    assert.deepEqual(out.resources.FnDeploymentGroup, {
      Type: 'AWS::CodeDeploy::DeploymentGroup',
      Properties: {
        ApplicationName: { Ref: 'ServerlessDeploymentApplication' },
        AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: 'ErrorsAlarm' } }] },
        AutoRollbackConfiguration: {
          Enabled: true,
          Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'],
        },
        DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
        DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
        ServiceRoleArn: { 'Fn::GetAtt': ['CodeDeployServiceRole', 'Arn'] },
      },
    });
    assert.deepEqual(out.resources.FnAliaslive!.UpdatePolicy, {
      CodeDeployLambdaAliasUpdate: {
        ApplicationName: { Ref: 'ServerlessDeploymentApplication' },
        DeploymentGroupName: { Ref: 'FnDeploymentGroup' },
        BeforeAllowTrafficHook: { Ref: 'Pre' },
        AfterAllowTrafficHook: { Ref: 'Post' },
      },
    });
  });

  it('names predefined types CodeDeployDefault.Lambda<Type>, passes custom names through, substitutes parameters', () => {
    const config = (type: Json, parameters: Record<string, Json> = {}) =>
      sam(preference({ Type: type }), ARTIFACTS, parameters).resources.FnDeploymentGroup!.Properties!.DeploymentConfigName;
    assert.equal(config('AllAtOnce'), 'CodeDeployDefault.LambdaAllAtOnce');
    assert.equal(config('Linear10PercentEvery1Minute'), 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute');
    assert.equal(config('Canary10Percent30Minutes'), 'CodeDeployDefault.LambdaCanary10Percent30Minutes');
    assert.equal(config('MyTeamCanary'), 'MyTeamCanary');
    assert.equal(
      config({ Ref: 'DeploymentType' }, { DeploymentType: 'Linear10PercentEvery3Minutes' }),
      'CodeDeployDefault.LambdaLinear10PercentEvery3Minutes',
    );
  });

  it('without alarms has no AlarmConfiguration; with a Role makes no service role', () => {
    const out = sam(preference({ Type: 'AllAtOnce', Role: 'arn:aws:iam::000000000000:role/cd' }));
    const props = out.resources.FnDeploymentGroup!.Properties!;
    assert.equal(props.AlarmConfiguration, undefined);
    assert.equal(props.ServiceRoleArn, 'arn:aws:iam::000000000000:role/cd');
    assert.equal(out.resources.CodeDeployServiceRole, undefined);
    assert.deepEqual(Object.keys(out.resources.FnAliaslive!.UpdatePolicy!.CodeDeployLambdaAliasUpdate as JsonObject), [
      'ApplicationName',
      'DeploymentGroupName',
    ]);
  });

  it('with Enabled false makes no deployment group and no update policy', () => {
    for (const enabled of [false, 'false']) {
      const out = sam(preference({ Type: 'Canary10Percent5Minutes', Enabled: enabled }));
      assert.equal(out.resources.FnDeploymentGroup, undefined);
      assert.equal(out.resources.ServerlessDeploymentApplication, undefined);
      assert.equal(out.resources.CodeDeployServiceRole, undefined);
      assert.equal(out.resources.FnAliaslive!.UpdatePolicy, undefined);
    }
  });

  it("refuses a preference without AutoPublishAlias or without Type, with SAM's messages", () => {
    const noAlias = samTemplate({
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: { CodeUri: 'src/', Handler: 'h', Runtime: 'nodejs20.x', DeploymentPreference: { Type: 'AllAtOnce' } },
      },
    });
    assert.deepEqual(
      templateProblems(() => sam(noAlias)),
      ["Resource Fn: DeploymentPreference: 'DeploymentPreference' requires AutoPublishAlias property to be specified."],
    );
    assert.deepEqual(
      templateProblems(() => sam(preference({ Alarms: [] }))),
      ["Resource Fn: DeploymentPreference: 'DeploymentPreference' is missing required Property 'Type'."],
    );
    templateProblems(
      () => sam(preference({ Type: 'AllAtOnce', Hooks: { DuringTraffic: 'x' }, TriggerConfigurations: [] })),
      /^Resource Fn: DeploymentPreference: hook DuringTraffic is not one of PreTraffic, PostTraffic\.$/,
      /^Resource Fn: DeploymentPreference: property TriggerConfigurations is not supported by Versa\.$/,
    );
  });
});

describe('SAM transform: Api events', () => {
  const event = (path: string, method: string, api?: string): JsonObject => ({
    Type: 'Api',
    Properties: { Path: path, Method: method, ...(api !== undefined && { RestApiId: { Ref: api } }) },
  });

  it('puts the events of every function on the implicit API, with a Prod stage and a permission each', () => {
    const t = samTemplate({
      A: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          CodeUri: 'src/',
          Handler: 'h',
          Runtime: 'nodejs20.x',
          AutoPublishAlias: 'live',
          Events: { List: event('/items', 'get'), One: event('/items/{id}/', 'ANY') },
        },
      },
      B: {
        Type: 'AWS::Serverless::Function',
        Properties: { CodeUri: 'other/', Handler: 'h', Runtime: 'nodejs20.x', Events: { Post: event('/b', 'POST') } },
      },
    });
    const out = sam(t, ARTIFACTS);
    const ids = Object.keys(out.resources);
    const deployments = ids.filter((id) => /^ServerlessRestApiDeployment[0-9a-f]{10}$/.test(id));
    assert.equal(deployments.length, 1, ids.join(', '));
    const body = out.resources.ServerlessRestApi!.Properties!.Body as JsonObject;
    const uri = (target: string) => ({
      'Fn::Sub': `arn:aws:apigateway:\${AWS::Region}:lambda:path/2015-03-31/functions/\${${target}}/invocations`,
    });
    const paths = body.paths as Record<string, Record<string, JsonObject>>;
    assert.deepEqual(Object.keys(paths).sort(), ['/b', '/items', '/items/{id}/']);
    assert.deepEqual(paths['/items']!.get!['x-amazon-apigateway-integration'], {
      httpMethod: 'POST',
      type: 'aws_proxy',
      uri: uri('AAliaslive'),
    });
    assert.deepEqual(paths['/items/{id}/']!['x-amazon-apigateway-any-method']!['x-amazon-apigateway-integration'], {
      httpMethod: 'POST',
      type: 'aws_proxy',
      uri: uri('AAliaslive'),
    });
    assert.deepEqual(paths['/b']!.post!['x-amazon-apigateway-integration'], { httpMethod: 'POST', type: 'aws_proxy', uri: uri('B.Arn') });
    assert.deepEqual(out.resources.ServerlessRestApiProdStage!.Properties, {
      DeploymentId: { Ref: deployments[0]! },
      RestApiId: { Ref: 'ServerlessRestApi' },
      StageName: 'Prod',
    });
    const sourceArn = (id: string) => ((out.resources[id]!.Properties!.SourceArn as JsonObject)['Fn::Sub'] as Json[])[0];
    assert.equal(
      sourceArn('AListPermissionProd'),
      'arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/GET/items',
    );
    assert.equal(
      sourceArn('AOnePermissionProd'),
      'arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/*/items/*',
    );
    assert.equal(sourceArn('BPostPermissionProd'), 'arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/POST/b');
    assert.deepEqual(out.resources.AListPermissionProd!.Properties!.FunctionName, { Ref: 'AAliaslive' });
    assert.deepEqual(out.resources.BPostPermissionProd!.Properties!.FunctionName, { Ref: 'B' });
  });

  it('gives the implicit API the Globals.Api stage variables, and refuses Globals.Api.StageName as SAM does', () => {
    const withGlobals = (api: JsonObject) => sam(fnTemplate({ Events: { Get: event('/', 'get') } }, { Globals: { Api: api } }));
    assert.deepEqual(withGlobals({ Variables: { mode: 'fast' } }).resources.ServerlessRestApiProdStage!.Properties!.Variables, {
      mode: 'fast',
    });
    templateProblems(() => withGlobals({ StageName: 'dev' }), /^Globals\.Api: 'StageName' is not a supported property of 'Api'\.$/);
    templateProblems(() => withGlobals({ Cors: '*' }), /^Globals\.Api: property Cors is not supported by Versa\.$/);
  });

  it("names an explicit API's stage and permissions after its stage name, hashed when not alphanumeric", () => {
    const hash = (s: string) => createHash('sha1').update(s).digest('hex').slice(0, 10);
    const t = samTemplate({
      ProdApi: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'Prod', Variables: { a: 'b' } } },
      BetaApi: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'v1-beta' } },
      Fn: {
        Type: 'AWS::Serverless::Function',
        Properties: {
          CodeUri: 'src/',
          Handler: 'h',
          Runtime: 'nodejs20.x',
          Events: { Read: event('/r', 'get', 'ProdApi'), Write: event('/w', 'put', 'BetaApi') },
        },
      },
    });
    const out = sam(t);
    assert.equal(out.resources.ServerlessRestApi, undefined, 'no implicit API when every event names one');
    assert.deepEqual(out.resources.ProdApiProdStage!.Properties!.Variables, { a: 'b' });
    assert.equal(out.resources.ProdApiProdStage!.Properties!.StageName, 'Prod');
    assert.equal(out.resources[`BetaApiStage${hash('v1-beta')}`]?.Properties?.StageName, 'v1-beta', Object.keys(out.resources).join(', '));
    assert.ok(out.resources.FnReadPermissionProd);
    assert.ok(out.resources[`FnWritePermission${hash('v1-beta')}`]);
  });

  it('refuses events naming an API the template does not declare', () => {
    const t = fnTemplate({ Events: { Get: event('/', 'get', 'Nowhere') } });
    assert.deepEqual(
      templateProblems(() => sam(t)),
      ['Resource Fn: event Get names RestApiId Nowhere, which is not an AWS::Serverless::Api of the template.'],
    );
  });
});

describe('SAM transform: what Versa does not support', () => {
  it('names every unsupported item in one TemplateError', () => {
    const t = samTemplate(
      {
        Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
        Untyped: { Properties: {} },
        Fn: {
          Type: 'AWS::Serverless::Function',
          Properties: {
            CodeUri: 'src/',
            Handler: 'h',
            Runtime: 'nodejs20.x',
            Layers: ['arn:layer'],
            Events: {
              Q: { Type: 'SQS', Properties: { Queue: 'arn' } },
              Get: { Type: 'Api', Properties: { Path: '/', Method: 'get', Auth: {} } },
            },
          },
        },
        FromS3: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 's3://bucket', Handler: 'h', Runtime: 'nodejs20.x' } },
        Unpackaged: { Type: 'AWS::Serverless::Function', Properties: { CodeUri: 'missing/', Handler: 'h', Runtime: 'nodejs20.x' } },
        Api: { Type: 'AWS::Serverless::Api', Properties: { StageName: 'Prod', Auth: {} } },
      },
      { Hooks: {} },
    );
    const expected = [
      'Template section Hooks is not supported by Versa.',
      'Resource Queue: type AWS::SQS::Queue is not supported by Versa.',
      'Template format error: [/Resources/Untyped] Every Resources object must contain a Type member.',
      'Resource Fn: property Layers of AWS::Serverless::Function is not supported by Versa.',
      'Resource Fn: event Q: event type "SQS" is not supported by Versa (only Api).',
      'Resource Fn: event Get: property Auth is not supported by Versa.',
      'Resource FromS3: property CodeUri "s3://bucket" must name an object, s3://bucket/key.',
      'Resource Unpackaged: property CodeUri: no code was packaged for missing/.',
      'Resource Api: property Auth of AWS::Serverless::Api is not supported by Versa.',
    ];
    let error: TemplateError | undefined;
    try {
      sam(t);
    } catch (err) {
      if (err instanceof TemplateError) error = err;
    }
    assert.ok(error, 'a TemplateError');
    assert.deepEqual([...error.problems].sort(), [...expected].sort());
    assert.match(error.message, new RegExp(`^${expected.length} problems:\n`));
    for (const p of expected) assert.ok(error.message.includes(`\n  - ${p}`), p);
  });

  it("refuses a DeploymentPreference.Type that is neither SAM's nor a configuration the server has or the template declares", () => {
    const fn = (type: string) => ({
      Type: 'AWS::Serverless::Function',
      Properties: { CodeUri: 'src/', Handler: 'h', Runtime: 'nodejs20.x', AutoPublishAlias: 'live', DeploymentPreference: { Type: type } },
    });
    const t = samTemplate({
      Typo: fn('Canary10Percent5Minute'),
      Unknown: fn('NoSuchConfig'),
      Known: fn('TeamCanary'),
      Declared: fn('Declared-Config'),
      Config: { Type: 'AWS::CodeDeploy::DeploymentConfig', Properties: { DeploymentConfigName: 'Declared-Config' } },
    });
    const out = expand(t, ARTIFACTS, {}, {}, new Set(['TeamCanary']));
    const types =
      'AllAtOnce, Canary10Percent5Minutes, Canary10Percent10Minutes, Canary10Percent15Minutes, Canary10Percent30Minutes, Linear10PercentEvery1Minute, Linear10PercentEvery2Minutes, Linear10PercentEvery3Minutes, Linear10PercentEvery10Minutes';
    const neither = `is neither one of SAM's types (${types}) nor a deployment configuration this server has or the template declares`;
    assert.deepEqual(out.problems.sort(), [
      `Resource Typo: DeploymentPreference: Type Canary10Percent5Minute ${neither}; did you mean Canary10Percent5Minutes?`,
      `Resource Unknown: DeploymentPreference: Type NoSuchConfig ${neither}.`,
    ]);
    assert.equal(out.resources.KnownDeploymentGroup?.Properties?.DeploymentConfigName, 'TeamCanary');
    assert.equal(out.resources.DeclaredDeploymentGroup?.Properties?.DeploymentConfigName, 'Declared-Config');
    // Without the server's configurations (the transform on its own) any name is taken as a custom one.
    assert.doesNotThrow(() => sam(samTemplate({ Unknown: fn('NoSuchConfig') })));
  });

  it('requires Handler, Runtime and CodeUri', () => {
    const t = samTemplate({ Fn: { Type: 'AWS::Serverless::Function', Properties: {} } });
    assert.deepEqual(templateProblems(() => sam(t)).sort(), [
      'Resource Fn: property CodeUri is required (a folder or .zip file next to the template).',
      'Resource Fn: property Handler is required.',
      'Resource Fn: property Runtime is required.',
    ]);
  });
});
