/**
 * Subscriptions across two gateway instances sharing Redis (gateway/subscriptions/redisFanout.ts):
 * one holds the lease and follows ugc's feed, both deliver through pub/sub. Uses the Redis at
 * 127.0.0.1:6379 (FOLIO_TEST_REDIS_URL overrides); skipped with a message when none answers.
 * The two gateways run in this test's process, each with its own Redis connections and hub.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../gateway/server.js';
import { buildEpub } from '../subgraphs/catalog/epub/build.js';
import { registerEditor, registerUser, type TestUser } from './kit/accounts.js';
import { createPublishedBook } from './kit/catalog.js';
import { eventually, mustQuery, startTestPlatform, type TestPlatform } from './kit/platform.js';
import { collect, sseClient, wsConnect } from './kit/subscriptions.js';
import { UPDATE_PROGRESS } from './kit/ugc.js';

const redisUrl = process.env.FOLIO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const hasRedis = await redisAnswers();
if (!hasRedis) console.warn(`gateway.subscriptions.redis.e2e: skipped — no Redis answers at ${redisUrl}.`);

const PROGRESS = /* GraphQL */ `subscription { readingProgressChanged { deviceId percent book { title } } }`;
const TITLE = 'Two Gateways, One Feed';

describe.skipIf(!hasRedis)('subscriptions fan out through Redis to every gateway', () => {
  // Our own channel and keys: other runs on the same Redis must not see (or feed) ours.
  const channel = `folio:test:sync:${randomBytes(6).toString('hex')}`;
  const env = {
    FOLIO_REDIS_URL: redisUrl,
    FOLIO_GATEWAY_SUBSCRIPTION_CHANNEL: channel,
    FOLIO_GATEWAY_CACHE_PURGE_CHANNEL: `${channel}:purge`,
    FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '100000/60',
    FOLIO_GATEWAY_RATE_LIMIT_USER: '100000/60',
  };
  let platform: TestPlatform;
  let other: RunningGateway;
  let admin: Redis;
  let alice: TestUser;
  let bob: TestUser;
  let bookId: string;

  beforeAll(async () => {
    platform = await startTestPlatform({ env });
    const subgraphUrls = Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s!.url]));
    other = await startGateway(platform.config, { subgraphUrls });
    admin = new Redis(redisUrl);
    const editor = await registerEditor(platform.gateway);
    [alice, bob] = await Promise.all([registerUser(platform.gateway), registerUser(platform.gateway)]);
    ({ bookId } = await createPublishedBook(platform.gateway, editor.token, await buildEpub({ title: TITLE, authors: ['Folio Tests'], language: 'en', chapters: [{ title: 'One', paragraphs: ['Two harbours, one lighthouse.'] }] }), { title: TITLE }));
    await eventually(async () => ((await admin.pubsub('NUMSUB', channel)) as [string, number])[1] >= 2, { timeoutMs: 5_000, intervalMs: 20 });
  }, 90_000);
  afterAll(async () => {
    await admin?.del(`${channel}:leader`, `${channel}:cursor`);
    admin?.disconnect();
    await other?.stop();
    await platform?.stop();
  });

  it('one gateway follows the feed; a change through the first reaches subscribers on both, and only their owner', async () => {
    // Exactly one lease holder, and it stored where it stands.
    expect(await admin.get(`${channel}:leader`)).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(await admin.get(`${channel}:cursor`))).toBeGreaterThanOrEqual(0);

    const phone = wsConnect(other.url, alice.token);
    const bobsPhone = wsConnect(other.url, bob.token);
    await Promise.all([phone.opened, bobsPhone.opened]);
    const onPhone = collect(phone.client, PROGRESS);
    const onBob = collect(bobsPhone.client, PROGRESS);
    const web = sseClient(platform.gateway, alice.token);
    const onWeb = collect(web, PROGRESS);
    await new Promise((r) => setTimeout(r, 500));

    await mustQuery(platform.gateway, UPDATE_PROGRESS, { bookId, input: { offset: 10, percent: 12, clientTime: new Date().toISOString(), deviceId: 'tablet' } }, { token: alice.token });
    const expected = { deviceId: 'tablet', percent: 12, book: { title: TITLE } };
    expect((await onPhone.nth(0)).data?.readingProgressChanged).toEqual(expected);
    expect((await onWeb.nth(0)).data?.readingProgressChanged).toEqual(expected);
    await new Promise((r) => setTimeout(r, 300));
    expect(onBob.events).toHaveLength(0);
    expect(onPhone.events).toHaveLength(1);
    expect(onWeb.events).toHaveLength(1);

    // The lease lost (as when its holder dies): a holder takes over from the stored cursor, and
    // the next change is still delivered, once.
    // (Either gateway may take it: the old holder notices at its next renewal and stops following.)
    await admin.del(`${channel}:leader`);
    await eventually(async () => (await admin.get(`${channel}:leader`)) !== null, { timeoutMs: 10_000, intervalMs: 50 });
    await mustQuery(platform.gateway, UPDATE_PROGRESS, { bookId, input: { offset: 20, percent: 30, clientTime: new Date().toISOString(), deviceId: 'e-reader' } }, { token: alice.token });
    expect((await onPhone.nth(1)).data?.readingProgressChanged).toMatchObject({ deviceId: 'e-reader', percent: 30 });
    expect((await onWeb.nth(1)).data?.readingProgressChanged).toMatchObject({ deviceId: 'e-reader', percent: 30 });
    await new Promise((r) => setTimeout(r, 300));
    expect([onPhone.events.length, onWeb.events.length, onBob.events.length]).toEqual([2, 2, 0]);

    onPhone.unsubscribe();
    onBob.unsubscribe();
    onWeb.unsubscribe();
    web.dispose();
    await Promise.all([phone.dispose(), bobsPhone.dispose()]);
  });
});
