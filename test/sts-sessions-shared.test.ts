/**
 * STS's temporary keys for an operator's callers are kept in the store: with credentials on, a key
 * AssumeRole issued on one node is accepted on every node sharing the PostgreSQL store (what a client
 * behind a round-robin balancer needs), and on one node across a restart; a forged or unknown key is
 * still refused, each with AWS's error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ListFunctionsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { createTestDatabase } from '../src/store/postgres/test-database.js';
import { errorOf, startTestServer, type TestServer } from './harness.js';

const OPERATOR = { accessKeyId: 'AKIAOPERATORSHARED', secretAccessKey: 'operator-secret-shared' };
const ROLE = 'arn:aws:iam::000000000000:role/cdk-hnb659fds-deploy-role-000000000000-us-east-1';

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken: string };

const sts = (url: string, credentials: Credentials | typeof OPERATOR) =>
  new STSClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });
const lambda = (url: string, credentials: Credentials) =>
  new LambdaClient({ endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 });

async function assumeRole(url: string): Promise<Credentials> {
  const client = sts(url, OPERATOR);
  try {
    const { Credentials: c } = await client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'deployer' }));
    return { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
  } finally {
    client.destroy();
  }
}

/** Who `credentials` are on the node at `url`, by GetCallerIdentity, and whether they may list functions there. */
async function useOn(url: string, credentials: Credentials): Promise<{ arn: string; listed: boolean }> {
  const [s, l] = [sts(url, credentials), lambda(url, credentials)];
  try {
    const me = await s.send(new GetCallerIdentityCommand({}));
    const listed = Array.isArray((await l.send(new ListFunctionsCommand({}))).Functions);
    return { arn: me.Arn!, listed };
  } finally {
    s.destroy();
    l.destroy();
  }
}

describe('STS sessions shared by two nodes on PostgreSQL, with credentials on', () => {
  let database: { url: string; drop: () => Promise<void> };
  let a: TestServer;
  let b: TestServer;

  before(async () => {
    database = await createTestDatabase();
    a = await startTestServer({ credentials: [OPERATOR], store: database.url });
    b = await startTestServer({ credentials: [OPERATOR], store: database.url });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('a role assumed on A is accepted on B, as the assumed role; a session token from GetSessionToken too', async () => {
    const assumed = await assumeRole(a.url);
    assert.deepEqual(await useOn(b.url, assumed), {
      arn: 'arn:aws:sts::000000000000:assumed-role/cdk-hnb659fds-deploy-role-000000000000-us-east-1/deployer',
      listed: true,
    });
    assert.equal((await useOn(a.url, assumed)).listed, true, 'and still on A');
    const client = sts(b.url, OPERATOR);
    try {
      const { Credentials: c } = await client.send(new GetSessionTokenCommand({ DurationSeconds: 900 }));
      const token = { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
      assert.deepEqual(await useOn(a.url, token), { arn: 'arn:aws:iam::000000000000:root', listed: true });
    } finally {
      client.destroy();
    }
  });

  it("B refuses a shared key with a wrong secret or another session's token, and a key id nobody issued, each as AWS does", async () => {
    const assumed = await assumeRole(a.url);
    const other = await assumeRole(a.url);
    const wrongSecret = await errorOf(() => useOn(b.url, { ...assumed, secretAccessKey: 'x'.repeat(40) }));
    assert.equal(wrongSecret.name, 'SignatureDoesNotMatch');
    const wrongToken = await errorOf(() => useOn(b.url, { ...assumed, sessionToken: other.sessionToken }));
    assert.equal(wrongToken.name, 'InvalidClientTokenId');
    const unknown = { ...assumed, accessKeyId: 'ASIA0123456789ABCDEF' };
    for (let i = 0; i < 2; i++) assert.equal((await errorOf(() => useOn(b.url, unknown))).name, 'InvalidClientTokenId');
  });
});

describe('STS sessions across a restart (SQLite, credentials on)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ credentials: [OPERATOR] });
  });
  after(async () => {
    await t?.close();
  });

  it('a role assumed before the restart is still accepted after it', async () => {
    const assumed = await assumeRole(t.url);
    await t.restart();
    assert.deepEqual(await useOn(t.url, assumed), {
      arn: 'arn:aws:sts::000000000000:assumed-role/cdk-hnb659fds-deploy-role-000000000000-us-east-1/deployer',
      listed: true,
    });
  });
});

describe("one operator key's AssumeRole burst (SQLite, credentials on)", () => {
  const OTHER = { accessKeyId: 'AKIAOPERATOROTHER', secretAccessKey: 'operator-secret-other' };
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ credentials: [OPERATOR, OTHER] });
  });
  after(async () => {
    await t?.close();
  });

  it("ends the burst's own first session past its share of 1,000, never another key's client's", async () => {
    const assume = async (client: STSClient, DurationSeconds: number): Promise<Credentials> => {
      const { Credentials: c } = await client.send(new AssumeRoleCommand({ RoleArn: ROLE, RoleSessionName: 'deployer', DurationSeconds }));
      return { accessKeyId: c!.AccessKeyId!, secretAccessKey: c!.SecretAccessKey!, sessionToken: c!.SessionToken! };
    };
    const [mine, theirs] = [sts(t.url, OPERATOR), sts(t.url, OTHER)];
    try {
      // The other client's session expires first: closest to expiry, it is what a shared bound ended.
      const other = await assume(theirs, 900);
      const first = await assume(mine, 3600);
      for (let i = 0; i < 50; i++) await Promise.all(Array.from({ length: 20 }, () => assume(mine, 3600)));
      assert.equal((await useOn(t.url, other)).listed, true, "the other client's session is still accepted");
      assert.equal((await errorOf(() => useOn(t.url, first))).name, 'InvalidClientTokenId', "the burst's own first is not");
    } finally {
      mine.destroy();
      theirs.destroy();
    }
  });
});
