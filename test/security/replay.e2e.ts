/**
 * Issue 9 §5, from the attacker's side: someone who can see traffic between the gateway and the
 * subgraphs (or between subgraphs) captures signed requests and replays their headers straight at
 * the subgraph ports. A capturing proxy sits between a second gateway and accounts/ugc; the
 * attacker has only what crossed it, never the secret.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../gateway/server.js';
import { callInternal } from '../../lib/signing.js';
import { loginAdmin, registerUser, type TestUser } from '../kit/accounts.js';
import { mustQuery, startTestPlatform, type TestPlatform } from '../kit/platform.js';

interface Captured {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Forwards everything to `target` and keeps a copy of each request as it crossed the wire. */
async function capturingProxy(target: string): Promise<{ url: string; captured: Captured[]; close(): Promise<void> }> {
  const captured: Captured[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void (async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      captured.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: { ...req.headers }, body });
      try {
        const answer = await fetch(new URL(req.url ?? '/', target), { method: req.method, headers: forwardable(req.headers), ...(req.method === 'POST' ? { body } : {}) });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      } catch {
        res.writeHead(502).end();
      }
    })());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    captured,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(name)) out[name] = value;
  }
  return out;
}

/** Sends captured headers to a subgraph with a body of the attacker's choosing. */
async function replay(base: string, capture: Captured, body: string, path = capture.path): Promise<{ status: number; text: string }> {
  const response = await fetch(new URL(path, base), { method: capture.method, headers: forwardable(capture.headers), ...(capture.method === 'POST' ? { body } : {}) });
  return { status: response.status, text: await response.text() };
}

const graphqlBody = (query: string, variables: Record<string, unknown> = {}): string => JSON.stringify({ query, variables });

describe('security: captured internal signatures cannot be replayed (issue 9 §5)', () => {
  let platform: TestPlatform;
  let gateway: RunningGateway;
  let accountsProxy: Awaited<ReturnType<typeof capturingProxy>>;
  let ugcProxy: Awaited<ReturnType<typeof capturingProxy>>;
  let admin: string;
  let reader: TestUser;
  const base = (name: 'accounts' | 'catalog' | 'ugc' | 'search'): string => platform.services[name]!.url.replace(/\/graphql$/, '');

  beforeAll(async () => {
    platform = await startTestPlatform();
    accountsProxy = await capturingProxy(base('accounts'));
    ugcProxy = await capturingProxy(base('ugc'));
    const subgraphUrls = Object.fromEntries(Object.entries(platform.services).map(([name, service]) => [name, service!.url]));
    gateway = await startGateway(
      { ...platform.config, gatewayPort: 0 },
      { subgraphUrls: { ...subgraphUrls, accounts: `${accountsProxy.url}/graphql`, ugc: `${ugcProxy.url}/graphql` }, authUrl: base('accounts'), responseCache: false, dedup: false },
    );
    admin = await loginAdmin(platform.gateway);
    reader = await registerUser(platform.gateway);
  });
  afterAll(async () => {
    await gateway?.stop();
    await accountsProxy?.close();
    await ugcProxy?.close();
    await platform?.stop();
  });

  it("refuses an admin's captured `{ me }` headers with a setUserRoles body, replayed within seconds", async () => {
    await mustQuery(gateway.url, '{ me { id } }', {}, { token: admin });
    const capture = accountsProxy.captured.findLast((c) => c.body.includes('me'))!;
    expect(capture.headers['x-folio-roles']).toContain('ADMIN');

    const attack = graphqlBody('mutation($id: ID!) { setUserRoles(userId: $id, roles: [READER, ADMIN]) { id roles } }', { id: reader.id });
    const answer = await replay(base('accounts'), capture, attack);
    expect(answer.status).toBe(401);
    expect(answer.text).toContain('UNAUTHENTICATED');
    const { user } = await mustQuery(platform.gateway, 'query($id: ID!) { user(id: $id) { roles } }', { id: reader.id }, { token: admin });
    expect(user.roles).toEqual(['READER']);
  });

  it('refuses the exact captured request delivered a second time', async () => {
    await mustQuery(gateway.url, '{ me { id username } }', {}, { token: admin });
    const capture = accountsProxy.captured.findLast((c) => c.body.includes('username'))!;
    // The gateway's delivery through the proxy was the first; this is the second.
    const again = await replay(base('accounts'), capture, capture.body);
    expect(again.status).toBe(401);
  });

  it("refuses a reader's captured headers replayed to ugc for their private notes, and to another subgraph", async () => {
    await mustQuery(gateway.url, '{ me { id shelfCount } }', {}, { token: reader.token });
    const toUgc = ugcProxy.captured.findLast((c) => c.headers['x-folio-user-id'] === reader.id)!;
    const toAccounts = accountsProxy.captured.findLast((c) => c.headers['x-folio-user-id'] === reader.id)!;
    expect(toUgc).toBeDefined();
    expect(toAccounts).toBeDefined();

    const notes = graphqlBody(`query($r: [_Any!]!) { _entities(representations: $r) { ... on User { notes { edges { node { id text } } } } } }`, { r: [{ __typename: 'User', id: reader.id }] });
    const sameSubgraph = await replay(base('ugc'), toUgc, notes);
    expect(sameSubgraph.status).toBe(401);
    // Headers captured on the way to accounts, replayed to ugc with the very body they were signed over.
    const otherSubgraph = await replay(base('ugc'), toAccounts, toAccounts.body);
    expect(otherSubgraph.status).toBe(401);
    const toCatalog = await replay(base('catalog'), toAccounts, toAccounts.body);
    expect(toCatalog.status).toBe(401);
  });

  it('refuses a captured /internal/events signature: again, with another cursor, or at another service', async () => {
    const secret = platform.config.internalSecret;
    // A feed read as search's consumer makes it (callInternal), captured on its way to ugc.
    const first = await callInternal<{ events: unknown[] }>({ secret, audience: 'ugc', baseUrl: ugcProxy.url }, 'GET', '/internal/events?after=0&limit=10&wait=0');
    expect(Array.isArray(first.events)).toBe(true);
    const capture = ugcProxy.captured.findLast((c) => c.path.startsWith('/internal/events'))!;
    expect((await replay(base('ugc'), capture, '')).status).toBe(401);
    expect((await replay(base('ugc'), capture, '', '/internal/events?after=1&limit=10&wait=0')).status).toBe(401);
    expect((await replay(base('catalog'), capture, '')).status).toBe(401);
  });

  it('refuses a captured token-resolution call replayed with another credential', async () => {
    const proxy = await capturingProxy(base('accounts'));
    try {
      const answer = await callInternal<{ caller: unknown }>({ secret: platform.config.internalSecret, audience: 'accounts', baseUrl: proxy.url }, 'POST', '/internal/auth/resolve', { token: reader.token });
      expect(answer.caller).toMatchObject({ userId: reader.id });
      const capture = proxy.captured.at(-1)!;
      expect((await replay(base('accounts'), capture, JSON.stringify({ token: admin }))).status).toBe(401);
      expect((await replay(base('accounts'), capture, capture.body)).status).toBe(401);
    } finally {
      await proxy.close();
    }
  });
});
