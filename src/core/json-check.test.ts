import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonProblem } from './json-check.js';
import { seededRandom } from './random.js';

const accepts = (text: string) => jsonProblem(Buffer.from(text)) === undefined;
const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('jsonProblem', () => {
  it('accepts what JSON.parse accepts, and nothing else, on hand-picked texts', () => {
    const cases = [
      '{}',
      '[]',
      ' {"a": [1, -0, 2.5e-3, 1E+2, true, false, null, "x\\u00e9\\n\\"\\\\\\/"]} ',
      '"top"',
      '0',
      'null',
      '{"a":{"b":{"c":[[[]]]}}}',
      '"é ☃ 😀"',
      '[1,]',
      '{"a":1,}',
      '{a:1}',
      "{'a':1}",
      '01',
      '1.',
      '.5',
      '-',
      '+1',
      '1e',
      'tru',
      'nul',
      'true false',
      '"\\x"',
      '"\\u12G4"',
      '"tab\there"',
      '\ufeff{}',
      '',
      '   ',
      '[1 2]',
      '{"a" 1}',
      '{"a":}',
      '[',
      ']',
      '"unterminated',
      'NaN',
      'Infinity',
      '[1]]',
      '{"a":1}}',
    ];
    for (const text of cases) assert.equal(accepts(text), parses(text), JSON.stringify(text));
  });

  it('agrees with JSON.parse on 20,000 seeded texts and their mutations', () => {
    const random = seededRandom(20261206);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random.next() * items.length)]!;
    const chars = ['a', 'é', '😀', '"', '\\', '/', '\n', '\t', '\u0001', ' ', 'u', '0', '9', 'e', '-', '+', '.', '\u007f'];
    const str = (): string => {
      let s = '';
      for (let k = Math.floor(random.next() * 6); k > 0; k--) s += pick(chars);
      return s;
    };
    const value = (depth: number): unknown => {
      const r = random.next();
      if (depth > 3 || r < 0.3) return pick([0, -1, 1.5e-7, 1e21, 123456789, true, false, null, str()]);
      if (r < 0.65) return Array.from({ length: Math.floor(random.next() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(random.next() * 4) }, () => [str(), value(depth + 1)]));
    };
    const space = () => pick(['', '', ' ', '\n', '\t', '\r\n  ']);
    const alphabet = ['{', '}', '[', ']', ',', ':', '"', '\\', '0', '-', '.', 'e', 't', 'n', ' ', 'x', '\u0000', 'é'];
    let mismatches = 0;
    for (let k = 0; k < 20_000; k++) {
      let text = JSON.stringify(value(0), null, random.next() < 0.3 ? 2 : undefined) ?? 'null';
      text = space() + text + space();
      // Half are mutated: a character removed, replaced or inserted, once or a few times.
      if (random.next() < 0.5) {
        for (let m = 1 + Math.floor(random.next() * 3); m > 0; m--) {
          const at = Math.floor(random.next() * (text.length + 1));
          const op = random.next();
          text =
            op < 0.33 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + pick(alphabet) + text.slice(op < 0.66 ? at + 1 : at);
        }
      }
      if (accepts(text) !== parses(text)) {
        mismatches++;
        assert.fail(`disagrees with JSON.parse on ${JSON.stringify(text)}`);
      }
    }
    assert.equal(mismatches, 0);
  });

  it('says where the text went wrong', () => {
    assert.equal(jsonProblem(Buffer.from('{"a":}')), "Unexpected character ('}' (code 125)) at position 5");
    assert.equal(jsonProblem(Buffer.from('[1,')), 'Unexpected end of input');
  });

  it('checks 6 MB of empty objects without building them, and any depth without recursion', () => {
    const many = Buffer.from('[' + '{},'.repeat(2_000_000) + '{}]');
    assert.equal(jsonProblem(many), undefined);
    const deep = Buffer.from('['.repeat(1_000_000) + ']'.repeat(1_000_000));
    assert.equal(jsonProblem(deep), undefined);
    assert.match(jsonProblem(Buffer.from('['.repeat(1_000_000))) ?? '', /end of input/);
  });
});
