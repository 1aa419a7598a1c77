/**
 * The console in a real browser (Debian's Chromium through playwright-core) against a real server whose
 * clock runs 60 times faster: the walks of the tutorials taken with clicks, each checked against what
 * the AWS APIs then say. Screenshots of every page land in test-results/screenshots/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  APIGatewayClient,
  CreateDeploymentCommand as CreateApiDeploymentCommand,
  CreateRestApiCommand,
  GetResourcesCommand,
  GetStageCommand,
  PutIntegrationCommand,
  PutIntegrationResponseCommand,
  PutMethodCommand,
  PutMethodResponseCommand,
} from '@aws-sdk/client-api-gateway';
import { CloudWatchClient, GetMetricStatisticsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, DescribeLogStreamsCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { CreateAliasCommand, GetAliasCommand, InvokeCommand, UpdateAliasCommand, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { strToU8, zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { eventually, launchBrowser, screenshot, type TestBrowser } from './browser.js';
import { createFunction, startTestServer, zipOf, type TestServer } from './harness.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * Nothing runs off the side of the window: the page does not scroll sideways, and every traffic share's
 * label is whole — inside its bar where it fits, else in the line under the bar (never cut off).
 */
interface FitReport {
  scrollWidth: number;
  innerWidth: number;
  clipped: string[];
  cramped: { label: string; legend: string }[];
  legends: string[];
}

async function assertFits(page: Page, where: string): Promise<void> {
  // A string, evaluated in the page: the tests are compiled without the DOM's types.
  const report = () =>
    page.evaluate<FitReport>(`(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    clipped: [...document.querySelectorAll('.weight-part:not(.cramped)')]
      .filter((p) => p.scrollWidth > p.clientWidth)
      .map((p) => p.textContent),
    cramped: [...document.querySelectorAll('.weight-part.cramped')].map((p) => ({
      label: p.textContent,
      legend: p.closest('.weight')?.querySelector('.weight-legend')?.textContent ?? '',
    })),
    legends: [...document.querySelectorAll('.weight-legend li')]
      .filter((l) => l.scrollWidth > l.clientWidth)
      .map((l) => l.textContent),
  }))()`);
  // Charts follow a narrowed window a frame or two later (a ResizeObserver): give the layout a moment to settle.
  const seen = await eventually(
    report,
    (r) =>
      r.scrollWidth <= r.innerWidth &&
      r.clipped.length === 0 &&
      r.legends.length === 0 &&
      r.cramped.every((c) => c.legend.includes(c.label)),
    5000,
  );
  assert.ok(seen.scrollWidth <= seen.innerWidth, `${where}: the page is ${seen.scrollWidth}px wide in a ${seen.innerWidth}px window`);
  assert.deepEqual(seen.clipped, [], `${where}: bar labels cut off`);
  assert.deepEqual(seen.legends, [], `${where}: labels under bars cut off`);
  for (const c of seen.cramped) assert.ok(c.legend.includes(c.label), `${where}: ${c.label} is named under its bar: ${c.legend}`);
}

describe('the console in a browser', () => {
  let t: TestServer;
  let browser: TestBrowser;
  before(async () => {
    t = await startTestServer({ timeScale: 60 });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  it('function page: create a function, publish two versions, alias them 50/50, and the invoke panel sees both', async () => {
    const page = await browser.page();
    await page.goto(`${t.url}/_versa/`);
    await page.getByRole('button', { name: 'Create function' }).click();
    const form = page.getByRole('form', { name: 'Create function' });
    await form.getByLabel('Name').fill('clicked');
    await form.getByLabel('Code').fill('export const handler = async () => "one";\n');
    await form.getByRole('button', { name: 'Create function' }).click();
    await page.waitForURL(/#\/functions\/clicked$/);
    await page.getByRole('heading', { name: 'clicked', level: 1 }).waitFor();

    const publish = page.getByRole('form', { name: 'Publish version' });
    await publish.getByLabel("New version's description").fill('the first');
    await publish.getByRole('button', { name: 'Publish version' }).click();
    await page.getByText('Published version 1').waitFor();

    await page.getByRole('button', { name: 'Edit code' }).click();
    await page.getByLabel('Contents of index.mjs').fill('export const handler = async () => "two";\n');
    await page.getByRole('button', { name: 'Save to $LATEST' }).click();
    await page.getByText('Saved. Publish a version to freeze it.').waitFor();
    await publish.getByRole('button', { name: 'Publish version' }).click();
    await page.getByText('Published version 2').waitFor();
    await page.getByRole('cell', { name: 'the first' }).waitFor();

    await page.getByRole('button', { name: 'Create alias' }).click();
    const create = page.getByRole('form', { name: 'Create alias' });
    await create.getByLabel('Alias name').fill('live');
    await create.getByLabel(/^Version/).selectOption('1');
    await create.getByRole('button', { name: 'Create alias' }).click();
    await page.getByRole('img', { name: 'alias live: v1 100%' }).waitFor();

    // The API's own validation message comes back for a weight it refuses, and nothing changes.
    await page.getByRole('button', { name: 'Edit live' }).click();
    const edit = page.getByRole('form', { name: 'Edit alias live' });
    await edit.getByLabel('Additional version').selectOption('2');
    await edit.getByLabel('Its weight (0–1)').fill('1.5');
    await edit.getByRole('button', { name: 'Save live' }).click();
    await edit.getByRole('alert').filter({ hasText: 'Member must have value less than or equal to 1.0' }).waitFor();
    assert.deepEqual((await t.lambda.send(new GetAliasCommand({ FunctionName: 'clicked', Name: 'live' }))).RoutingConfig, undefined);

    await edit.getByLabel('Its weight (0–1)').fill('0.5');
    await edit.getByRole('button', { name: 'Save live' }).click();
    await page.getByRole('img', { name: 'alias live: v1 50%, v2 50%' }).waitFor();
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'clicked', Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1');
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights, { '2': 0.5 });

    const invoke = page.getByRole('form', { name: 'Invoke' });
    await invoke.getByLabel('Qualifier').selectOption('live');
    await invoke.getByLabel('Invocations').fill('40');
    await invoke.getByRole('button', { name: 'Invoke' }).click();
    await page.getByText('40 invocations by executed version').waitFor();
    const counts = await page.locator('.split-counts').innerText();
    const served = (v: string) => Number(new RegExp(`version ${v}: (\\d+)`).exec(counts)?.[1] ?? 0);
    assert.equal(served('1') + served('2'), 40, counts);
    assert.ok(served('1') > 0 && served('2') > 0, `both versions should have run: ${counts}`);
    const executed = await page.locator('.executed-version').innerText();
    assert.ok(['1', '2'].includes(executed), executed);

    // One invocation shows the answer and the log tail.
    await invoke.getByLabel('Invocations').fill('1');
    await invoke.getByLabel('Qualifier').selectOption('1');
    await invoke.getByRole('button', { name: 'Invoke' }).click();
    await page.getByLabel('Response').filter({ hasText: '"one"' }).waitFor();
    await page.locator('.executed-version', { hasText: /^1$/ }).waitFor();
    await page.locator('pre.log').filter({ hasText: 'REPORT RequestId' }).first().waitFor();
    // A change made elsewhere (here, the SDK) shows on the open page without a reload.
    await t.lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'clicked',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
      }),
    );
    await page.getByRole('img', { name: 'alias live: v2 100%' }).waitFor();
    // The metrics charts appear once CloudWatch has the invocations.
    // At 60x the charts open on the last day of platform time (20 real minutes), in 10-minute datapoints.
    await page.getByText('Invocations per 10 minutes').waitFor();
    // The asynchronous queue's depth shows; an empty queue says so.
    await page.getByText('No Event invocations waiting.').waitFor();
    await screenshot(page, 'function');
    await page.setViewportSize({ width: 420, height: 800 });
    await screenshot(page, 'function-narrow');
    await page.close();
  });

  it("function page: the log panel clips a long line, and a line dated ahead (a function's own doing) hides nothing after it", async () => {
    await createFunction(t.lambda, 'chatty', { 'index.js': 'exports.handler = async (e) => { console.log(e.line); return "ok"; };\n' });
    const say = (line: string) => t.lambda.send(new InvokeCommand({ FunctionName: 'chatty', Payload: JSON.stringify({ line }) }));
    // It starts with a right-to-left override, which must not reorder the console's own note after it.
    await say(`\u202elong ${'x'.repeat(20_000)}`);
    const page = await browser.page();
    await page.goto(`${t.url}/_versa/#/functions/chatty`);
    const log = page.getByLabel('Log events of chatty');
    await log.locator('bdi', { hasText: /\u202elong x+$/ }).waitFor();
    await log.getByText(/^… \[\d+ more characters\]$/).waitFor();
    // The function writes a line into its own group dated an hour ahead of the platform's clock.
    const logs = new CloudWatchLogsClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const group = '/aws/lambda/chatty';
    const [stream] = (await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }))).logStreams ?? [];
    const ahead = t.server.services.clock.now() + 3_600_000;
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: stream!.logStreamName!,
        logEvents: [{ timestamp: ahead, message: 'from ahead' }],
      }),
    );
    await log.getByText('from ahead').waitFor();
    await say('said after it');
    await log.getByText('said after it').waitFor();
    // More than a read's worth (2 MB) of lines at one moment: the panel reads on past them.
    const moment = t.server.services.clock.now();
    for (let batch = 0; batch < 4; batch++) {
      const logEvents = Array.from({ length: 3 }, (_, i) => ({
        timestamp: moment,
        message: `jam ${batch * 3 + i} ${'j'.repeat(250_000)}`,
      }));
      await logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream!.logStreamName!, logEvents }));
    }
    await say('said after the jam');
    await log.getByText('said after the jam').waitFor({ timeout: 20_000 });
    logs.destroy();
    await page.close();
  });

  it('API page: deploy a canary, move its slider to 50%, and promote it', async () => {
    const apigw = new APIGatewayClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      const api = await apigw.send(new CreateRestApiCommand({ name: 'SliderApi' }));
      const apiId = api.id!;
      const root = (await apigw.send(new GetResourcesCommand({ restApiId: apiId }))).items![0]!.id!;
      await apigw.send(new PutMethodCommand({ restApiId: apiId, resourceId: root, httpMethod: 'GET', authorizationType: 'NONE' }));
      const mock = async (said: string) => {
        await apigw.send(
          new PutIntegrationCommand({
            restApiId: apiId,
            resourceId: root,
            httpMethod: 'GET',
            type: 'MOCK',
            requestTemplates: { 'application/json': '{"statusCode": 200}' },
          }),
        );
        await apigw.send(
          new PutIntegrationResponseCommand({
            restApiId: apiId,
            resourceId: root,
            httpMethod: 'GET',
            statusCode: '200',
            selectionPattern: '',
            responseTemplates: { 'application/json': `"${said}"` },
          }),
        );
      };
      await apigw.send(new PutMethodResponseCommand({ restApiId: apiId, resourceId: root, httpMethod: 'GET', statusCode: '200' }));
      await mock('base');
      const base = await apigw.send(new CreateApiDeploymentCommand({ restApiId: apiId, stageName: 'prod', description: 'base' }));
      await mock('canary');

      const page = await browser.page();
      await page.goto(`${t.url}/_versa/#/apis/${apiId}`);
      await page.getByRole('heading', { name: 'Stage prod' }).waitFor();
      const deploy = page.getByRole('form', { name: 'Deploy the API' });
      await deploy.getByLabel('Description').fill('the canary');
      await deploy.getByLabel('As a canary of the stage').check();
      await deploy.getByLabel('Canary share (%)').fill('10');
      await deploy.getByRole('button', { name: 'Deploy' }).click();
      const slider = page.getByRole('slider', { name: 'Canary share' });
      await slider.waitFor();
      // The slider shows the stage's share once the page has read the new stage back, which a loaded
      // machine may not have done by the time the slider appears.
      assert.equal(
        await eventually(
          () => slider.inputValue(),
          (v) => v === '10',
        ),
        '10',
      );
      const canaryId = (await apigw.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }))).canarySettings?.deploymentId;
      assert.ok(canaryId && canaryId !== base.id);

      await slider.fill('50');
      const half = await eventually(
        () => apigw.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' })),
        (s) => s.canarySettings?.percentTraffic === 50,
      );
      assert.equal(half.canarySettings?.percentTraffic, 50);
      await page.getByRole('img', { name: 'stage prod traffic: base 50%, canary 50%' }).waitFor();

      // Requests through the stage reach both deployments and show up in the stage's charts.
      const said = { base: 0, canary: 0 };
      for (let i = 0; i < 40; i++) {
        const text = await (await fetch(`${t.url}/restapis/${apiId}/prod/_user_request_/`)).text();
        if (text.includes('canary')) said.canary++;
        else if (text.includes('base')) said.base++;
      }
      assert.ok(said.base > 0 && said.canary > 0, JSON.stringify(said));
      // The canary's requests are counted under the stage `prod/Canary` as well, which the charts split on.
      const cloudwatch = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
      const count = async (stage: string) => {
        const now = t.server.services.clock.now();
        const out = await cloudwatch.send(
          new GetMetricStatisticsCommand({
            Namespace: 'AWS/ApiGateway',
            MetricName: 'Count',
            Dimensions: [
              { Name: 'ApiName', Value: 'SliderApi' },
              { Name: 'Stage', Value: stage },
            ],
            Period: 3600,
            Statistics: ['Sum'],
            StartTime: new Date(now - 3_600_000),
            EndTime: new Date(now + 60_000),
          }),
        );
        return (out.Datapoints ?? []).reduce((a, d) => a + (d.Sum ?? 0), 0);
      };
      assert.equal(await count('prod/Canary'), said.canary);
      assert.equal(await count('prod'), 40);
      cloudwatch.destroy();
      await page.getByText('Requests per second').waitFor();
      await screenshot(page, 'api-canary');

      await page.getByRole('button', { name: 'Promote canary' }).click();
      const promoted = await eventually(
        () => apigw.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' })),
        (s) => s.deploymentId === canaryId,
      );
      assert.equal(promoted.deploymentId, canaryId);
      assert.equal(promoted.canarySettings?.percentTraffic, 0);
      await page.getByRole('img', { name: 'stage prod traffic: base 100%' }).waitFor();
      await page.getByText(`${canaryId} · the canary`).first().waitFor();
      await page.getByRole('button', { name: 'Remove canary' }).click();
      await page.getByRole('slider', { name: 'Canary share' }).waitFor({ state: 'detached' });
      assert.equal((await apigw.send(new GetStageCommand({ restApiId: apiId, stageName: 'prod' }))).canarySettings, undefined);
      await screenshot(page, 'api-promoted');
      await page.close();
    } finally {
      apigw.destroy();
    }
  });

  it('deployment page: a canary deployment shows its progress live, and Stop and roll back puts the alias back', async () => {
    const codedeploy = new CodeDeployClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    const cloudwatch = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    try {
      await createFunction(t.lambda, 'shop', { 'index.mjs': 'export const handler = async () => "v1";' }, { Publish: true });
      await t.lambda.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'shop',
          ZipFile: zipOf({ 'index.mjs': 'export const handler = async () => "v2";' }),
          Publish: true,
        }),
      );
      await t.lambda.send(new CreateAliasCommand({ FunctionName: 'shop', Name: 'live', FunctionVersion: '1' }));
      await cloudwatch.send(
        new PutMetricAlarmCommand({
          AlarmName: 'shop-live-errors',
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [
            { Name: 'FunctionName', Value: 'shop' },
            { Name: 'Resource', Value: 'shop:live' },
          ],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        }),
      );
      await codedeploy.send(new CreateApplicationCommand({ applicationName: 'shop-app', computePlatform: 'Lambda' }));
      await codedeploy.send(
        new CreateDeploymentGroupCommand({
          applicationName: 'shop-app',
          deploymentGroupName: 'shop-live',
          serviceRoleArn: 'arn:aws:iam::000000000000:role/codedeploy-role',
          // Thirty minutes at 60x: half a minute of canary to watch and stop.
          deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent30Minutes',
          deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
          alarmConfiguration: { enabled: true, alarms: [{ name: 'shop-live-errors' }] },
          autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
        }),
      );
      const appSpec = {
        version: 0.0,
        Resources: [
          { shop: { Type: 'AWS::Lambda::Function', Properties: { Name: 'shop', Alias: 'live', CurrentVersion: '1', TargetVersion: '2' } } },
        ],
      };
      const { deploymentId } = await codedeploy.send(
        new CreateDeploymentCommand({
          applicationName: 'shop-app',
          deploymentGroupName: 'shop-live',
          description: 'shop version 2',
          revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify(appSpec) } },
        }),
      );
      assert.ok(deploymentId);

      const page = await browser.page();
      const nav = page.getByRole('navigation', { name: 'Sections' });
      await page.goto(`${t.url}/_versa/`);
      // The overview lists it among the running deployments, with its traffic.
      await page.getByRole('link', { name: deploymentId }).waitFor();
      await page.getByRole('img', { name: 'traffic: v1 90%, v2 10%' }).waitFor();
      await screenshot(page, 'overview');
      // In a narrow window the 10% share is too small for its label, which moves under the bar.
      await page.setViewportSize({ width: 420, height: 800 });
      await page.getByRole('region', { name: 'Deployments in progress' }).locator('.weight-legend', { hasText: 'v2 · 10%' }).waitFor();
      await assertFits(page, 'overview with a deployment running, at 420 px');
      await screenshot(page, 'overview-running-narrow');
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.getByRole('link', { name: deploymentId }).click();
      await page.getByText("Target version's share: 10%").waitFor();
      await page.getByRole('img', { name: /Target version's share of traffic over time/ }).waitFor();
      await page.locator('li.tl-Succeeded', { hasText: 'Start' }).waitFor();
      await page.locator('li.tl-InProgress', { hasText: 'AllowTraffic' }).waitFor();
      await page.getByRole('link', { name: 'shop-live-errors' }).waitFor();
      for (let i = 0; i < 10; i++) await t.lambda.send(new InvokeCommand({ FunctionName: 'shop', Qualifier: 'live' }));
      await screenshot(page, 'deployment-running');

      await page.getByRole('button', { name: 'Stop and roll back' }).click();
      await page.getByRole('heading', { level: 1 }).filter({ hasText: 'Stopped' }).waitFor();
      await page.getByText('Ended:').waitFor();
      // How it ended: why it stopped, then what rolled it back, each its own sentence (they ran together).
      const sentences = page.locator('.ended .sentence');
      await eventually(
        () => sentences.count(),
        (n) => n === 2,
      );
      const said = await sentences.allInnerTexts();
      assert.equal(said.length, 2, said.join(' | '));
      for (const text of said) assert.match(text, /\.$/, `a sentence of its own: ${text}`);
      assert.match(said[1]!, /rolled back/);
      const info = (await codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo!;
      assert.equal(info.status, 'Stopped');
      assert.ok(info.rollbackInfo?.rollbackDeploymentId, 'a rollback deployment is recorded');
      const live = await t.lambda.send(new GetAliasCommand({ FunctionName: 'shop', Name: 'live' }));
      assert.equal(live.FunctionVersion, '1');
      assert.deepEqual(live.RoutingConfig?.AdditionalVersionWeights ?? {}, {});
      await page.getByRole('img', { name: 'alias traffic: v1 100%' }).waitFor();
      // The history names the rollback and why the deployment ended.
      await page.getByRole('link', { name: info.rollbackInfo.rollbackDeploymentId }).waitFor();
      await screenshot(page, 'deployment-stopped');
      await page.setViewportSize({ width: 420, height: 800 });
      await assertFits(page, 'a stopped deployment at 420 px');
      await screenshot(page, 'deployment-stopped-narrow');
      await page.setViewportSize({ width: 1280, height: 800 });

      await nav.getByRole('link', { name: 'Deployments' }).click();
      await page.getByRole('heading', { name: 'All deployments' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: deploymentId }).filter({ hasText: 'Stopped' });
      await row.waitFor();
      // Each deployment names what it moves, linked to the function, in a Target column.
      await page.getByRole('columnheader', { name: 'Target' }).waitFor();
      assert.equal(await row.getByRole('link', { name: 'shop:live' }).getAttribute('href'), '#/functions/shop');
      await row.getByText('version 1 → 2').waitFor();
      // API Gateway deployments are listed too, with the stage they serve: the canary promoted earlier serves prod.
      const apiRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: 'SliderApi/prod' }) });
      await apiRow.filter({ hasText: 'Serving' }).filter({ hasText: 'the canary' }).waitFor();
      // The id is one word on one line.
      const id = row.getByRole('link', { name: deploymentId });
      const box = await id.boundingBox();
      const oneLine = await row.getByRole('link', { name: 'shop:live' }).boundingBox();
      assert.ok(box && oneLine && box.height < oneLine.height * 1.5, `the id ${deploymentId} wraps: ${box?.height}px tall`);
      await screenshot(page, 'deployments');
      await page.setViewportSize({ width: 420, height: 800 });
      await assertFits(page, 'deployments at 420 px');
      await screenshot(page, 'deployments-narrow');
      await page.setViewportSize({ width: 1280, height: 800 });

      await nav.getByRole('link', { name: 'Alarms' }).click();
      await page.getByRole('link', { name: 'shop-live-errors' }).click();
      await page.getByRole('heading', { name: 'History' }).waitFor();
      await page.getByText('Alarm "shop-live-errors" created').waitFor();
      await page.getByRole('img', { name: /Sum of Errors per 60s, with the threshold/ }).waitFor();
      await screenshot(page, 'alarms');

      await page.setViewportSize({ width: 420, height: 800 });
      await nav.getByRole('link', { name: 'Overview' }).click();
      await page.getByRole('heading', { name: 'Functions' }).waitFor();
      await page.getByRole('link', { name: 'shop' }).waitFor();
      // The Nodes card: this one node, serving the page and leading.
      const nodes = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Node' }) });
      await nodes.getByText(t.server.node).waitFor();
      await nodes.getByText('leader').waitFor();
      await nodes.getByText('serving this page').waitFor();
      await assertFits(page, 'overview at 420 px');
      await screenshot(page, 'overview-narrow');
      await page.close();
    } finally {
      codedeploy.destroy();
      cloudwatch.destroy();
    }
  });

  it('overview: a stack deployed from a SAM template shows up live with its status and its API output as a link', async () => {
    const page = await browser.page();
    await page.goto(`${t.url}/_versa/`);
    const card = page.getByRole('region', { name: 'Stacks' });
    await card.getByText('No stacks yet').waitFor();
    const template = [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Fn:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      FunctionName: stacked',
      '      CodeUri: code/',
      '      Handler: index.handler',
      '      Runtime: nodejs20.x',
      '      Events:',
      '        Get: { Type: Api, Properties: { Path: /hi, Method: get } }',
      'Outputs:',
      '  Url:',
      "    Value: !Sub 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hi'",
    ].join('\n');
    const code = Buffer.from(zipOf({ 'index.js': 'exports.handler = async () => ({ statusCode: 200, body: "hi from a stack" });' }));
    const res = await fetch(`${t.url}/_versa/api/stacks/shown/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ template, artifacts: { 'code/': code.toString('base64') } }),
    });
    assert.equal(res.status, 200, await res.text());
    // No reload: the change feed brings the stack in, and then its completion.
    await card.getByText('shown').waitFor();
    await card.getByText('CREATE_COMPLETE').waitFor();
    const link = card.getByRole('link', { name: /\/restapis\/[a-z0-9]+\/Prod\/_user_request_\/hi/ });
    const href = await link.getAttribute('href');
    assert.ok(href);
    const answer = await fetch(`${t.url}${href}`);
    assert.equal(await answer.text(), 'hi from a stack');
    await screenshot(page, 'overview-stack');
    await page.close();
  });
  it('stack page: resources, outputs and events of a stack, its canary in flight, and Roll back puts the alias back', async () => {
    const template = [
      'Transform: AWS::Serverless-2016-10-31',
      'Resources:',
      '  Paged:',
      '    Type: AWS::Serverless::Function',
      '    Properties:',
      '      FunctionName: paged',
      '      CodeUri: code/',
      '      Handler: index.handler',
      '      Runtime: nodejs20.x',
      '      AutoPublishAlias: live',
      // Thirty minutes at 60x: half a minute of canary to see on the page and roll back.
      '      DeploymentPreference: { Type: Canary10Percent30Minutes }',
      '      Events:',
      '        Get: { Type: Api, Properties: { Path: /paged, Method: get } }',
      'Outputs:',
      '  PagedUrl:',
      "    Value: !Sub 'https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/paged'",
    ].join('\n');
    // A fixed mtime: the same code makes the same zip, so only a changed message publishes a version.
    const code = (message: string) =>
      Buffer.from(
        zipSync({
          'index.js': [
            strToU8(`exports.handler = async () => ({ statusCode: 200, body: ${JSON.stringify(message)} });`),
            { mtime: new Date('1980-01-01T00:00:00Z') },
          ],
        }),
      ).toString('base64');
    const deploy = async (message: string) => {
      const res = await fetch(`${t.url}/_versa/api/stacks/paged/deploy`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ template, artifacts: { 'code/': code(message) } }),
      });
      assert.equal(res.status, 200, await res.text());
    };
    const stackOf = async () =>
      ((await (await fetch(`${t.url}/_versa/api/stacks/paged`)).json()) as { stack: { status: string; operation?: object } }).stack;

    await deploy('version one');
    const created = await eventually(stackOf, (s) => !s.operation, 30_000);
    assert.equal(created.status, 'CREATE_COMPLETE');

    const page = await browser.page();
    await page.goto(`${t.url}/_versa/`);
    await page.getByRole('region', { name: 'Stacks' }).getByRole('link', { name: 'paged', exact: true }).click();
    await page.waitForURL(/#\/stacks\/paged$/);
    await page
      .getByRole('heading', { level: 1, name: /Stack paged/ })
      .getByText('CREATE_COMPLETE')
      .waitFor();

    // Resources: the function links to its page, the API to its page.
    const resources = page.getByRole('region', { name: 'Resources' });
    const fnRow = resources.getByRole('row').filter({ hasText: 'AWS::Lambda::Function' });
    assert.equal(await fnRow.getByRole('link', { name: 'paged', exact: true }).getAttribute('href'), '#/functions/paged');
    const apiRow = resources.getByRole('row').filter({ hasText: 'AWS::ApiGateway::RestApi' });
    assert.match((await apiRow.getByRole('link').getAttribute('href')) ?? '', /^#\/apis\/[a-z0-9]+$/);
    // Outputs: the API URL as a link to the stage on Versa, which answers.
    const output = page
      .getByRole('region', { name: 'Outputs' })
      .getByRole('link', { name: /\/restapis\/[a-z0-9]+\/Prod\/_user_request_\/paged/ });
    assert.equal(await (await fetch(`${t.url}${await output.getAttribute('href')}`)).text(), 'version one');
    // Events, grouped by create or update, collapsed: the one create, summed up by how it ended.
    const events = page.getByRole('region', { name: 'Events' });
    const attempts = events.locator('details.attempt');
    const newest = attempts.first().locator('summary');
    await newest.filter({ hasText: 'Create' }).filter({ hasText: 'CREATE_COMPLETE' }).waitFor();
    assert.equal(await attempts.count(), 1);
    assert.equal(await events.getByRole('row').count(), 0, 'the events are collapsed');
    // Opened, its events run newest first: the stack's own CREATE_COMPLETE tops the list.
    await newest.click();
    const firstEvent = attempts.first().getByRole('row').nth(1);
    await firstEvent.filter({ hasText: 'AWS::CloudFormation::Stack' }).filter({ hasText: 'CREATE_COMPLETE' }).waitFor();
    await newest.click();

    // Version 2 through a canary: the page shows it in flight, live.
    await deploy('version two');
    const flight = page.getByRole('region', { name: 'In flight' });
    await flight.getByText('traffic', { exact: true }).waitFor();
    const running = await eventually(stackOf, (s) => !!s.operation);
    const deploymentId = (running.operation as { deployments: { deploymentId: string }[] }).deployments[0]?.deploymentId;
    assert.ok(deploymentId, JSON.stringify(running));
    assert.equal(await flight.getByRole('link', { name: deploymentId }).getAttribute('href'), `#/deployments/${deploymentId}`);
    await flight.getByText('paged:live · version 1 → version 2').waitFor();
    await page.getByRole('heading', { level: 1 }).getByText('UPDATE_IN_PROGRESS').waitFor();
    // The page may show the traffic phase a moment before CodeDeploy's first shift lands on the alias.
    const shifted = await eventually(
      async () =>
        (await t.lambda.send(new GetAliasCommand({ FunctionName: 'paged', Name: 'live' }))).RoutingConfig?.AdditionalVersionWeights?.['2'],
      (w) => w === 0.1,
    );
    assert.equal(shifted, 0.1);

    await screenshot(page, 'stack-running');
    await page.getByRole('button', { name: 'Roll back' }).click();
    const said = page.getByRole('status').filter({ hasText: 'Stopped' });
    await said.getByRole('link', { name: deploymentId }).waitFor();
    await page.getByRole('heading', { level: 1 }).getByText('UPDATE_ROLLBACK_COMPLETE').waitFor();
    const done = await eventually(stackOf, (s) => !s.operation);
    assert.equal(done.status, 'UPDATE_ROLLBACK_COMPLETE');
    const alias = await t.lambda.send(new GetAliasCommand({ FunctionName: 'paged', Name: 'live' }));
    assert.equal(alias.FunctionVersion, '1');
    assert.deepEqual(alias.RoutingConfig?.AdditionalVersionWeights ?? {}, {});
    // The reason names the stopped deployment; the events, updated live, gain the update, newest first,
    // summed up by the rollback it ended in and why.
    await page.locator('.stack-reason', { hasText: deploymentId }).waitFor();
    await newest.filter({ hasText: 'Update' }).filter({ hasText: 'UPDATE_ROLLBACK_COMPLETE' }).filter({ hasText: deploymentId }).waitFor();
    assert.equal(await attempts.count(), 2);
    await attempts.nth(1).locator('summary').filter({ hasText: 'CREATE_COMPLETE' }).waitFor();
    await flight.waitFor({ state: 'detached' });
    await screenshot(page, 'stack');
    await page.setViewportSize({ width: 420, height: 800 });
    await assertFits(page, 'stack at 420 px');
    await screenshot(page, 'stack-narrow');

    // Nothing is left to roll back: the API's own message comes back.
    await page.getByRole('button', { name: 'Roll back' }).click();
    await page.getByRole('alert').filter({ hasText: 'no earlier version to roll back to' }).waitFor();
    await page.close();
  });
});
