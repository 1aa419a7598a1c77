/**
 * The console's own endpoints on a real server: the built page and its assets under /_versa/, and the
 * change feed that tells the page what to reload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpdateAliasCommand, CreateAliasCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { createFunction, startTestServer, type TestServer } from './harness.js';

interface FeedPage {
  cursor: number;
  changes: { kind: string; name?: string }[];
  reset: boolean;
  now: number;
  timeScale: number;
}

describe('console endpoints', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ timeScale: 30 });
  });
  after(() => t.close());

  it('GET /_versa/ and /_versa: the page, whose scripts and styles are served with their types', async () => {
    for (const p of ['/_versa/', '/_versa']) {
      const res = await fetch(`${t.url}${p}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      assert.match(html, /<div id="app">/);
      // Nothing on the page comes from another host.
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
      const assets = [...html.matchAll(/(?:src|href)="(\/_versa\/assets\/[^"]+)"/g)].map((m) => m[1]!);
      assert.ok(assets.some((a) => a.endsWith('.js')) && assets.some((a) => a.endsWith('.css')), `assets in ${html}`);
      for (const a of assets) {
        const asset = await fetch(`${t.url}${a}`);
        assert.equal(asset.status, 200, a);
        assert.match(asset.headers.get('content-type') ?? '', a.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
        assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      }
    }
    const icon = await fetch(`${t.url}/_versa/favicon.svg`);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.equal((await fetch(`${t.url}/_versa/assets/missing.js`)).status, 404);
    assert.equal((await fetch(`${t.url}/_versa/assets/..%2f..%2fpackage.json`)).status, 404);
  });

  it('GET /_versa/api/events: a long-poll answers with the function that changed, and the platform clock', async () => {
    const first = (await (await fetch(`${t.url}/_versa/api/events`)).json()) as FeedPage;
    assert.equal(first.timeScale, 30);
    assert.ok(Math.abs(first.now - t.server.services.clock.now()) < 60_000);
    const waiting = fetch(`${t.url}/_versa/api/events?after=${first.cursor}&wait=20`).then((r) => r.json() as Promise<FeedPage>);
    await createFunction(t.lambda, 'fed', { 'index.js': 'exports.handler = async () => 1;' });
    const page = await waiting;
    assert.equal(page.reset, false);
    assert.ok(page.cursor > first.cursor);
    assert.ok(
      page.changes.some((c) => c.kind === 'function' && c.name === 'fed'),
      JSON.stringify(page.changes),
    );

    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'fed' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'fed', Name: 'live', FunctionVersion: '1' }));
    await t.lambda.send(new UpdateAliasCommand({ FunctionName: 'fed', Name: 'live', Description: 'moved' }));
    const rest = (await (await fetch(`${t.url}/_versa/api/events?after=${page.cursor}&wait=0`)).json()) as FeedPage;
    assert.ok(rest.changes.length >= 3 && rest.changes.every((c) => c.kind === 'function' && c.name === 'fed'));
    // A cursor from before a restart (larger than the server's) asks the page to reload everything.
    const stale = (await (await fetch(`${t.url}/_versa/api/events?after=${rest.cursor + 100}&wait=0`)).json()) as FeedPage;
    assert.equal(stale.reset, true);
  });

  it('a waiting long-poll does not hold up the server closing', async () => {
    const other = await startTestServer();
    const cursor = ((await (await fetch(`${other.url}/_versa/api/events`)).json()) as FeedPage).cursor;
    const waiting = fetch(`${other.url}/_versa/api/events?after=${cursor}&wait=25`).then((r) => r.json() as Promise<FeedPage>);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await other.close();
    assert.deepEqual((await waiting).changes, []);
    assert.ok(Date.now() - started < 1500, `closing took ${Date.now() - started} ms`);
  });
});
