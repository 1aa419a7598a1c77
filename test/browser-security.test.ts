/**
 * Attacks from a web page, in real Chromium: a page served by another local server (another origin)
 * tries to create and invoke a function and to move an alias on the Versa server the developer runs.
 * All of it fails and nothing changes. The console still works on its own origin, and behind a sign-in
 * when the server checks credentials.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CreateAliasCommand, GetAliasCommand, LambdaClient, ListFunctionsCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateDeploymentCommand } from '@aws-sdk/client-api-gateway';
import { apiGatewayClientFor, createApi, proxyTo, putMethod, resourceAt, stageUrl } from './apigateway-helpers.js';
import { launchBrowser, screenshot, type TestBrowser } from './browser.js';
import { presignedGet } from './s3-helpers.js';
import { createFunction, startTestServer, zipOf, type TestServer } from './harness.js';

const OPS = { accessKeyId: 'AKIDCONSOLE', secretAccessKey: 'console-secret' };

/** The CreateFunction body a hostile page sends: a whole, valid request for a function named `planted`. */
const PLANTED = JSON.stringify({
  FunctionName: 'planted',
  Runtime: 'nodejs20.x',
  Role: 'arn:aws:iam::000000000000:role/x',
  Handler: 'index.handler',
  Code: { ZipFile: Buffer.from(zipOf({ 'index.js': 'exports.handler = async () => 1;' })).toString('base64') },
});

/** The attacker's page: every request a page can make without the developer's help. */
function attackerPage(versa: string, marker: string): string {
  return `<!doctype html><html><body>
<form id="invoke" method="POST" enctype="text/plain" action="${versa}/2015-03-31/functions/victim/invocations" target="sink">
  <input name='{"marker":"${marker}","x":"' value='"}'>
</form>
<form id="query" method="POST" action="${versa}/" target="sink2">
  <input name="Action" value="PutMetricAlarm"><input name="AlarmName" value="planted">
</form>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<script>
window.results = {};
async function attempt(label, run) {
  try { const res = await run(); window.results[label] = res.type === 'opaque' ? 'opaque' : res.status; }
  catch (e) { window.results[label] = 'blocked'; }
}
(async () => {
  await attempt('create', () => fetch('${versa}/2015-03-31/functions', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(PLANTED)} }));
  await attempt('invoke', () => fetch('${versa}/2015-03-31/functions/victim/invocations', { method: 'POST', mode: 'no-cors', body: '{"marker":"${marker}"}' }));
  await attempt('alias', () => fetch('${versa}/2015-03-31/functions/victim/aliases/live', { method: 'PUT', headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}', 'x-amz-date': '20260101T000000Z' }, body: '{"FunctionVersion":"2"}' }));
  await attempt('read', () => fetch('${versa}/2015-03-31/functions/'));
  await attempt('stacks', () => fetch('${versa}/_versa/api/stacks/planted/deploy', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }));
  document.getElementById('invoke').submit();
  document.getElementById('query').submit();
  await new Promise((r) => setTimeout(r, 500));
  window.done = true;
})();
</script></body></html>`;
}

describe('browser: a page of another origin against a Versa server without credentials', () => {
  let t: TestServer;
  let browser: TestBrowser;
  let attacker: http.Server;
  before(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
    // Every run of the victim leaves START/REPORT lines and its marker in its log group: proof that it ran.
    // (A file on the host would prove nothing: in its sandbox the function cannot write one.)
    await createFunction(t.lambda, 'victim', {
      'index.js': 'exports.handler = async (e) => { console.log("ran for " + (e && e.marker)); return "ok"; };\n',
    });
    await t.lambda.send(new PublishVersionCommand({ FunctionName: 'victim' }));
    await t.lambda.send(new CreateAliasCommand({ FunctionName: 'victim', Name: 'live', FunctionVersion: '1' }));
  });
  after(async () => {
    await browser?.close();
    if (attacker) await new Promise((r) => attacker.close(r));
    await t?.close();
  });

  it('text/plain fetches, forms and a forged signature from the page all fail, and nothing changes', async () => {
    const marker = 'attack-page';
    attacker = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(attackerPage(t.url, marker));
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    const page = await browser.page();
    await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => (globalThis as unknown as { done?: boolean }).done === true);
    const results = await page.evaluate(() => (globalThis as unknown as { results: Record<string, unknown> }).results);
    // Requests the browser lets out unread (no-cors) reach the server and are refused; the rest never leave.
    assert.deepEqual(results, { create: 'opaque', invoke: 'opaque', alias: 'blocked', read: 'blocked', stacks: 'opaque' });
    await screenshot(page, 'attack-page');

    const victimLog = await t.server.services.logs.groupEvents('/aws/lambda/victim');
    assert.deepEqual(
      victimLog.map((e) => e.message),
      [],
      'the victim function ran for the page',
    );
    // A run would also have left its execution environment warm.
    assert.equal(t.server.services.environments.environments().filter((e) => e.target.functionName === 'victim').length, 0);
    const names = ((await t.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName);
    assert.deepEqual(names, ['victim']);
    assert.equal((await t.lambda.send(new GetAliasCommand({ FunctionName: 'victim', Name: 'live' }))).FunctionVersion, '1');
    const stacks = (await (await fetch(`${t.url}/_versa/api/stacks`)).json()) as { stacks: unknown[] };
    assert.deepEqual(stacks.stacks, []);
  });
});

describe("browser: a page served by Versa itself (an S3 object, or a deployed API's answer)", () => {
  let t: TestServer;
  let browser: TestBrowser;
  before(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('an S3 object, path style or on its bucket host, cannot call the control plane or the console as their own origin, and changes nothing', async () => {
    // What an uploaded page (or one a deployed API returns) would try: its own origin is the console's.
    const forged = `AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`;
    const html = `<!doctype html><html><body><script>
window.results = {};
(async () => {
  const attempt = async (label, run) => { try { const res = await run(); window.results[label] = res.status; } catch (e) { window.results[label] = 'blocked'; } };
  await attempt('create', () => fetch('/2015-03-31/functions', { method: 'POST', headers: { 'content-type': 'application/json', authorization: '${forged}', 'x-amz-date': '20260101T000000Z' }, body: \`${PLANTED}\` }));
  await attempt('stacks', () => fetch('/_versa/api/stacks'));
  try { sessionStorage.setItem('x', '1'); window.results.storage = 'open'; } catch (e) { window.results.storage = 'blocked'; }
  window.done = true;
})();
</script></body></html>`;
    const s3 = new S3Client({
      endpoint: t.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      forcePathStyle: true,
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'pages' }));
    await s3.send(new PutObjectCommand({ Bucket: 'pages', Key: 'page.html', Body: html, ContentType: 'text/html' }));
    s3.destroy();
    const port = new URL(t.url).port;
    // A link anyone could be sent: presigned, as S3 objects are shared.
    for (const url of [await presignedGet(`${t.url}/pages/page.html`), await presignedGet(`http://pages.s3.localhost:${port}/page.html`)]) {
      const page = await browser.page();
      const res = await page.goto(url);
      assert.equal(res?.status(), 200, url);
      await page.waitForFunction(() => (globalThis as unknown as { done?: boolean }).done === true);
      const results = await page.evaluate(() => (globalThis as unknown as { results: Record<string, unknown> }).results);
      // Path style: the page runs in an opaque origin (the answer's sandbox policy), so its calls are
      // foreign and refused (or not let out at all). On the bucket's host nothing but S3 answers.
      assert.notEqual(results.create, 200, `${url}: ${JSON.stringify(results)}`);
      assert.ok(results.create === 'blocked' || (typeof results.create === 'number' && results.create >= 400), url);
      assert.ok(results.stacks === 'blocked' || results.stacks === 403, `${url}: ${JSON.stringify(results)}`);
      await page.close();
    }
    const names = ((await t.lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName);
    assert.deepEqual(names, []);
  });

  it("a deployed API's page on the path-style URL (the console's host) runs in an opaque origin: it cannot call the console's APIs, read its storage or cookies, and the cookies it sets are dropped (a stage's own host keeps them)", async () => {
    const html = `<!doctype html><html><body><script>
window.results = {};
(async () => {
  const attempt = async (label, run) => { try { const res = await run(); window.results[label] = res.status; } catch (e) { window.results[label] = 'blocked'; } };
  await attempt('stacks', () => fetch('/_versa/api/stacks'));
  await attempt('deploy', () => fetch('/_versa/api/stacks/planted/deploy', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
  try { sessionStorage.getItem('x'); window.results.storage = 'open'; } catch (e) { window.results.storage = 'blocked'; }
  try { document.cookie = 'script=1; path=/'; window.results.cookie = document.cookie; } catch (e) { window.results.cookie = 'blocked'; }
  window.done = true;
})();
</script></body></html>`;
    const code = `exports.handler = async () => ({ statusCode: 200, headers: { 'content-type': 'text/html' },
      multiValueHeaders: { 'Set-Cookie': ['planted=1; Path=/_versa', 'wide=1; Path=/; Max-Age=600'] }, body: ${JSON.stringify(html)} });`;
    await createFunction(t.lambda, 'page', { 'index.js': code });
    const apigw = apiGatewayClientFor(t.url);
    const { id } = await createApi(apigw, 'pages');
    await putMethod(apigw, id, await resourceAt(apigw, id, '/page'), 'GET', proxyTo('page'));
    await apigw.send(new CreateDeploymentCommand({ restApiId: id, stageName: 'prod' }));
    apigw.destroy();
    const port = new URL(t.url).port;

    const page = await browser.page();
    const res = await page.goto(stageUrl(t.url, id, 'prod', '/page'));
    assert.equal(res?.status(), 200);
    await page.waitForFunction(() => (globalThis as unknown as { done?: boolean }).done === true);
    const results = await page.evaluate(() => (globalThis as unknown as { results: Record<string, unknown> }).results);
    assert.ok(results.stacks === 'blocked' || results.stacks === 403, JSON.stringify(results));
    assert.ok(results.deploy === 'blocked' || results.deploy === 403, JSON.stringify(results));
    assert.equal(results.storage, 'blocked');
    assert.equal(results.cookie, 'blocked');
    assert.deepEqual(await browser.context.cookies(t.url), [], 'no cookie for the console host');
    assert.deepEqual(await browser.context.cookies(`${t.url}/_versa/`), []);

    // The stage's own host is an origin of its own: its cookies are its own, and kept.
    const own = `http://${id}.execute-api.localhost:${port}`;
    assert.equal((await page.goto(`${own}/prod/page`))?.status(), 200);
    // Its script ends by setting a cookie of its own too: read the cookies once it has, not while it may.
    await page.waitForFunction(() => (globalThis as unknown as { done?: boolean }).done === true);
    const kept = (await browser.context.cookies(`${own}/`)).map((c) => [c.name, c.domain]).sort();
    assert.deepEqual(kept, [
      ['script', `${id}.execute-api.localhost`],
      ['wide', `${id}.execute-api.localhost`],
    ]);
    assert.deepEqual(await browser.context.cookies(t.url), []);
    await page.close();
  });
});

describe('browser: DNS rebinding', () => {
  let t: TestServer;
  let browser: TestBrowser;
  before(async () => {
    t = await startTestServer();
    await createFunction(t.lambda, 'rebound', { 'index.js': 'exports.handler = async () => "secret";' });
    // What a rebinding attacker achieves: their name now resolves to this machine's loopback address.
    browser = await launchBrowser(['--host-resolver-rules=MAP attacker.example 127.0.0.1']);
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('a page on a name that resolves to 127.0.0.1 is refused by Host, and can read nothing from Versa', async () => {
    const port = new URL(t.url).port;
    const page = await browser.page();
    const console = await page.goto(`http://attacker.example:${port}/_versa/`);
    assert.equal(console?.status(), 403);
    assert.match(await page.content(), /does not serve the host/);
    // Same-origin now, as far as the browser knows: still refused, with nothing of Versa's in the answer.
    const read = await page.evaluate(async () => {
      const res = await fetch('/2015-03-31/functions/');
      return { status: res.status, text: await res.text() };
    });
    assert.equal(read.status, 403);
    assert.doesNotMatch(read.text, /rebound/);
  });
});

describe('browser: the console on a server that checks credentials', () => {
  let t: TestServer;
  let browser: TestBrowser;
  before(async () => {
    t = await startTestServer({ credentials: [OPS] });
    browser = await launchBrowser();
    const lambda = new LambdaClient({ endpoint: t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    await createFunction(lambda, 'seen-after-sign-in', { 'index.js': 'exports.handler = async () => "hi";' });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('asks for an access key, refuses a wrong one, and works after signing in with the right one', async () => {
    const page = await browser.page();
    await page.goto(`${t.url}/_versa/`);
    const form = page.getByRole('form', { name: 'Sign in' });
    await form.getByLabel('Access key ID').fill(OPS.accessKeyId);
    await form.getByLabel('Secret access key').fill('wrong');
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText(/signature we calculated does not match/).waitFor();
    await screenshot(page, 'console-sign-in-refused');

    await form.getByLabel('Secret access key').fill(OPS.secretAccessKey);
    await form.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'seen-after-sign-in' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();

    // Signed calls change state too: create a function from the page.
    await page.getByRole('button', { name: 'Create function' }).click();
    const create = page.getByRole('form', { name: 'Create function' });
    await create.getByLabel('Name').fill('made-in-console');
    await create.getByLabel('Code').fill('export const handler = async () => "made";\n');
    await create.getByRole('button', { name: 'Create function' }).click();
    await page.waitForURL(/#\/functions\/made-in-console$/);
    await page.getByRole('button', { name: 'Sign out AKIDCONSOLE' }).waitFor();
    await screenshot(page, 'console-signed-in');
    const lambda = new LambdaClient({ endpoint: t.url, region: 'us-east-1', credentials: OPS, maxAttempts: 1 });
    const names = ((await lambda.send(new ListFunctionsCommand({}))).Functions ?? []).map((f) => f.FunctionName).sort();
    assert.deepEqual(names, ['made-in-console', 'seen-after-sign-in']);
  });
});
