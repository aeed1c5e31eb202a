/**
 * The Folio gateway: Apollo Gateway + Apollo Server behind our own HTTP edge (handler.ts), with the
 * plugins in plugins/. Public API: startGateway.
 */
import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloGateway } from '@apollo/gateway';
import { Redis } from 'ioredis';
import { Agent } from 'undici';
import type { FolioConfig } from '../lib/config.js';
import { EDGE_SERVER_OPTIONS, listen, trackLifecycle, type Lifecycle } from '../lib/http/lifecycle.js';
import { createOpsEndpoints, type OpsEndpoints } from '../lib/http/ops.js';
import { notFoundRoute, sendError } from '../lib/http/respond.js';
import { createLogger, type Logger } from '../lib/logger.js';
import type { GatewayContext } from './context.js';
import { createErrorFormatter } from './errors.js';
import { createRequestHandler } from './handler.js';
import { createPipeline } from './pipeline.js';
import { apq } from './plugins/apq.js';
import { createAuthenticator } from './plugins/auth.js';
import { createAdmission } from './plugins/admission.js';
import { createClientAddressResolver, createTerritoryResolver, trustedMatcher } from './plugins/clientAddress.js';
import { createHealthCheck } from './plugins/health.js';
import { createInflightDedup } from './plugins/inflightDedup.js';
import { introspectionPlugin } from './plugins/introspection.js';
import { createLoadShedder } from './plugins/loadShedding.js';
import { loggingPlugin } from './plugins/logging.js';
import { operationFactsPlugin } from './plugins/operationFacts.js';
import { createGatewayMetrics, operationLabelsPlugin } from './plugins/metrics.js';
import { operationLimits } from './plugins/operationLimits.js';
import { operationResolutionPlugin } from './plugins/operationResolution.js';
import { createRateLimiter } from './plugins/rateLimit.js';
import { createCachePurger } from './plugins/cachePurge.js';
import { createResponseCache } from './plugins/responseCache.js';
import { UsageRecorder } from './plugins/schemaUsage.js';
import { createUsageFlusher } from './plugins/schemaUsageFlusher.js';
import { createTrustedDocuments, loadFromAccounts } from './plugins/trustedDocuments.js';
import { installSingleFetchFastPath } from './singleFetch.js';
import { SubgraphFetcher } from './subgraphFetcher.js';
import { startSubscriptions } from './subscriptions/index.js';
import { accountsBaseUrl, loadSupergraph, subgraphBaseUrl } from './supergraph.js';
import { createUiRoutes } from './ui/static.js';

export interface StartGatewayOptions {
  /** Serve this supergraph instead of the configured file; subgraph URLs from it. */
  readonly supergraphSdl?: string;
  /** Subgraph URLs by name, overriding the supergraph's. */
  readonly subgraphUrls?: Partial<Record<string, string>>;
  /** Where accounts' internal endpoints live. @default config.gateway.authUrl, else accounts' URL minus /graphql */
  readonly authUrl?: string;
  /** Share identical in-flight queries (inbound and subgraph fetches). @default true */
  readonly dedup?: boolean;
  /** Cache responses the subgraphs hint as cacheable. @default true */
  readonly responseCache?: boolean;
  /** Purge the response cache on catalog's events (cachePurge.ts); off for tests of the Redis fan-out alone. @default true */
  readonly cacheEvents?: boolean;
  /** Single-fetch fast path (singleFetch.ts). @default config.gateway.singleFetch */
  readonly singleFetch?: boolean;
  /** How long stop() waits for in-flight requests. @default 10000 */
  readonly drainTimeoutMs?: number;
  readonly logger?: Logger;
}

export interface RunningGateway {
  /** GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql */
  readonly url: string;
  readonly port: number;
  /** Base URL of /healthz, /readyz and /metrics: the public origin, or FOLIO_GATEWAY_OPS_PORT's. */
  readonly opsUrl: string;
  /** Stops accepting, drains in-flight requests (up to drainTimeoutMs), then closes everything. */
  stop(): Promise<void>;
}

export async function startGateway(config: FolioConfig, options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const settings = config.gateway;
  const logger = options.logger ?? createLogger('gateway', config.logLevel);
  const metrics = createGatewayMetrics();
  const supergraph = loadSupergraph(config, options);
  const urls = new Map(supergraph.subgraphs.map((s) => [s.name, s.url]));
  const authUrl = options.authUrl ?? settings.authUrl ?? accountsBaseUrl(supergraph.subgraphs);
  const dedup = options.dedup !== false;

  // One keep-alive pool for all subgraph traffic.
  const dispatcher = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 256 });
  const dataSources = new Map<string, SubgraphFetcher>();
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.sdl,
    logger: logger.child({ component: 'apollo-gateway' }),
    buildService: ({ name, url }) => {
      const fetcher = new SubgraphFetcher({ name, url: urls.get(name) ?? url!, dispatcher, timeoutMs: settings.subgraphTimeoutMs, dedup, metrics });
      dataSources.set(name, fetcher);
      return fetcher;
    },
  });
  if (options.singleFetch ?? settings.singleFetch) {
    installSingleFetchFastPath({ gateway, dataSources, onOutcome: (path) => metrics.execution.inc({ path }) });
  }

  const limits = operationLimits({
    maxDepth: settings.maxDepth,
    maxCost: settings.maxCost,
    maxAliases: settings.maxAliases,
    maxTokens: settings.maxTokens,
    maxFields: settings.maxFields,
  });
  // Field usage for schema checks and admins: counted per request, sent to accounts once a minute.
  const usage = settings.schemaUsage && authUrl ? new UsageRecorder() : undefined;
  const usageFlusher = usage && authUrl
    ? createUsageFlusher({ aggregator: usage.aggregator, target: { secret: config.internalSecret, audience: 'accounts', baseUrl: authUrl }, logger: logger.child({ component: 'schema-usage' }), registry: metrics.registry, intervalMs: settings.schemaUsageFlushMs })
    : undefined;
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: logger.child({ component: 'apollo-server' }),
    nodeEnv: config.production ? 'production' : 'development',
    introspection: true, // gated per caller by introspectionPlugin
    persistedQueries: apq(),
    // graphql-js's quadratic overlapping-fields rule cannot be taken out of Apollo's validation, so
    // limits.plugins validates instead (bounded time, same rules otherwise) before any execution.
    dangerouslyDisableValidation: true,
    parseOptions: limits.parseOptions,
    plugins: [...(limits.plugins as ApolloServerPlugin<GatewayContext>[]), introspectionPlugin({ production: config.production }), operationResolutionPlugin(), operationFactsPlugin(), operationLabelsPlugin(metrics), loggingPlugin(logger), ...(usage ? [usage.plugin<GatewayContext>()] : []), ApolloServerPluginLandingPageDisabled()], // browsers get GraphiQL from ui/ (Apollo's page loads from a CDN)
    formatError: createErrorFormatter({ production: config.production }),
    // Never, in any mode: internal details are logged (with the request id), never returned.
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // gateway/main.ts and the launcher own shutdown (drain, then exit); Apollo's own handler would race them.
    stopOnTerminationSignals: false,
  });
  await apollo.start();

  const redis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false }) : undefined;
  redis?.on('error', (err) => logger.warn({ err }, 'redis error (rate limits fall back to in-process)'));
  // Give Redis a moment to connect so the first requests already share limits; a Redis that is
  // down does not stop the gateway (the in-process insurance limiter covers until it is back).
  if (redis && !(await redisReady(redis, 2000))) logger.warn('redis not ready after 2 s; rate limits are per process until it connects');
  if (settings.territoryHeader && settings.trustedProxies.length === 0) {
    logger.warn({ header: settings.territoryHeader }, 'FOLIO_GATEWAY_TERRITORY_HEADER is ignored without FOLIO_GATEWAY_TRUSTED_PROXIES (no caller has a territory)');
  }
  const responseCache = options.responseCache === false ? undefined : createResponseCache({ metrics });
  const cachePurger = responseCache
    ? createCachePurger({
        cache: responseCache,
        logger: logger.child({ component: 'cache-purge' }),
        metrics,
        redis,
        channel: settings.cachePurgeChannel,
        eventsUrl: options.cacheEvents === false ? undefined : subgraphBaseUrl(supergraph.subgraphs, 'catalog'),
        secret: config.internalSecret,
      })
    : undefined;
  cachePurger?.start();
  const shedder = createLoadShedder({ maxInFlight: settings.maxInFlight, maxEventLoopLagMs: settings.maxEventLoopLagMs, metrics });
  const admission = createAdmission({
    maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
    maxInFlightPerClient: settings.maxInFlightPerClient,
    maxInFlightPerAddress: settings.maxInFlightPerAddress,
    bodyTimeoutMs: settings.bodyTimeoutMs,
    minBodyBytesPerSecond: settings.minBodyBytesPerSecond,
    isTrustedProxy: settings.trustedProxies.length > 0 ? trustedMatcher(settings.trustedProxies) : undefined,
    metrics,
  });
  // Node's own limits (EDGE_SERVER_OPTIONS) are the backstop behind admission.ts; a whole request
  // within FOLIO_GATEWAY_REQUEST_TIMEOUT_MS (a 24 MiB upload at the minimum body rate needs about
  // 50 min, so staff uploads on slow lines need it raised).
  const server = http.createServer({ ...EDGE_SERVER_OPTIONS, requestTimeout: settings.requestTimeoutMs });
  const edge = trackLifecycle(server);
  const isDraining = edge.isDraining;
  const health = createHealthCheck({ subgraphs: supergraph.subgraphs, dispatcher, secret: config.internalSecret });
  const opsOptions = { service: 'gateway', registry: metrics.registry, readiness: () => health.readiness(), isDraining, token: config.opsToken };

  const auth = createAuthenticator({ secret: config.internalSecret, authUrl, cacheSeconds: settings.authCacheSeconds });
  const clientAddress = createClientAddressResolver({ trustedProxies: settings.trustedProxies });
  const territory = createTerritoryResolver({ trustedProxies: settings.trustedProxies, header: settings.territoryHeader });
  const rateLimiter = createRateLimiter({ user: settings.rateLimitUser, address: settings.rateLimitAddress, redis, metrics });
  // The one stage list every transport runs (pipeline.ts); checked here, before listening.
  const pipeline = createPipeline({
    edge: { isDraining, clientAddress, territory, auth, rateLimiter, shedder },
    http: {
      apollo,
      secret: config.internalSecret,
      maxBodyBytes: settings.maxBodyBytes,
      maxStaffBodyBytes: settings.maxStaffBodyBytes,
      admission,
      trustedDocuments: createTrustedDocuments({ load: loadFromAccounts(config.internalSecret, authUrl) }),
      dedup: dedup ? createInflightDedup() : undefined,
      responseCache,
      cachePurger,
      usage,
      metrics,
    },
  });
  const handler = createRequestHandler({
    pipeline,
    graphqlPath: '/graphql',
    varyOn: settings.territoryHeader && settings.trustedProxies.length > 0 ? settings.territoryHeader : undefined,
    ops: createOpsEndpoints({ ...opsOptions, operational: settings.opsPort === undefined }),
    logger,
    ui: createUiRoutes({ graphiql: settings.graphiql }),
  });
  usageFlusher?.start();

  // WebSocket (graphql-ws) and SSE (graphql-sse) subscriptions on the same path: gateway/subscriptions/.
  const subscriptions = startSubscriptions({
    server,
    path: '/graphql',
    apollo,
    secret: config.internalSecret,
    ugcUrl: subgraphBaseUrl(supergraph.subgraphs, 'ugc'),
    catalogUrl: subgraphBaseUrl(supergraph.subgraphs, 'catalog'),
    auth,
    clientAddress,
    territory,
    rateLimiter,
    pipeline,
    metrics,
    logger,
    isDraining,
    redis,
    channel: settings.subscriptions.channel,
    limits: { ...settings.subscriptions, maxTokens: settings.maxTokens, maxDocumentBytes: settings.maxBodyBytes, maxBodyBytes: settings.maxBodyBytes, bodyRate: admission.bodyRate, recheckMs: Math.max(1, settings.authCacheSeconds) * 1000 },
  });
  server.on('request', (req, res) => (subscriptions?.sse.matches(req) ? subscriptions.sse.handle(req, res) : handler(req, res)));
  server.on('connection', (socket) => admission.onConnection(socket));
  const port = await listen(server, config.gatewayPort, config.host);
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/graphql`;
  const opsServer = settings.opsPort === undefined ? undefined : await listenOps(settings.opsPort, config.host, createOpsEndpoints(opsOptions));
  const opsUrl = opsServer ? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${opsServer.port}` : url.replace(/\/graphql$/, '');
  logger.info({ url, opsUrl, subgraphs: supergraph.subgraphs, authUrl }, 'gateway ready');

  async function drain(): Promise<void> {
    // Long-lived streams would hold the drain to its timeout: close them first (1001, clients reconnect elsewhere).
    await subscriptions?.stop();
    await edge.drain(options.drainTimeoutMs ?? 10_000);
    await opsServer?.edge.drain(0);
    shedder.close();
    await cachePurger?.stop();
    await usageFlusher?.stop();
    await apollo.stop();
    await dispatcher.close();
    redis?.disconnect();
    logger.info('gateway stopped');
  }
  let stopped: Promise<void> | undefined;

  return {
    url,
    port,
    opsUrl,
    stop() {
      return (stopped ??= drain());
    },
  };
}

/** The operational endpoints' own listener (FOLIO_GATEWAY_OPS_PORT): nothing else is served there. */
async function listenOps(port: number, host: string, ops: OpsEndpoints): Promise<{ port: number; edge: Lifecycle }> {
  const server = http.createServer({ ...EDGE_SERVER_OPTIONS, requestTimeout: 30_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    ops.handle(req, res, path).then(
      (handled) => handled || sendError(res, notFoundRoute()),
      (error: unknown) => sendError(res, error),
    );
  });
  const edge = trackLifecycle(server);
  return { port: await listen(server, port, host), edge };
}

function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = (): void => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}
