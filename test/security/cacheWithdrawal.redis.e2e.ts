/**
 * Issue 9 §2 across gateway replicas: a purge caused on one gateway reaches another through Redis
 * pub/sub. The second gateway does not follow catalog's event feed here, so Redis is its only way
 * to learn of the withdrawal. Uses the Redis at 127.0.0.1:6379 (FOLIO_TEST_REDIS_URL overrides);
 * skipped with a message when none answers.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { registerEditor, type TestUser } from '../kit/accounts.js';
import { createPublishedBook } from '../kit/catalog.js';
import { eventually, graphql, mustQuery, startTestPlatform, type TestPlatform } from '../kit/platform.js';

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
if (!hasRedis) console.warn(`cacheWithdrawal.redis.e2e: skipped — no Redis answers at ${redisUrl}.`);

const CHAPTER = /* GraphQL */ `query Chapter($id: ID!) { chapter(id: $id) { id text } }`;
const LIST = /* GraphQL */ `query List { books(first: 100) { edges { node { id } } } }`;

describe.skipIf(!hasRedis)('security: cache purges fan out to every gateway through Redis', () => {
  // A channel of our own: other test runs on the same Redis must not purge (or miss) ours.
  const channel = `folio:test:cache-purge:${randomBytes(6).toString('hex')}`;
  const env = {
    FOLIO_REDIS_URL: redisUrl,
    FOLIO_GATEWAY_CACHE_PURGE_CHANNEL: channel,
    // Rate-limit counters live in the same shared Redis: keep them out of the way.
    FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: '100000/60',
    FOLIO_GATEWAY_RATE_LIMIT_USER: '100000/60',
  };
  let platform: TestPlatform;
  let other: RunningGateway;
  let editor: TestUser;
  let admin: Redis;

  beforeAll(async () => {
    platform = await startTestPlatform({ env });
    const subgraphUrls = Object.fromEntries(Object.entries(platform.services).map(([name, s]) => [name, s!.url]));
    other = await startGateway(platform.config, { subgraphUrls, cacheEvents: false });
    editor = await registerEditor(platform.gateway);
    admin = new Redis(redisUrl);
    // Both gateways must be subscribed before the purge is published.
    await eventually(async () => ((await admin.pubsub('NUMSUB', channel)) as [string, number])[1] >= 2, { timeoutMs: 5_000, intervalMs: 20 });
  }, 60_000);
  afterAll(async () => {
    admin?.disconnect();
    await other?.stop();
    await platform?.stop();
  });

  it('unpublishing through one gateway purges the chapter and the list cached on the other', async () => {
    const { bookId } = await createPublishedBook(platform.gateway, editor.token, undefined, { title: 'Withdrawn Everywhere' });
    const { book } = await mustQuery<{ book: { chapters: Array<{ id: string }> } }>(platform.gateway, `query($id: ID!) { book(id: $id) { chapters { id } } }`, { id: bookId });
    const chapterId = book.chapters[0]!.id;
    for (const query of [CHAPTER, LIST]) {
      await graphql(other.url, query, { id: chapterId });
      expect((await graphql(other.url, query, { id: chapterId })).headers.get('x-cache')).toBe('HIT');
    }

    await mustQuery(platform.gateway, `mutation($id: ID!) { unpublishBook(id: $id) { id } }`, { id: bookId }, { token: editor.token });
    const done = Date.now();
    let chapter = await graphql(other.url, CHAPTER, { id: chapterId });
    while (chapter.headers.get('x-cache') === 'HIT' && Date.now() - done < 1_000) chapter = await graphql(other.url, CHAPTER, { id: chapterId });
    expect(chapter.headers.get('x-cache')).toBeNull();
    expect(chapter.data?.chapter).toBeNull();
    const list = await graphql<{ books: { edges: Array<{ node: { id: string } }> } }>(other.url, LIST);
    expect(list.headers.get('x-cache')).toBeNull();
    expect(list.data?.books.edges.some((e) => e.node.id === bookId)).toBe(false);
  });
});
