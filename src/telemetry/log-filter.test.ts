import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformError } from '../core/errors.js';
import { seededRandom } from '../core/random.js';
import { compileFilterPattern, TermSearch } from './log-filter.js';

const lines = ['ERROR Exception in thread', 'WARN disk almost full', 'INFO request failed for user 7', 'ERROR timeout', 'DEBUG noise'];
const matching = (pattern: string | undefined) => lines.filter(compileFilterPattern(pattern));

describe('compileFilterPattern', () => {
  it('an empty pattern matches every event', () => {
    assert.deepEqual(matching(undefined), lines);
    assert.deepEqual(matching('  '), lines);
  });

  it('every plain term must appear, case-sensitively', () => {
    assert.deepEqual(matching('ERROR'), ['ERROR Exception in thread', 'ERROR timeout']);
    assert.deepEqual(matching('ERROR timeout'), ['ERROR timeout']);
    assert.deepEqual(matching('error'), []);
  });

  it('a quoted term is an exact phrase', () => {
    assert.deepEqual(matching('"request failed"'), ['INFO request failed for user 7']);
    assert.deepEqual(matching('"failed request"'), []);
  });

  it('?terms: at least one must appear; -terms must not', () => {
    assert.deepEqual(matching('?WARN ?timeout'), ['WARN disk almost full', 'ERROR timeout']);
    assert.deepEqual(matching('ERROR -timeout'), ['ERROR Exception in thread']);
    assert.deepEqual(matching('?ERROR ?DEBUG -noise'), ['ERROR Exception in thread', 'ERROR timeout']);
  });

  it('JSON and space-delimited patterns, and an unmatched quote, are refused', () => {
    for (const p of ['{ $.level = "ERROR" }', '[ip, user]', '"open']) {
      assert.throws(
        () => compileFilterPattern(p),
        (e: unknown) => e instanceof PlatformError && e.code === 'InvalidParameterException',
      );
    }
  });

  it('many terms, found in one pass, match exactly as each looked for on its own (seeded, overlapping terms)', () => {
    const random = seededRandom(1207);
    // A small alphabet (a surrogate pair among it), so that terms overlap, nest and share suffixes.
    const units = ['a', 'b', 'c', '\u{1F600}'];
    const word = (max: number) =>
      Array.from({ length: 1 + Math.floor(random.next() * max) }, () => units[Math.floor(random.next() * units.length)]).join('');
    for (let round = 0; round < 300; round++) {
      const terms = [...new Set(Array.from({ length: 1 + Math.floor(random.next() * 12) }, () => word(4)))];
      const texts = Array.from({ length: 20 }, () => word(40));
      const search = new TermSearch(terms);
      for (const text of texts) {
        assert.deepEqual(
          [...search.find(text)],
          terms.map((t) => (text.includes(t) ? 1 : 0)),
          `${JSON.stringify(terms)} in ${JSON.stringify(text)}`,
        );
      }
      // The same through a pattern of more terms than are looked for one by one: plain, ? and - terms.
      const prefixes = terms.map(() => ['', '?', '-'][Math.floor(random.next() * 3)]!);
      const pattern = terms.map((t, i) => `${prefixes[i]}"${t}"`).join(' ');
      const expected = (text: string) =>
        terms.every((t, i) => prefixes[i] !== '' || text.includes(t)) &&
        (!prefixes.includes('?') || terms.some((t, i) => prefixes[i] === '?' && text.includes(t))) &&
        !terms.some((t, i) => prefixes[i] === '-' && text.includes(t));
      const matches = compileFilterPattern(pattern);
      for (const text of texts) assert.equal(matches(text), expected(text), `${pattern} on ${JSON.stringify(text)}`);
    }
  });

  it('a pattern of hundreds of terms costs about one pass over a 256 KB message, not one per term', () => {
    const terms: string[] = [];
    for (const x of 'bcdefghijklmnopqrstuvwxyz0123456789') for (const y of 'bcdefghijklmnopqrstuvwxyz') terms.push(`a${x}${y}`);
    const pattern = terms.slice(0, 255).join(' ');
    assert.ok(pattern.length <= 1024);
    // Every position starts a term's first unit, so a search per term would read the message 255 times.
    const message = 'a'.repeat(262_144 - 2) + 'ab';
    const one = compileFilterPattern('ab');
    const many = compileFilterPattern(pattern);
    const time = (f: () => void) => {
      const started = performance.now();
      for (let i = 0; i < 5; i++) f();
      return performance.now() - started;
    };
    time(() => many(message));
    const perTerm = time(() => one(message));
    const all = time(() => assert.equal(many(message), false));
    // One term's search times 255 would be about 255 times `perTerm`; a generous 25 leaves room for noise.
    assert.ok(all < perTerm * 25 + 50, `255 terms took ${all.toFixed(1)} ms, one ${perTerm.toFixed(1)} ms`);
  });
});
