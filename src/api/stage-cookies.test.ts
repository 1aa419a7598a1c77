import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ApiResponse } from './aws/protocol/http.js';
import { COOKIES_DROPPED, cookieDomains, withOwnCookies, withoutCookies } from './stage-cookies.js';

const HOST = 'abc123.execute-api.localhost';
const answer = (headers: ApiResponse['headers']): ApiResponse => ({ status: 200, headers, body: '' });

describe('stage cookies', () => {
  it('cookieDomains: attribute names without regard to case, values trimmed of spaces and tabs, lower-cased, one leading dot off', () => {
    assert.deepEqual(cookieDomains('a=1'), []);
    assert.deepEqual(cookieDomains('a=1; Path=/; HttpOnly'), []);
    assert.deepEqual(cookieDomains('a=1; domain=Localhost'), ['localhost']);
    assert.deepEqual(cookieDomains('a=1;DOMAIN = .Execute-API.localhost \t;Secure'), ['execute-api.localhost']);
    assert.deepEqual(cookieDomains('a=1; Domain=\t..localhost'), ['.localhost']);
    assert.deepEqual(cookieDomains('a=1; Domain=x.localhost; Path=/; Domain=localhost'), ['x.localhost', 'localhost'], 'every one');
    assert.deepEqual(cookieDomains('a=1; Domain=; Domain= '), [], 'an empty value is ignored (host-only)');
    assert.deepEqual(cookieDomains('Domain=localhost; Path=/'), [], "the cookie's own name and value are no attribute");
    assert.deepEqual(cookieDomains('a=1; Domainx=localhost; x-Domain=localhost; Domain'), []);
  });

  it("withOwnCookies: host-only cookies and the API's own host or below are kept; any other Domain is dropped and a header says how many", () => {
    const out = withOwnCookies(
      answer({
        'set-cookie': [
          'own=1',
          `host=1; Domain=${HOST}`,
          `dotted=1; domain=.${HOST.toUpperCase()}`,
          `below=1; Domain=x.${HOST}`,
          'wide=1; Domain=execute-api.localhost',
          'wider=1; Path=/; domain=\t.LOCALHOST ',
          `sneaky=1; Domain=${HOST}; Domain=localhost`,
          `suffix=1; Domain=x${HOST}`,
          'other=1; Domain=zzz.execute-api.localhost',
        ],
        'x-other': 'kept',
      }),
      HOST,
    );
    assert.deepEqual(out.headers['set-cookie'], [
      'own=1',
      `host=1; Domain=${HOST}`,
      `dotted=1; domain=.${HOST.toUpperCase()}`,
      `below=1; Domain=x.${HOST}`,
    ]);
    assert.match(String(out.headers[COOKIES_DROPPED]), /^5 Set-Cookie dropped: a Domain other than abc123\.execute-api\.localhost /);
    assert.equal(out.headers['x-other'], 'kept');
  });

  it('withOwnCookies: a header of any case, one line or several; nothing said when nothing is dropped', () => {
    const out = withOwnCookies(answer({ 'Set-Cookie': 'a=1; Domain=localhost', 'set-cookie': ['b=1'] }), HOST);
    assert.deepEqual(out.headers, { 'set-cookie': ['b=1'], [COOKIES_DROPPED]: out.headers[COOKIES_DROPPED]! });
    assert.match(String(out.headers[COOKIES_DROPPED]), /^1 Set-Cookie dropped/);
    const kept = withOwnCookies(answer({ 'set-cookie': 'a=1; Domain=' + HOST }), HOST);
    assert.deepEqual(kept.headers, { 'set-cookie': 'a=1; Domain=' + HOST });
  });

  it("withoutCookies: every Set-Cookie goes on the console's host, whatever its Domain", () => {
    const out = withoutCookies(answer({ 'set-cookie': ['a=1', `b=1; Domain=${HOST}`], 'Set-Cookie': 'c=1' }));
    assert.equal(out.headers['set-cookie'], undefined);
    assert.equal(out.headers['Set-Cookie'], undefined);
    assert.match(String(out.headers[COOKIES_DROPPED]), /^3 Set-Cookie dropped: a path-style stage URL is the console's host/);
  });
});
