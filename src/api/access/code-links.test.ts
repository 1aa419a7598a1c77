import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodeLinks } from './code-links.js';

const SHA = 'ab'.repeat(32);

describe('CodeLinks', () => {
  it('a link works for ten minutes, for its package only, and only under the secrets that made it', () => {
    let now = 1_800_000_000_000;
    const links = new CodeLinks(['s1', 's2'], () => now);
    const url = new URL(links.location('http://127.0.0.1:4566', SHA));
    assert.equal(url.pathname, `/_versa/code/${SHA}.zip`);
    assert.equal(links.valid(url.pathname, url.searchParams), true);
    assert.equal(links.valid(`/_versa/code/${'cd'.repeat(32)}.zip`, url.searchParams), false);
    // Another node with the same secrets, in any order, accepts it; other secrets do not.
    assert.equal(new CodeLinks(['s2', 's1'], () => now).valid(url.pathname, url.searchParams), true);
    assert.equal(new CodeLinks(['s1'], () => now).valid(url.pathname, url.searchParams), false);
    now += 600_000;
    assert.equal(links.valid(url.pathname, url.searchParams), true);
    now += 1_000;
    assert.equal(links.valid(url.pathname, url.searchParams), false);
  });

  it('without credentials the link is plain, and no query opens anything', () => {
    const links = new CodeLinks([], () => 0);
    assert.equal(links.location('http://h', SHA), `http://h/_versa/code/${SHA}.zip`);
    assert.equal(links.valid(`/_versa/code/${SHA}.zip`, new URLSearchParams('versa-expires=1&versa-signature=00')), false);
  });
});
