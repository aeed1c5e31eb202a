/**
 * Test-only (the gateway e2e tests): small federated subgraphs
 * that verify the gateway's signed identity like real Folio subgraphs do, a stub of accounts'
 * internal endpoints, and supergraph composition. Never imported by the gateway itself.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type GraphQLSchema } from 'graphql';
import { ANONYMOUS, type Caller, type CredentialCaller } from '../../lib/identity.js';
import { RequestVerifier, type VerifyResult } from '../../lib/signing.js';
import { loadConfig, type RateSpec } from '../../lib/config.js';
import { startGateway, type RunningGateway } from '../../gateway/server.js';

export const TEST_SECRET = 'gateway-test-secret-gateway-test-secret-42';
/** FOLIO_OPS_TOKEN of the test stack's gateways (production needs one): send as `Authorization: Bearer`. */
export const TEST_OPS_TOKEN = 'gateway-test-ops-token-0123456789';
export const opsHeaders = { authorization: `Bearer ${TEST_OPS_TOKEN}` } as const;

const CACHE_CONTROL = `
  enum CacheControlScope { PUBLIC PRIVATE }
  directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
`;

export const BOOKS = [
  { id: 'b1', title: 'Dream of the Red Chamber' },
  { id: 'b2', title: 'Journey to the West' },
  { id: 'b3', title: 'Water Margin' },
];

interface SubgraphContext {
  readonly caller: Caller;
  readonly forgedUserHeader: string | null;
  readonly requestId: string | null;
  readonly traceparent: string | null;
}

export interface TestSubgraphDef {
  readonly name: string;
  readonly typeDefs: string;
  readonly schema: GraphQLSchema;
}

/** catalog: public, cacheable book data (the Folio shape in miniature). */
export function catalogSubgraph(): TestSubgraphDef {
  const typeDefs = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    ${CACHE_CONTROL}
    type Query {
      books: [Book!]! @cacheControl(maxAge: 60)
      book(id: ID!): Book @cacheControl(maxAge: 60)
      uncached: String
      "No cache hint: never cacheable (benchmarks use it for uncached federated work)."
      latest: [Book!]! @cacheControl(maxAge: 0)
      "Throws a raw Error with driver-like text (error masking tests)."
      broken: String
      "Answers after ms milliseconds (load and fairness tests: requests stay in flight)."
      slow(ms: Int!): String
    }
    type Book @key(fields: "id") @cacheControl(maxAge: 60) {
      id: ID!
      title: String!
      related: [Book!]!
    }
  `;
  const byId = new Map(BOOKS.map((b) => [b.id, b]));
  const schema = buildSubgraphSchema({
    typeDefs: parse(typeDefs),
    resolvers: {
      Query: { books: () => BOOKS, book: (_: unknown, { id }: { id: string }) => byId.get(id) ?? null, uncached: () => 'fresh', slow: async (_: unknown, { ms }: { ms: number }) => new Promise((resolve) => setTimeout(() => resolve('slow'), Math.min(ms, 5000))), latest: () => BOOKS, broken: () => {
        throw new Error('MongoServerError: E11000 duplicate key error collection: folio_catalog.books index: _id_ at /srv/folio/store.ts:42');
      } },
      Book: { __resolveReference: (ref: { id: string }) => byId.get(ref.id) ?? null, related: () => BOOKS },
    },
  });
  return { name: 'catalog', typeDefs, schema };
}

/** ugc: extends Book with a rating (so a query spans two subgraphs). */
export function ugcSubgraph(): TestSubgraphDef {
  const typeDefs = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    ${CACHE_CONTROL}
    type Book @key(fields: "id") @cacheControl(maxAge: 60) {
      id: ID!
      rating: Float
    }
  `;
  const schema = buildSubgraphSchema({
    typeDefs: parse(typeDefs),
    resolvers: { Book: { __resolveReference: (ref: { id: string }) => ({ id: ref.id, rating: ref.id.length + 3.5 }) } },
  });
  return { name: 'ugc', typeDefs, schema };
}

/** accounts: per-user data (`me`, PRIVATE) and a probe of what the subgraph received. */
export function accountsSubgraph(): TestSubgraphDef {
  const typeDefs = `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    ${CACHE_CONTROL}
    type Query {
      me: Viewer @cacheControl(maxAge: 60, scope: PRIVATE)
      whoami: Whoami
    }
    type Viewer { userId: ID, roles: [String!]!, partnerId: ID }
    type Whoami { userId: ID, forgedUserHeader: String, clientAddress: String, requestId: String, traceparent: String }
  `;
  const schema = buildSubgraphSchema({
    typeDefs: parse(typeDefs),
    resolvers: {
      Query: {
        me: (_: unknown, __: unknown, context: unknown) => {
          const { caller } = context as SubgraphContext;
          return { userId: caller.userId, roles: caller.roles, partnerId: caller.partnerId };
        },
        whoami: (_: unknown, __: unknown, context: unknown) => {
          const ctx = context as SubgraphContext;
          return {
            userId: ctx.caller.userId,
            forgedUserHeader: ctx.forgedUserHeader,
            clientAddress: ctx.caller.clientAddress,
            requestId: ctx.requestId,
            traceparent: ctx.traceparent,
          };
        },
      },
    },
  });
  return { name: 'accounts', typeDefs, schema };
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Requests served so far. */
  /** Requests this subgraph received; with `containing`, only those whose body contains it. */
  readonly requests: (containing?: string) => number;
  stop(): Promise<void>;
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function readAll(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Serves a subgraph that, like Folio's, answers 401 to requests without a valid gateway signature. */
export async function serveSubgraph(
  def: TestSubgraphDef,
  options: { port?: number; secret?: string; /** Answer unsigned requests as anonymous (peer-gateway benchmarks). */ allowUnsigned?: boolean } = {},
): Promise<RunningServer> {
  const verifier = new RequestVerifier({ secret: options.secret ?? TEST_SECRET, audience: def.name });
  // Stack traces on, as a third-party subgraph in development would send them: the gateway must strip them.
  const apollo = new ApolloServer<SubgraphContext>({ schema: def.schema, logger: silentLogger, includeStacktraceInErrorResponses: true });
  await apollo.start();
  let count = 0;
  const bodies: string[] = [];
  const server = http.createServer((req, res) => void (async () => {
    count += 1;
    const raw = req.method === 'POST' ? await readAll(req) : '';
    bodies.push(raw);
    const url = new URL(req.url ?? '/', 'http://x');
    let identity: VerifyResult = verifier.verify(req.headers, { method: req.method ?? 'POST', pathAndQuery: url.pathname + url.search, body: raw });
    if (!identity.ok && identity.reason === 'missing' && options.allowUnsigned) identity = { ok: true, caller: ANONYMOUS };
    if (!identity.ok || !identity.caller) {
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `identity ${identity.ok ? 'no-caller' : identity.reason}` }] }));
      return;
    }
    const caller = identity.caller;
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
    const body = req.method === 'POST' ? JSON.parse(raw || '{}') : undefined;
    const header = (name: string): string | null => {
      const value = req.headers[name];
      return typeof value === 'string' ? value : null;
    };
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'POST', headers, search: url.search, body },
      context: async () => ({
        caller,
        forgedUserHeader: header('x-folio-forged-user-id'),
        requestId: header('x-request-id'),
        traceparent: header('traceparent'),
      }),
    });
    res.statusCode = result.status ?? 200;
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.end(result.body.kind === 'complete' ? result.body.string : '');
  })());
  const port = await listen(server, options.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    port,
    requests: (containing?: string) => (containing === undefined ? count : bodies.filter((b) => b.includes(containing)).length),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await apollo.stop();
    },
  };
}

export function composeSupergraph(defs: ReadonlyArray<TestSubgraphDef & { readonly url: string }>): string {
  const result = composeServices(defs.map((d) => ({ name: d.name, typeDefs: parse(d.typeDefs), url: d.url })));
  if (result.errors) throw new Error(`composition failed: ${result.errors.map((e) => e.message).join('; ')}`);
  return result.supergraphSdl;
}

export interface StubAccount {
  readonly caller: CredentialCaller;
  readonly rateLimit?: RateSpec;
}

export interface AccountsStub extends RunningServer {
  readonly tokens: Map<string, StubAccount>;
  readonly apiKeys: Map<string, StubAccount>;
  readonly documents: Array<{ id: string; body: string; clientName: string | null }>;
  /** Calls to /internal/auth/resolve so far. */
  readonly resolveCalls: () => number;
}

/** Accounts' internal endpoints as the contract describes them, signed calls only. */
export async function startAccountsStub(secret = TEST_SECRET): Promise<AccountsStub> {
  const tokens = new Map<string, StubAccount>();
  const apiKeys = new Map<string, StubAccount>();
  const documents: Array<{ id: string; body: string; clientName: string | null }> = [];
  let count = 0;
  let resolves = 0;
  const verifier = new RequestVerifier({ secret, audience: 'accounts' });
  const server = http.createServer((req, res) => void (async () => {
    count += 1;
    const body = await readAll(req);
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname + url.search;
    if (!verifier.verify(req.headers, { method: req.method ?? 'GET', pathAndQuery: path, body }).ok) {
      res.writeHead(401).end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (req.method === 'POST' && path === '/internal/auth/resolve') {
      resolves += 1;
      const { token, apiKey } = JSON.parse(body) as { token?: string; apiKey?: string };
      const found = token !== undefined ? tokens.get(token) : apiKey !== undefined ? apiKeys.get(apiKey) : undefined;
      res.end(JSON.stringify(found ? { caller: found.caller, rateLimit: found.rateLimit } : { caller: null, error: 'UNAUTHENTICATED' }));
      return;
    }
    if (req.method === 'GET' && path === '/internal/trusted-documents') {
      res.end(JSON.stringify({ documents }));
      return;
    }
    res.writeHead(404).end('{}');
  })());
  const port = await listen(server, 0);
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    tokens,
    apiKeys,
    documents,
    requests: () => count,
    resolveCalls: () => resolves,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const noop = (): void => undefined;
const silentLogger = { debug: noop, info: noop, warn: noop, error: noop };

export const user = (userId: string, roles: Caller['roles'] = ['READER']): StubAccount => ({
  caller: { userId, roles, sessionId: `s-${userId}`, partnerId: null, scopes: [] },
});
export const partner = (partnerId: string, rateLimit?: RateSpec): StubAccount => ({
  caller: { userId: null, roles: [], sessionId: null, partnerId, scopes: ['catalog:read'] },
  ...(rateLimit ? { rateLimit } : {}),
});

export interface TestStack {
  readonly gateway: string;
  readonly accounts: AccountsStub;
  readonly subgraphs: Record<'catalog' | 'ugc' | 'accounts', RunningServer>;
  readonly defs: Record<'catalog' | 'ugc' | 'accounts', TestSubgraphDef>;
  /** Restarts a stopped subgraph on its old port. */
  restart(name: 'catalog' | 'ugc' | 'accounts'): Promise<void>;
  /** Another gateway instance on the same subgraphs and accounts (stopped with the stack); its URL. */
  addGateway(env?: Record<string, string>): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Three test subgraphs + the accounts stub + a Folio gateway on free ports. `env` sets gateway
 * variables (e.g. FOLIO_GATEWAY_MAX_DEPTH); NODE_ENV defaults to production.
 */
export async function startTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  const defs = { catalog: catalogSubgraph(), ugc: ugcSubgraph(), accounts: accountsSubgraph() };
  const subgraphs = {
    catalog: await serveSubgraph(defs.catalog),
    ugc: await serveSubgraph(defs.ugc),
    accounts: await serveSubgraph(defs.accounts),
  };
  const accounts = await startAccountsStub();
  const sdl = composeSupergraph(Object.values(defs).map((d) => ({ ...d, url: subgraphs[d.name as keyof typeof subgraphs].url })));
  const gateways: RunningGateway[] = [];
  const addGateway = async (extra: Record<string, string> = {}): Promise<string> => {
    const config = loadConfig({
      NODE_ENV: 'production',
      FOLIO_INTERNAL_SECRET: TEST_SECRET,
      FOLIO_ADMIN_PASSWORD: 'admin-password-for-tests',
      FOLIO_OPS_TOKEN: TEST_OPS_TOKEN,
      FOLIO_LOG_LEVEL: 'silent',
      FOLIO_GATEWAY_PORT: '0',
      FOLIO_GATEWAY_SUBGRAPH_TIMEOUT_MS: '2000',
      // CI runs several suites at once on two cores; load shedding has its own tests (which set this).
      FOLIO_GATEWAY_MAX_EVENT_LOOP_LAG_MS: '5000',
      ...env,
      ...extra,
    });
    // The stub catalog serves no event feed (cache purges by catalog events are tested on the real platform).
    const gateway = await startGateway(config, { supergraphSdl: sdl, authUrl: accounts.url, cacheEvents: false });
    gateways.push(gateway);
    return gateway.url;
  };
  const gateway = await addGateway();
  return {
    gateway,
    accounts,
    subgraphs,
    defs,
    async restart(name) {
      subgraphs[name] = await serveSubgraph(defs[name], { port: subgraphs[name].port });
    },
    addGateway,
    async [Symbol.asyncDispose]() {
      await Promise.all(gateways.map((g) => g.stop()));
      await Promise.all([...Object.values(subgraphs).map((s) => s.stop().catch(() => undefined)), accounts.stop()]);
    },
  };
}
