import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { escapedLength, escapeJavaScript, jsonStringLength, MAX_JSON_VALUES, renderTemplate, type TemplateContext } from './templates.js';

const ctx = (body: string): TemplateContext => ({
  body,
  params: { path: {}, querystring: {}, header: {} },
  context: {},
  stageVariables: {},
});
const MAX_RENDERED_CHARS = 10_485_760;

function refused(call: () => unknown): PlatformError {
  try {
    call();
  } catch (err) {
    assert.ok(err instanceof PlatformError, String(err));
    assert.equal(err.code, 'SerializationException');
    return err;
  }
  assert.fail('not refused');
}

describe('$util.escapeJavaScript', () => {
  it("escapes as API Gateway's does: quotes, backslash and slash, named control characters, the rest of non-printable-ASCII as \\uXXXX", () => {
    assert.equal(escapeJavaScript(`it's "a/b" \\ done`), `it\\'s \\"a\\/b\\" \\\\ done`);
    assert.equal(escapeJavaScript('a\nb\r\tc\b\f'), 'a\\nb\\r\\tc\\b\\f');
    assert.equal(escapeJavaScript('\u0000\u001b\u007f é 日'), '\\u0000\\u001B\\u007F \\u00E9 \\u65E5');
    assert.equal(escapeJavaScript('😀'), '\\uD83D\\uDE00');
    // Whatever a caller sends, what it makes inside a JSON string parses (once `\'` is turned back, as AWS's docs say to).
    const hostile = 'x"}\r\n\u0001\u2028{"y":"';
    assert.equal(JSON.parse(`"${escapeJavaScript(hostile).replace(/\\'/g, "'")}"`), hostile);
  });

  it('escapedLength: the length escapeJavaScript makes, for every UTF-16 unit', () => {
    const every = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c)).join('');
    assert.equal(escapedLength(every), escapeJavaScript(every).length);
    for (const s of ['', 'plain', `it's "a/b" \\ done`, 'a\nb\r\tc\b\f\u000b', '😀 é'])
      assert.equal(escapedLength(s), escapeJavaScript(s).length, s);
  });

  it('renderTemplate: an escaping that would pass the bound is refused before it is built, and a body that fits is escaped once', () => {
    const template = '{"body":"$util.escapeJavaScript($input.body)"}';
    // 10.4 M control characters escape to 62 M: counted in one scan, never built (it took 2.9 s and 440 MB).
    const started = performance.now();
    refused(() => renderTemplate(template, ctx('\u0001'.repeat(10_400_000))));
    const ms = performance.now() - started;
    assert.ok(ms < 1000, `refused in ${ms.toFixed(0)} ms`);
    // What the argument made is counted once: 10.4 M plain characters fit within 10,485,760.
    assert.equal(
      renderTemplate(template, ctx('a'.repeat(10_400_000))).length,
      10_400_000 + template.length - '$util.escapeJavaScript($input.body)'.length,
    );
    assert.equal(renderTemplate(template, ctx('a\u0001"')), '{"body":"a\\u0001\\""}');
    refused(() => renderTemplate(template, ctx('/'.repeat(MAX_RENDERED_CHARS / 2))));
  });
});

describe('renderTemplate: JSON bodies', () => {
  it(`a body of more than ${MAX_JSON_VALUES} JSON values is refused before it is parsed; one within is read`, () => {
    const values = (n: number) =>
      `{"items":[${Array(n - 2)
        .fill('[]')
        .join(',')}]}`;
    assert.equal(renderTemplate("$input.json('$.items[0]')", ctx(values(MAX_JSON_VALUES))), '[]');
    refused(() => renderTemplate("$input.json('$.items[0]')", ctx(values(MAX_JSON_VALUES + 1))));
    refused(() =>
      renderTemplate(
        "$input.path('$.n')",
        ctx(
          `{"n":[${Array(MAX_JSON_VALUES - 1)
            .fill(1)
            .join(',')}]}`,
        ),
      ),
    );
    assert.equal(
      renderTemplate(
        "$input.path('$.n[0]')",
        ctx(
          `{"n":[${Array(MAX_JSON_VALUES - 2)
            .fill(1)
            .join(',')}]}`,
        ),
      ),
      '1',
    );
    // Commas, brackets and braces inside strings are not values.
    assert.equal(
      renderTemplate("$input.path('$.s')", ctx(JSON.stringify({ s: ',[{'.repeat(MAX_JSON_VALUES) }))).length,
      3 * MAX_JSON_VALUES,
    );
    // The probe's body: 5,200 arrays 997 deep (5 M values) held the event loop 5 s; now refused from a scan.
    const deep = '['.repeat(997) + ']'.repeat(997);
    const started = performance.now();
    refused(() => renderTemplate("$input.json('$.items')", ctx(`{"items":[${Array(5200).fill(deep).join(',')}]}`)));
    assert.ok(performance.now() - started < 1000);
  });

  it('jsonStringLength: the length JSON.stringify makes of a text, for every UTF-16 unit, pairs and lone surrogates', () => {
    const every = Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c)).join('');
    assert.equal(jsonStringLength(every), JSON.stringify(every).length);
    for (const s of ['', 'plain', 'a"b\\c', '\u0001\u001f\n', '😀', '\ud83d', '\ude00x', '\ud83d\ud83d\ude00'])
      assert.equal(jsonStringLength(s), JSON.stringify(s).length, JSON.stringify(s));
  });

  it('$input.json of a body that is not JSON counts its escaping before it is written: 10 MB of control characters is refused', () => {
    // Written out, each becomes \u0001: 60 M characters, past the bound.
    refused(() => renderTemplate(`{"a":$input.json('$')}`, ctx('\u0001'.repeat(10_400_000))));
    assert.equal(renderTemplate("$input.json('$')", ctx('not "json"\u0001')), JSON.stringify('not "json"\u0001'));
  });

  it('a body nested deeper than 1,000 levels is read as text, as before', () => {
    const deep = '['.repeat(1001) + ']'.repeat(1001);
    assert.equal(renderTemplate("$input.json('$')", ctx(deep)), JSON.stringify(deep));
  });
});

describe('renderTemplate: the bound on what it makes', () => {
  it('counts every expression: $input.params, $context and $stageVariables as much as the body', () => {
    const q = 'x'.repeat(16_000);
    const at = (template: string) =>
      renderTemplate(template, {
        ...ctx(''),
        params: { path: {}, querystring: { q }, header: { 'X-H': q } },
        context: { stage: q },
        stageVariables: { v: q },
      });
    for (const expression of ["$input.params('q')", "$input.params('x-h')", '$context.stage', '$stageVariables.v', '${stageVariables.v}']) {
      refused(() => at(expression.repeat(1000)));
      assert.equal(at(expression.repeat(10)).length, 160_000, expression);
    }
  });
});
