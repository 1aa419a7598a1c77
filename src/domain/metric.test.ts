import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../core/random.js';
import { compareSeriesIds, seriesPrefixEnd } from './metric.js';

/** Characters where UTF-16 and UTF-8 orders part, and the ends of the ranges. */
const ALPHABET = ['\u0000', '\u0001', 'a', 'b', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}', '\u{10ffff}'];

function randomId(next: () => number): string {
  let s = '';
  const length = Math.floor(next() * 6);
  for (let i = 0; i < length; i++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
  return s;
}

const byBytes = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

describe('series ids in the byte order of UTF-8', () => {
  it('compareSeriesIds orders as the ids’ UTF-8 bytes do (20,000 seeded pairs)', () => {
    const random = seededRandom(11);
    const next = () => random.next();
    for (let i = 0; i < 20_000; i++) {
      const a = randomId(next);
      const b = i % 3 === 0 ? a + randomId(next) : randomId(next);
      assert.equal(Math.sign(compareSeriesIds(a, b)), byBytes(a, b), JSON.stringify([a, b]));
    }
  });

  it('seriesPrefixEnd bounds exactly the ids that start with the prefix (20,000 seeded ids)', () => {
    const random = seededRandom(12);
    const next = () => random.next();
    for (let i = 0; i < 20_000; i++) {
      const prefix = randomId(next) || 'a';
      const id = next() < 0.5 ? prefix + randomId(next) : randomId(next);
      const end = seriesPrefixEnd(prefix);
      const within = compareSeriesIds(id, prefix) >= 0 && (end === undefined || compareSeriesIds(id, end) < 0);
      assert.equal(within, id.startsWith(prefix), JSON.stringify({ prefix, id, end }));
    }
    assert.equal(seriesPrefixEnd(''), undefined);
    assert.equal(seriesPrefixEnd('\u{10ffff}'), undefined);
    assert.equal(seriesPrefixEnd('a\u0000'), 'a\u0001');
    assert.equal(seriesPrefixEnd('a\ud7ff'), 'a\ue000');
  });
});
