/**
 * Starts one subgraph the same way for all four: its own Apollo Server on its own port, the
 * caller taken only from signed identity headers, one error normaliser at the edge, health,
 * readiness, Prometheus metrics and the service's extra HTTP routes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { DocumentNode, GraphQLFormattedError } from 'graphql';
import { errorExtensions, FolioError, isClientSafeCode } from './errors.js';
import { dispatch, isClientAbort, opsAuthorized, readBody, sendGraphQLError, sendJson, sendOpsUnauthorized, type Route } from './http.js';
import { IDENTITY_HEADERS, verifyIdentity, type Caller } from './identity.js';
import type { Logger } from './logger.js';
import { createMetrics, type ServiceMetrics } from './metrics.js';

/** @apollo/subgraph does not export its resolver-map type; this is its shape, loosely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResolverMap = Record<string, any>;

export interface RequestInfo {
  readonly caller: Caller;
  readonly requestId: string;
  readonly logger: Logger;
  /** The end user's agent as forwarded by the gateway; informational only, never trusted. */
  readonly userAgent: string | null;
}

export interface SubgraphDefinition<TContext extends BaseContext> {
  readonly name: string;
  readonly typeDefs: DocumentNode;
  readonly resolvers: ResolverMap;
  /** Builds the per-request context (DataLoaders live here, so they never outlive a request). */
  context(info: RequestInfo): TContext | Promise<TContext>;
  /** Extra HTTP routes: internal feeds, downloads. */
  readonly routes?: readonly Route[];
  /** Readiness check (storage reachable, indexes built). @default always ready */
  ready?(): Promise<boolean>;
  /** Largest GraphQL request body accepted. @default 1 MiB */
  readonly maxBodyBytes?: number;
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
  if (original instanceof FolioError) {
    return { ...formatted, message: original.message, extensions: errorExtensions(original) };
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

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startSubgraphServer<TContext extends BaseContext>(
  definition: SubgraphDefinition<TContext>,
  options: SubgraphServerOptions,
): Promise<RunningServer> {
  const { logger, internalSecret } = options;
  const metrics = options.metrics ?? createMetrics(definition.name);
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema({ typeDefs: definition.typeDefs, resolvers: definition.resolvers }),
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
  const builtinRoutes: Route[] = [
    { method: 'GET', path: '/healthz', handle: ({ res }) => sendJson(res, 200, { status: 'ok', service: definition.name }) },
    {
      method: 'GET',
      path: '/readyz',
      handle: async ({ req, res }) => {
        if (!opsAuthorized(req, options.opsToken)) return sendOpsUnauthorized(res);
        const ready = definition.ready ? await definition.ready().catch(() => false) : true;
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not-ready', service: definition.name });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handle: async ({ req, res }) => {
        if (!opsAuthorized(req, options.opsToken)) return sendOpsUnauthorized(res);
        const body = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(body);
      },
    },
  ];
  const routes = [...builtinRoutes, ...(definition.routes ?? [])];

  async function handleGraphQL(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = (typeof req.headers[IDENTITY_HEADERS.requestId] === 'string' && (req.headers[IDENTITY_HEADERS.requestId] as string).slice(0, 100)) || randomUUID();
    const identity = verifyIdentity(req.headers, internalSecret);
    if (!identity.ok) {
      logger.warn({ requestId, reason: identity.reason }, 'rejected request without a valid identity signature');
      sendGraphQLError(res, new FolioError('UNAUTHENTICATED', 'Missing or invalid internal identity signature: call this API through the gateway.'));
      return;
    }
    const body = req.method === 'POST' ? await readBody(req, maxBodyBytes) : Buffer.alloc(0);
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    let parsedBody: unknown = undefined;
    if (body.length > 0) {
      try {
        parsedBody = JSON.parse(body.toString('utf8'));
      } catch {
        sendGraphQLError(res, new FolioError('BAD_USER_INPUT', 'Request body is not valid JSON.'));
        return;
      }
    }
    const requestLogger = logger.child({ requestId });
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body: parsedBody },
      context: async () =>
        definition.context({
          caller: identity.caller,
          requestId,
          logger: requestLogger,
          userAgent: (req.headers['x-forwarded-user-agent'] as string | undefined)?.slice(0, 300) ?? null,
        }),
    });
    const outHeaders: Record<string, string> = { 'x-request-id': requestId };
    for (const [key, value] of result.headers) outHeaders[key] = value;
    res.writeHead(result.status ?? 200, outHeaders);
    if (result.body.kind === 'complete') {
      res.end(result.body.string);
    } else {
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const server = createServer((req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) drained?.();
    });
    const url = new URL(req.url ?? '/', 'http://internal');
    const work = url.pathname === '/graphql' || url.pathname === '/' ? handleGraphQL(req, res, url) : dispatch(routes, req, res, internalSecret).then((handled) => {
      if (!handled) sendJson(res, 404, { error: 'NOT_FOUND' });
    });
    work.catch((error: unknown) => {
      if (error instanceof FolioError) {
        if (!res.headersSent) sendGraphQLError(res, error);
        return;
      }
      if (isClientAbort(error, req)) {
        logger.debug({ err: error, url: req.url }, 'client went away mid-request');
        return;
      }
      logger.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 65_000;
  const port = await listen(server, options.port, options.host);
  logger.info({ port }, `${definition.name} subgraph listening`);

  return {
    url: `http://${options.host}:${port}/graphql`,
    port,
    metrics,
    async stop() {
      // Stop accepting, let in-flight requests finish (bounded), then close every socket: idle
      // keep-alive sockets would otherwise hold server.close() open until they time out.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, options.drainTimeoutMs ?? 5_000).unref();
        });
      }
      server.closeAllConnections();
      await closed;
      await apollo.stop();
    },
  };
}
