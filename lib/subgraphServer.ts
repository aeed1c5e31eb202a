/**
 * Starts one subgraph the same way for all four: its own Apollo Server on its own port, the
 * caller taken only from a request signed for this subgraph (lib/signing.ts), partner scopes
 * checked again on the root fields it resolves (lib/scopes.ts), one error normaliser at the edge,
 * health, readiness, Prometheus metrics and the service's extra HTTP routes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { ResponseTags } from './cacheTags.js';
import { errorExtensions, FolioError, isClientSafeCode, storageFull } from './errors.js';
import { readBody } from './http/body.js';
import { EDGE_SERVER_OPTIONS, listen, trackLifecycle } from './http/lifecycle.js';
import { createOpsEndpoints, type Readiness } from './http/ops.js';
import { isClientAbort, notFoundRoute, sendError } from './http/respond.js';
import { dispatch, type Route } from './http/routes.js';
import type { Caller } from './identity.js';
import type { Logger } from './logger.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';
import { assertPartnerScopes, scopesNeeded } from './scopes.js';
import { RequestVerifier } from './signing.js';
import { isStorageFullError, type FolioDb } from './storage/index.js';

/**
 * The request headers Apollo Server reads: content negotiation (`accept`), CSRF prevention
 * (`content-type`, `apollo-require-preflight`, `x-apollo-operation-name`), federated traces
 * (`apollo-federation-include-trace`, disabled here but still asked for). Copying every header into
 * a HeaderMap cost more than all of these checks.
 */
const APOLLO_REQUEST_HEADERS = ['content-type', 'accept', 'apollo-require-preflight', 'x-apollo-operation-name', 'apollo-federation-include-trace'] as const;

/** What @apollo/subgraph takes (it does not export the type). */
type SubgraphModule = Parameters<typeof buildSubgraphSchema>[0];

export interface RequestInfo {
  readonly caller: Caller;
  readonly requestId: string;
  readonly logger: Logger;
  /** The end user's agent as forwarded by the gateway; informational only, never trusted. */
  readonly userAgent: string | null;
  /** The entities this response holds, for the gateway's response cache (cacheTags.ts). */
  readonly cacheTags: ResponseTags;
}

export interface SubgraphDefinition<TContext extends BaseContext> {
  readonly name: string;
  readonly typeDefs: DocumentNode;
  /**
   * Checked where it is written: each subgraph types its map with the `Resolvers` generated from its
   * SDL (subgraphs/<name>/generated/resolvers.ts, `npm run codegen`).
   */
  readonly resolvers: object;
  /** Builds the per-request context (DataLoaders live here, so they never outlive a request). */
  context(info: RequestInfo): TContext | Promise<TContext>;
  /** Extra HTTP routes: internal feeds, downloads. */
  readonly routes?: readonly Route[];
  /** Readiness check (storage reachable and writable, indexes built); see storageReadiness. @default always ready */
  ready?(): Promise<boolean | Readiness>;
  /** Largest GraphQL request body accepted. @default 1 MiB */
  readonly maxBodyBytes?: number;
}

/**
 * Readiness of a service's database: it answers and it takes writes. A store that cannot write
 * (a full disk) is not ready, though reads still work: orchestrators and alerts must see it.
 */
export async function storageReadiness(db: FolioDb): Promise<Readiness> {
  try {
    const health = await db.health();
    return health.writable ? { ready: true, checks: { storage: 'ok' } } : { ready: false, checks: { storage: `not-writable: ${health.reason ?? 'unknown'}` } };
  } catch {
    return { ready: false, checks: { storage: 'unreachable' } };
  }
}

/** The error a client may see for `original`: itself when it is a FolioError, STORAGE_FULL for a full disk. */
function clientError(original: unknown): FolioError | undefined {
  if (original instanceof FolioError) return original;
  return isStorageFullError(original) ? storageFull(original) : undefined;
}

export interface SubgraphServerOptions {
  readonly host: string;
  readonly port: number;
  readonly internalSecret: string;
  /** Bearer token /readyz and /metrics require (FOLIO_OPS_TOKEN). @default undefined (open) */
  readonly opsToken?: string | undefined;
  readonly logger: Logger;
  readonly metrics?: ServiceMetrics;
  /** How long stop() waits for in-flight requests. @default 5 s */
  readonly drainTimeoutMs?: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly metrics: ServiceMetrics;
  stop(): Promise<void>;
}

/** Turns any error into what a client may see: known codes pass, the rest is masked and logged. */
export function formatSubgraphError(logger: Logger, formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const folio = clientError(original);
  if (folio) {
    if (folio.code === 'STORAGE_FULL') logger.warn({ err: original, path: formatted.path }, 'write refused: storage is full');
    return { ...formatted, message: folio.message, extensions: errorExtensions(folio) };
  }
  // graphql-js and Apollo's own refusals (parse, validation, variables) carry catalogue codes too.
  // By tag, not instanceof: Apollo Server's graphql copy (CommonJS) may not be ours (ESM).
  if (Object.prototype.toString.call(original) === '[object GraphQLError]' && isClientSafeCode(formatted.extensions?.code)) return formatted;
  logger.error({ err: original, path: formatted.path }, 'unexpected error');
  return { message: 'Internal server error.', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

function metricsPlugin(metrics: ServiceMetrics): ApolloServerPlugin<BaseContext> {
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        // Subgraph operation names derive from clients' (the query planner's `<Name>__<subgraph>__<n>`): bounded labels.
        async executionDidStart({ operationName }) {
          metrics.operations.admit(operationName);
        },
        async willSendResponse(ctx) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const errors = ctx.response.body.kind === 'single' ? (ctx.response.body.singleResult.errors ?? []) : [];
          metrics.operations.record(ctx.operationName, errors.length > 0 ? 'error' : 'ok', seconds);
          for (const e of errors) metrics.errors.inc({ code: String(e.extensions?.code ?? 'UNKNOWN') });
        },
      };
    },
  };
}

/**
 * Partner scopes, checked again here on the root fields this subgraph is asked to resolve: the
 * gateway checks the whole operation first; this keeps a partner from reaching a root field outside
 * its scopes through any other path. `_entities` is how the gateway fetches an entity's fields for
 * another root field; it is not a root field a client chose. Partners only, so the extra parse is
 * off everyone else's path. A body without query text (a persisted-query hash) is refused: the
 * gateway always sends the text.
 */
function assertSubgraphScopes(caller: Caller, body: unknown): void {
  if (caller.partnerId === null) return;
  const { query, operationName } = (body ?? {}) as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') throw new FolioError('FORBIDDEN', 'Partner requests must carry their operation.');
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return; // Apollo answers the syntax error; nothing runs
  }
  const needs = scopesNeeded(document, typeof operationName === 'string' ? operationName : null);
  assertPartnerScopes(caller, { ...needs, unavailable: needs.unavailable.filter((f) => f !== 'Query._entities') });
}

const GRAPHQL_URL: Readonly<URL> = new URL('/graphql', 'http://internal');

/**
 * Apollo's context function for one request. Made here, not as an arrow in the request handler:
 * the sources run through tsx, whose `keepNames` defines the name of every named closure as it is
 * made, a cost per request for nothing (issue 14).
 */
function contextFor<TContext extends BaseContext>(definition: SubgraphDefinition<TContext>, info: RequestInfo): () => Promise<TContext> {
  return async () => definition.context(info);
}

export async function startSubgraphServer<TContext extends BaseContext>(
  definition: SubgraphDefinition<TContext>,
  options: SubgraphServerOptions,
): Promise<RunningServer> {
  const { logger, internalSecret } = options;
  const metrics = options.metrics ?? createMetrics(definition.name);
  // One per process: the GraphQL endpoint and the internal routes share the nonce window.
  const verifier = new RequestVerifier({ secret: internalSecret, audience: definition.name });
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema({ typeDefs: definition.typeDefs, resolvers: definition.resolvers } as SubgraphModule),
    // Only the gateway reaches this server (identity signature required), so introspection here is
    // an operator's tool; clients' introspection is governed at the gateway.
    introspection: true,
    includeStacktraceInErrorResponses: false,
    csrfPrevention: true,
    // The process owner (the launcher, a test) decides when to stop; Apollo's own SIGTERM handler
    // would race it and hold shutdown open.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatSubgraphError(logger, formatted, error),
    // Inline (ftv1) traces feed Apollo Studio, which Folio does not use; Prometheus metrics instead.
    plugins: [ApolloServerPluginCacheControl({ calculateHttpHeaders: true }), ApolloServerPluginInlineTraceDisabled(), metricsPlugin(metrics)],
  });
  await apollo.start();

  const maxBodyBytes = definition.maxBodyBytes ?? 1024 * 1024;
  const routes = definition.routes ?? [];

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = (typeof req.headers['x-request-id'] === 'string' && req.headers['x-request-id'].slice(0, 100)) || randomUUID();
    // Unsigned or stale requests are refused before their body is read; the signature covers the body.
    const early = verifier.precheck(req.headers);
    const body = early ? Buffer.alloc(0) : req.method === 'POST' ? await readBody(req, { maxBytes: maxBodyBytes }) : Buffer.alloc(0);
    const identity = early ? ({ ok: false, reason: early } as const) : verifier.verify(req.headers, { method: req.method ?? 'GET', pathAndQuery: url.pathname + url.search, body });
    if (!identity.ok || identity.caller === null) {
      const reason = identity.ok ? 'no-caller' : identity.reason;
      logger.warn({ requestId, reason }, 'rejected request without a valid identity signature');
      sendError(
        res,
        reason === 'busy'
          ? new FolioError('SERVICE_UNAVAILABLE', 'Too many signed requests to remember; retry.', { details: { retryAfterSeconds: 1 } })
          : new FolioError('UNAUTHENTICATED', 'Missing, invalid, expired or replayed identity signature: call this API through the gateway.'),
      );
      return;
    }
    const caller = identity.caller;
    // Only what Apollo Server reads from a request's headers (media type negotiation, CSRF
    // prevention, federated tracing); nothing here hands request headers to resolvers.
    const headers = new HeaderMap();
    for (const name of APOLLO_REQUEST_HEADERS) {
      const value = req.headers[name];
      // `accept: application/json` (what the gateway sends) chooses what no accept header chooses,
      // in every place Apollo reads it; left out, Apollo skips its media-type negotiation.
      if (value !== undefined && !(name === 'accept' && value === 'application/json')) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let parsedBody: unknown = undefined;
    if (body.length > 0) {
      try {
        parsedBody = JSON.parse(body.toString('utf8'));
      } catch {
        sendError(res, new FolioError('BAD_USER_INPUT', 'Request body is not valid JSON.'));
        return;
      }
    }
    assertSubgraphScopes(caller, req.method === 'GET' ? Object.fromEntries(url.searchParams) : parsedBody);
    const cacheTags = new ResponseTags();
    // A child logger only for a request that logs (most never do; pino serialises bindings up front).
    let requestLogger: Logger | undefined;
    const info: RequestInfo = {
      caller,
      requestId,
      get logger() {
        return (requestLogger ??= logger.child({ requestId }));
      },
      userAgent: (req.headers['x-forwarded-user-agent'] as string | undefined)?.slice(0, 300) ?? null,
      cacheTags,
    };
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsedBody },
      context: contextFor(definition, info),
    });
    const outHeaders: Record<string, string> = { 'x-request-id': requestId };
    for (const [key, value] of result.headers) outHeaders[key] = value;
    cacheTags.applyTo(outHeaders);
    res.writeHead(result.status ?? 200, outHeaders);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  const server = createServer(EDGE_SERVER_OPTIONS, (req, res) => {
    // The gateway's every fetch is to `/graphql`: one parsed URL for all of them (read only).
    const url = req.url === '/graphql' ? GRAPHQL_URL : new URL(req.url ?? '/', 'http://internal');
    const work = url.pathname === '/graphql' || url.pathname === '/'
      ? handleGraphQL(req, res, url)
      : ops.handle(req, res, url.pathname).then(async (handled) => {
          if (!handled && !(await dispatch(routes, req, res, verifier))) sendError(res, notFoundRoute());
        });
    work.catch((error: unknown) => {
      const folio = clientError(error);
      if (folio) {
        if (folio.code === 'STORAGE_FULL') logger.warn({ err: error, url: req.url }, 'write refused: storage is full');
        if (!res.headersSent) sendError(res, folio);
        return;
      }
      if (isClientAbort(error, req)) {
        logger.debug({ err: error, url: req.url }, 'client went away mid-request');
        return;
      }
      logger.error({ err: error, url: req.url }, 'request failed');
      sendError(res, error);
    });
  });
  const lifecycle = trackLifecycle(server);
  const ops = createOpsEndpoints({
    service: definition.name,
    registry: metrics.registry,
    token: options.opsToken,
    isDraining: lifecycle.isDraining,
    readiness: async () => {
      const answer = definition.ready ? await definition.ready() : true;
      return typeof answer === 'boolean' ? { ready: answer, checks: {} } : answer;
    },
  });
  const port = await listen(server, options.port, options.host);
  logger.info({ port }, `${definition.name} subgraph listening`);

  return {
    url: `http://${options.host}:${port}/graphql`,
    port,
    metrics,
    async stop() {
      await lifecycle.drain(options.drainTimeoutMs ?? 5_000);
      await apollo.stop();
    },
  };
}
