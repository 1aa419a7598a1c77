import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../../../core/errors.js';
import { MAX_QUERY_LIST_INDEX, parseQueryForm, queryErrorXml, queryResponseXml } from './query.js';

const invalid = (message: string) => new PlatformError('InvalidParameterValueException', message);
const parse = (body: string) => parseQueryForm(body, invalid);

function refused(body: string, message: RegExp): void {
  assert.throws(
    () => parse(body),
    (err: unknown) => err instanceof PlatformError && err.code === 'InvalidParameterValueException' && message.test(err.message),
    body,
  );
}

function assertUnpolluted(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTOTYPE_NAMES);
  assert.equal(({} as Record<string, unknown>).NODE_OPTIONS, undefined);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf([]), Array.prototype);
}
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

describe('parseQueryForm', () => {
  it('parseQueryForm: lists, structures and leaves', () => {
    const form = parse('Action=ListMetrics&Dimensions.member.1.Name=Host&Dimensions.member.1.Value=a&Dimensions.member.2.Name=Az&X.Y=z');
    assert.equal(form.Action, 'ListMetrics');
    assert.deepEqual(JSON.parse(JSON.stringify(form.Dimensions)), [{ Name: 'Host', Value: 'a' }, { Name: 'Az' }]);
    assert.deepEqual({ ...(form.X as object) }, { Y: 'z' });
  });

  it('parseQueryForm: every structure it builds has no prototype', () => {
    const form = parse('A.B.C=x&L.member.1.K=v');
    assert.equal(Object.getPrototypeOf(form), null);
    assert.equal(Object.getPrototypeOf(form.A), null);
    assert.equal(Object.getPrototypeOf((form.A as Record<string, unknown>).B), null);
    assert.equal(Object.getPrototypeOf((form.L as unknown[])[0]), null);
    assert.equal('toString' in form, false, 'nothing is inherited, not even toString');
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`parseQueryForm: ${key} as a member name is refused and pollutes nothing`, () => {
      refused(`Action=ListMetrics&${key}.NODE_OPTIONS=x`, /not a valid parameter name/);
      refused(`Action=ListMetrics&${key}=x`, /not a valid parameter name/);
      refused(`Action=ListMetrics&A.${key}.polluted=x`, /not a valid parameter name/);
      refused(`Action=ListMetrics&A.member.1.${key}.polluted=x`, /not a valid parameter name/);
      refused(`Action=ListMetrics&${encodeURIComponent(key)}.polluted=x`, /not a valid parameter name/);
      refused(`Action=ListMetrics&A.${key}=x`, /not a valid parameter name/);
      refused(`Action=ListMetrics&A.constructor.prototype.polluted=x`, /not a valid parameter name/);
      assertUnpolluted();
    });
  }

  it('parseQueryForm: a percent-encoded __proto__ is refused too', () => {
    refused('Action=ListMetrics&%5F%5Fproto%5F%5F.polluted=x', /not a valid parameter name/);
    assertUnpolluted();
  });

  it('parseQueryForm: list indexes must be 1 to the bound, so no huge sparse array is allocated', () => {
    refused('X.member.999999999=a', /invalid list index 999999999/);
    refused(`X.member.${MAX_QUERY_LIST_INDEX + 1}=a`, /invalid list index/);
    refused('X.member.0=a', /invalid list index 0/);
    refused('X.member.-1=a', /invalid list index -1/);
    refused('X.member.1e3=a', /invalid list index 1e3/);
    refused('X.member.__proto__=a', /invalid list index __proto__/);
    refused('X.member.length=a', /invalid list index length/);
    refused('X.member=a', /invalid list index member/);
    const form = parse(`X.member.${MAX_QUERY_LIST_INDEX}=a`);
    assert.equal((form.X as unknown[]).length, MAX_QUERY_LIST_INDEX);
    assertUnpolluted();
  });

  it('parseQueryForm: parameters that contradict each other are refused', () => {
    refused('A=x&A.B=y', /contradicts/);
    refused('A.B=y&A=x', /contradicts/);
    refused('A.member.1=x&A.B=y', /contradicts/);
    refused('A.B=y&A.member.1=x', /contradicts/);
    refused('A.member.1=x&A.member.1.B=y', /contradicts/);
    refused('A..B=x', /not a valid parameter name/);
    refused('A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P.Q=x', /nested too deeply/);
  });

  it('parseQueryForm: a repeated leaf keeps its last value', () => {
    assert.equal(parse('Action=A&Action=B').Action, 'B');
  });
});

describe('queryResponseXml', () => {
  it('queryResponseXml: a character XML 1.0 cannot carry is written as U+FFFD; tab, newline and pairs of surrogates are kept', () => {
    const xml = queryResponseXml(
      'ns',
      'Op',
      { A: 'a\u0000b\u0001\u001b\u000b\u000c\u001f\ufffe\uffff', B: 'x\ud800y\udc00z', C: 't\tn\n\u{1f600}' },
      'r',
    );
    assert.ok(xml.includes('<A>a\ufffdb\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd</A>'), xml);
    assert.ok(xml.includes('<B>x\ufffdy\ufffdz</B>'), xml);
    assert.ok(xml.includes('<C>t\tn\n\u{1f600}</C>'), xml);
    assert.ok(queryErrorXml('C', 'm\u0000', 'Sender', 'r').includes('<Message>m\ufffd</Message>'));
  });
});
