/**
 * What a stack operation writes, step by step: the time from CreateStack to CREATE_COMPLETE of a stack
 * of N SSM parameters, each `DependsOn` every earlier one (given by TemplateURL), the time spent in the
 * stack repository's writes, and the JSON the engine hands it (a put: the whole stack; a step: its record
 * and rows). `node dist/bench/stack-steps.js [N=400] [sqlite|pg]`; pg uses a database of its own on the
 * server at VERSA_TEST_PG (docs/performance.md, "Stack writes proportional to what a step changed").
 */
import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createTestDatabase } from '../src/store/postgres/test-database.js';
import { stackRecord } from '../src/store/stack-documents.js';
import type { StackRepository } from '../src/store/store.js';
import { startTestServer } from '../test/harness.js';
import { s3ClientFor } from '../test/s3-helpers.js';

const count = Number(process.argv[2] ?? 400);
const pg = process.argv[3] === 'pg' ? await createTestDatabase() : undefined;
const t = await startTestServer({ timeScale: 120, ...(pg && { store: pg.url }) });
const cfn = new CloudFormationClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
const s3 = s3ClientFor(t.url);
try {
  const resources: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    resources[`P${i}`] = {
      Type: 'AWS::SSM::Parameter',
      DependsOn: Array.from({ length: i }, (_, j) => `P${j}`),
      Properties: { Type: 'String', Value: `v${i}` },
    };
  }
  const template = JSON.stringify({ Resources: resources });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'dense.json', Body: template }));

  const stacks: StackRepository = t.server.services.store.stacks;
  const writes = { put: { calls: 0, bytes: 0, ms: 0 }, step: { calls: 0, bytes: 0, ms: 0 } };
  const timed = async (kind: keyof typeof writes, bytes: number, work: Promise<void>) => {
    const start = performance.now();
    await work;
    Object.assign(writes[kind], {
      calls: writes[kind].calls + 1,
      bytes: writes[kind].bytes + bytes,
      ms: writes[kind].ms + performance.now() - start,
    });
  };
  const [put, step] = [stacks.put.bind(stacks), stacks.step.bind(stacks)];
  stacks.put = (stack) => timed('put', JSON.stringify(stack).length, put(stack));
  stacks.step = (stack, rows) => timed('step', stackRecord(stack).length + JSON.stringify(rows).length, step(stack, rows));

  const start = performance.now();
  await cfn.send(new CreateStackCommand({ StackName: 'dense', TemplateURL: 'http://127.0.0.1/bench/dense.json' }));
  let status: string | undefined;
  do {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await cfn.send(new DescribeStacksCommand({ StackName: 'dense' }))).Stacks?.[0]?.StackStatus;
  } while (status?.endsWith('_IN_PROGRESS'));
  const seconds = (performance.now() - start) / 1000;
  console.log(JSON.stringify({ count, store: pg ? 'pg' : 'sqlite', status, templateBytes: template.length, seconds, writes }, null, 2));
} finally {
  cfn.destroy();
  s3.destroy();
  await t.close();
  await pg?.drop();
}
