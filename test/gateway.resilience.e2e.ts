/** Subgraph failure and recovery, response caching without leaks, deduplication without mixing callers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsHeaders, startTestStack, user, type TestStack } from './kit/gatewayStack.js';
import { errorCodes, eventually, graphql } from './kit/platform.js';

describe('gateway resilience and caching', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
    stack.accounts.tokens.set('tok-1', user('u-1'));
    stack.accounts.tokens.set('tok-2', user('u-2'));
  });
  afterAll(async () => stack?.[Symbol.asyncDispose]());

  it('answers partial data with errors while a subgraph is down, and recovers when it returns', async () => {
    const query = '{ books { id title rating } }';
    const running = (async () => {
      // Load keeps flowing while the subgraph dies: no request may crash the gateway.
      const results = [];
      for (let i = 0; i < 20; i += 1) results.push(await graphql(stack.gateway, query));
      return results;
    })();
    await stack.subgraphs.ugc.stop();
    const during = await running;
    expect(during.every((r) => r.status === 200 && r.data?.books?.length === 3)).toBe(true);

    const down = await graphql(stack.gateway, query);
    expect(down.status).toBe(200);
    expect(down.data?.books[0]).toEqual({ id: 'b1', title: 'Dream of the Red Chamber', rating: null });
    expect(errorCodes(down)).toContain('SERVICE_UNAVAILABLE');
    // One error per field left null, naming its path and the subgraph.
    expect(down.errors?.map((e) => [e.path, e.extensions?.serviceName])).toEqual([0, 1, 2].map((i) => [['books', i, 'rating'], 'ugc']));
    expect(JSON.stringify(down.errors)).not.toMatch(/127\.0\.0\.1/); // no internal addresses leak
    const ready = await fetch(stack.gateway.replace(/graphql$/, 'readyz'), { headers: opsHeaders });
    expect(ready.status).toBe(503);

    await stack.restart('ugc');
    const recovered = await eventually(async () => {
      const r = await graphql(stack.gateway, query);
      return r.errors ? null : r;
    });
    expect(recovered.data?.books[0].rating).toBe(5.5);
  });

  it('caches public data (per role class) and serves it from the cache', async () => {
    const query = '{ book(id: "b2") { id title } }';
    // Counted by what the request asked: the gateway's own probes of a subgraph just restarted
    // by the previous test may land in the same window.
    const before = stack.subgraphs.catalog.requests('b2');
    const first = await graphql(stack.gateway, query);
    const second = await graphql(stack.gateway, query);
    expect(second.data).toEqual(first.data);
    expect(second.headers.get('x-cache')).toBe('HIT');
    expect(stack.subgraphs.catalog.requests('b2') - before).toBe(1);
    // Not cacheable (no hint): always fresh.
    await graphql(stack.gateway, '{ uncached }');
    expect((await graphql(stack.gateway, '{ uncached }')).headers.get('x-cache')).toBeNull();
  });

  it('never serves one user’s private data to another user or to anonymous callers', async () => {
    const query = '{ me { userId } }';
    const one = await graphql(stack.gateway, query, {}, { token: 'tok-1' });
    const oneAgain = await graphql(stack.gateway, query, {}, { token: 'tok-1' });
    expect(oneAgain.headers.get('x-cache')).toBe('HIT');
    const two = await graphql(stack.gateway, query, {}, { token: 'tok-2' });
    const anonymous = await graphql(stack.gateway, query);
    expect([one, oneAgain, two, anonymous].map((r) => r.data?.me.userId)).toEqual(['u-1', 'u-1', 'u-2', null]);
    expect(two.headers.get('x-cache')).toBeNull();
    expect(anonymous.headers.get('x-cache')).toBeNull();
  });

  it('deduplicates identical concurrent queries without mixing callers', async () => {
    const query = '{ whoami { userId } }';
    await graphql(stack.gateway, query); // first sight: the gateway learns the document is a query
    const callers = ['tok-1', 'tok-2', undefined, 'tok-1', 'tok-2', undefined, 'tok-1', 'tok-2', undefined];
    const results = await Promise.all(callers.map((token) => graphql(stack.gateway, query, {}, token ? { token } : {})));
    expect(results.map((r) => r.data?.whoami.userId)).toEqual(callers.map((t) => (t === 'tok-1' ? 'u-1' : t === 'tok-2' ? 'u-2' : null)));
  });

  it('never shares an execution between different variables', async () => {
    const query = 'query Book($id: ID!) { book(id: $id) { id } }';
    const results = await Promise.all(['b1', 'b2', 'b3', 'b1'].map((id) => graphql(stack.gateway, query, { id })));
    expect(results.map((r) => r.data?.book.id)).toEqual(['b1', 'b2', 'b3', 'b1']);
  });
});
