/**
 * The console's windows are measured on the platform clock, never the browser's: a server on a fake clock
 * two years behind the wall clock, whose metrics, logs and alarm history all sit at that fake time, and a
 * real Chromium that must find them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand, PutMetricAlarmCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { FakeClock } from '../src/core/clock.js';
import { eventually, launchBrowser, screenshot, type TestBrowser } from './browser.js';
import { createFunction, startTestServer, type TestServer } from './harness.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
/** Far from any wall clock the test runs under. */
const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

describe('the console on a fake platform clock', () => {
  let t: TestServer;
  let browser: TestBrowser;
  let cloudwatch: CloudWatchClient;
  const clock = new FakeClock(T0);
  before(async () => {
    t = await startTestServer({ clock });
    cloudwatch = new CloudWatchClient({ endpoint: t.url, region: 'us-east-1', credentials, maxAttempts: 1 });
    browser = await launchBrowser();
  });
  after(async () => {
    cloudwatch?.destroy();
    await browser?.close();
    await t?.close();
  });

  it('function page: metrics and logs from the platform clock, the line broken where no minute has data', async () => {
    await createFunction(t.lambda, 'ticker', {
      'index.mjs': 'export const handler = async (e) => { console.log("ticker says", e.n); return e.n; };',
    });
    for (const n of [1, 2]) await t.lambda.send(new InvokeCommand({ FunctionName: 'ticker', Payload: JSON.stringify({ n }) }));
    // Ten quiet minutes, then one more invocation: two stretches of data with a gap between them.
    clock.advance(10 * 60_000);
    await t.lambda.send(new InvokeCommand({ FunctionName: 'ticker', Payload: JSON.stringify({ n: 3 }) }));
    clock.advance(1000);

    const page = await browser.page();
    await page.goto(`${t.url}/_versa/#/functions/ticker`);
    const metrics = page.getByRole('region', { name: 'Metrics per version' });
    // The latest minute had one invocation: the window reached it, though it is two years before the wall clock.
    const invocations = metrics.getByRole('img', { name: /^Invocations per minute\. Latest: .*: 1$/ });
    await invocations.waitFor();
    const figure = metrics.locator('figure.chart').filter({ has: page.getByRole('img', { name: /^Invocations per minute\./ }) });
    const gaps = Number(await figure.getAttribute('data-gaps'));
    assert.ok(gaps >= 1, `the line should break at the quiet minutes, data-gaps=${gaps}`);

    // The logs start from the platform clock too, and FilterLogEvents takes the start time it is given.
    const logs = page.getByRole('region', { name: 'Logs' });
    for (const n of [1, 2, 3]) await logs.getByText(`ticker says ${n}`).waitFor();
    assert.equal(await logs.getByRole('alert').count(), 0, 'the Logs panel shows no error (SerializationException on startTime)');

    // The Logs panel spans the page's grid, as the metrics do.
    const grid = await page.locator('main .grid').boundingBox();
    const panel = await logs.boundingBox();
    assert.ok(grid && panel && panel.width > grid.width * 0.95, `Logs ${panel?.width}px wide in a ${grid?.width}px grid`);
    await screenshot(page, 'clock-function');
    await page.close();
  });

  it('alarm page: the datapoints around its change to ALARM, hours after it, on the platform clock', async () => {
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'orders-failing',
        Namespace: 'Shop',
        MetricName: 'Failures',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 2,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    await cloudwatch.send(
      new PutMetricDataCommand({ Namespace: 'Shop', MetricData: [{ MetricName: 'Failures', Value: 7, Timestamp: new Date(clock.now()) }] }),
    );
    const state = async () => (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['orders-failing'] }))).MetricAlarms?.[0];
    const fired = await eventually(
      async () => {
        clock.advance(10_000);
        return state();
      },
      (a) => a?.StateValue === 'ALARM',
      20_000,
    );
    assert.equal(fired?.StateValue, 'ALARM');
    // Six hours on, the spike is far outside any recent window.
    for (let i = 0; i < 36; i++) clock.advance(10 * 60_000);
    await eventually(state, (a) => a?.StateValue === 'OK', 10_000);

    const page = await browser.page();
    await page.goto(`${t.url}/_versa/#/alarms/orders-failing`);
    const detail = page.getByRole('region', { name: 'orders-failing' });
    await detail.getByRole('heading', { name: /When it went from INSUFFICIENT_DATA to ALARM/ }).waitFor();
    await detail.getByRole('img', { name: /around the change.*Latest: Sum\(Failures\): 7$/ }).waitFor();
    await detail.getByText('Highest Sum then: 7').waitFor();
    await screenshot(page, 'clock-alarm');
    await page.close();
  });
});
