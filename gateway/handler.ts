/**
 * Private to the gateway: the HTTP edge. One request reads as a chain:
 * route → strip internal headers → authenticate → read body (bounded in size, time and rate) →
 * admit (per-client concurrency, then global load shedding) → rate limit → trusted documents →
 * response cache → (deduplicated) execution by Apollo Server → respond.
 * Everything before execution is a map lookup or two on the hot path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { context as otelContext } from '@opentelemetry/api';
import { FolioError, isFolioError } from '../lib/errors.js';
import { declaredLength, payloadTooLarge, readBody } from '../lib/http/body.js';
import type { OpsEndpoints } from '../lib/http/ops.js';
import { isClientAbort, notFoundRoute, sendError } from '../lib/http/respond.js';
import { isStaff } from '../lib/identity.js';
import { signRequest } from '../lib/signing.js';
import type { Logger } from '../lib/logger.js';
import { identityKeyOf, type GatewayContext } from './context.js';
import { checkPersistedQueryHash } from './plugins/apq.js';
import type { Authenticator } from './plugins/auth.js';
import type { ClientAddressResolver, TerritoryResolver } from './plugins/clientAddress.js';
import type { InflightDedup, SharedResponse } from './plugins/inflightDedup.js';
import type { Admission } from './plugins/admission.js';
import type { LoadShedder } from './plugins/loadShedding.js';
import type { GatewayMetrics } from './plugins/metrics.js';
import { clientNameOf, type RateLimiter } from './plugins/rateLimit.js';
import { requestIdOf } from './plugins/requestId.js';
import { startRequestTrace } from './plugins/tracing.js';
import type { ResponseCache } from './plugins/responseCache.js';
import type { CachePurger } from './plugins/cachePurge.js';
import { usageClientOf, usageDocumentKey, type UsageRecorder } from './plugins/schemaUsage.js';
import type { GraphQLBody, TrustedDocuments } from './plugins/trustedDocuments.js';
import type { UiRoutes } from './ui/static.js';

export interface HandlerDeps {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly secret: string;
  readonly graphqlPath: string;
  /** Body limit for everyone but EDITOR/ADMIN callers. */
  readonly maxBodyBytes: number;
  /** Body limit for authenticated EDITOR/ADMIN callers (EPUB uploads). */
  readonly maxStaffBodyBytes: number;
  readonly auth: Authenticator;
  readonly clientAddress: ClientAddressResolver;
  readonly territory: TerritoryResolver;
  /** The territory header when it is honoured: answers then depend on it, so caches must vary on it. */
  readonly varyOn?: string | undefined;
  readonly rateLimiter: RateLimiter;
  readonly trustedDocuments: TrustedDocuments;
  readonly dedup: InflightDedup | undefined;
  readonly responseCache: ResponseCache | undefined;
  /** Purges the response cache (and other instances') when a mutation's subgraph asks for it. */
  readonly cachePurger?: CachePurger | undefined;
  readonly shedder: LoadShedder;
  /** Body deadline and per-client concurrency (plugins/admission.ts), before the shedder's global limit. */
  readonly admission: Admission;
  readonly metrics: GatewayMetrics;
  /** /healthz, and /readyz and /metrics unless they have a port of their own (lib/http/ops.ts). */
  readonly ops: OpsEndpoints;
  readonly logger: Logger;
  readonly isDraining: () => boolean;
  /** Field usage recording (plugins/schemaUsage.ts); off when undefined. */
  readonly usage?: UsageRecorder | undefined;
  /** GraphiQL at GET /graphql for browsers, the console at /admin (ui/static.ts). */
  readonly ui?: UiRoutes | undefined;
}

/** Client headers Apollo Server needs (content negotiation, CSRF); nothing else reaches it. */
const FORWARDED = ['content-type', 'accept', 'apollo-require-preflight', 'x-apollo-operation-name'] as const;

// One writeHead with a flat [name, value, …] list: no per-header validation and map entry as with
// setHeader (the request id, set early with setHeader, is merged by Node).
function send(res: ServerResponse, status: number, headers: Iterable<readonly [string, string]>, body: string | Buffer): void {
  const flat: string[] = [];
  for (const [name, value] of headers) if (name !== 'content-length') flat.push(name, value);
  // writeHead stores the head at once, so Node cannot add content-length at end(): say it here (no chunking).
  flat.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
  res.writeHead(status, flat);
  res.end(body);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new FolioError('BAD_USER_INPUT', `${what} is not valid JSON.`);
  }
}

function bodyFromSearch(search: URLSearchParams): GraphQLBody {
  const body: GraphQLBody = {};
  for (const name of ['query', 'operationName', 'documentId'] as const) {
    const value = search.get(name);
    if (value !== null) body[name] = value;
  }
  for (const name of ['variables', 'extensions'] as const) {
    const value = search.get(name);
    if (value !== null) body[name] = parseJson(value, name);
  }
  return body;
}

function searchFromBody(body: GraphQLBody): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    if (value !== undefined) search.set(name, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return search.toString();
}

function documentKeyOf(body: GraphQLBody): string {
  const hash = (body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  const source = typeof body.query === 'string' ? body.query : typeof hash === 'string' ? `#${hash}` : '';
  return `${typeof body.operationName === 'string' ? body.operationName : ''}\n${source}`;
}

export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { metrics, logger } = deps;

  async function execute(method: string, req: IncomingMessage, body: GraphQLBody, context: GatewayContext): Promise<SharedResponse> {
    const headers = new HeaderMap();
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers.set(name, value);
    }
    const result = await deps.apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search: method === 'GET' ? searchFromBody(body) : '', body: method === 'GET' ? undefined : body },
      context: async () => context,
    });
    let text: string;
    if (result.body.kind === 'complete') {
      text = result.body.string;
    } else {
      // Incremental delivery is not served through the gateway; collect it rather than fail.
      const parts: string[] = [];
      for await (const part of result.body.asyncIterator) parts.push(part);
      text = parts.join('');
    }
    return { status: result.status ?? 200, headers: [...result.headers], body: Buffer.from(text), cacheControl: result.headers.get('cache-control') };
  }

  async function serveGraphQL(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    search: string,
    traceHeaders: Readonly<Record<string, string>>,
  ): Promise<{ status: number; operation: string }> {
    const method = req.method === 'GET' ? 'GET' : 'POST';
    // The client's operation name; metrics label it only once known (lib/metrics.ts OperationLabels).
    let operation = '';
    // A declared oversize body is refused before anything else, load shedding included: it is a
    // header comparison, and the client must learn it is too large (413), not that we are busy (503).
    // Without credentials a caller cannot be staff, so the smaller limit applies already here.
    const declared = method === 'POST' ? declaredLength(req) : undefined;
    if (declared !== undefined) {
      const credentials = req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;
      const ceiling = credentials ? deps.maxStaffBodyBytes : deps.maxBodyBytes;
      if (declared > ceiling) throw payloadTooLarge(ceiling);
    }
    // Counted in flight only once admitted (body read): a slow body holds a connection, not a slot.
    let release: (() => void) | undefined;
    let shedderEntered = false;
    try {
      // Identity comes only from our own resolution, never from a client's x-folio-* headers.
      for (const name of Object.keys(req.headers)) if (name.startsWith('x-folio-')) delete req.headers[name];
      // Authenticated from headers before the body is read: the body limit depends on the caller.
      const { caller, rateLimit } = await deps.auth.authenticate(req.headers, { clientAddress: deps.clientAddress(req), territory: deps.territory(req) });
      let rawKey: string;
      let body: GraphQLBody;
      if (method === 'GET') {
        rawKey = search;
        body = bodyFromSearch(new URLSearchParams(search));
      } else {
        const maxBytes = isStaff(caller) ? deps.maxStaffBodyBytes : deps.maxBodyBytes;
        rawKey = (await readBody(req, { maxBytes, rate: deps.admission.bodyRate })).toString('utf8');
        const parsed = parseJson(rawKey, 'The request body');
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new FolioError('BAD_USER_INPUT', 'The request body must be one JSON object (batched requests are not accepted).');
        }
        body = parsed as GraphQLBody;
      }
      operation = typeof body.operationName === 'string' ? body.operationName : '';

      // The client's own share first, so shedding falls on whoever causes the load; then the global limit.
      release = deps.admission.enter(caller);
      deps.shedder.enter();
      shedderEntered = true;

      await deps.rateLimiter.consume(caller, clientNameOf(req.headers), rateLimit);
      await deps.trustedDocuments.apply(body, caller);
      checkPersistedQueryHash(body);

      const accept = req.headers.accept ?? '';
      const requestKey = `${method}\n${accept}\n${rawKey}`;
      const usage = deps.usage ? { client: usageClientOf(req.headers, caller.partnerId), documentKey: usageDocumentKey(body) } : undefined;
      const cached = deps.responseCache?.get(requestKey, caller);
      if (cached) {
        if (usage) deps.usage?.countKnown(usage);
        send(res, cached.status, [...cached.headers, ['x-cache', 'HIT']], cached.body);
        return { status: cached.status, operation };
      }

      const identityKey = identityKeyOf(caller);
      const documentKey = documentKeyOf(body);
      const run = async (): Promise<SharedResponse> => {
        const context: GatewayContext = { caller, requestId, identityKey, sign: (request) => signRequest(deps.secret, request, caller), traceHeaders, facts: {}, usage };
        const response = await execute(method, req, body, context);
        // A document's only operation needs no operationName: label it by the name Apollo resolved.
        operation ||= context.facts.operationName ?? '';
        deps.dedup?.learn(documentKey, context.facts.operationKind ?? 'unknown');
        // Before answering: the client's next request must not find what its mutation withdrew.
        const { cachePurges, cacheTags, firstFetchAt } = context.facts;
        if (cachePurges?.size) await deps.cachePurger?.purge(cachePurges, { source: 'mutation', requestId });
        deps.responseCache?.maybeStore(requestKey, caller, response, context.facts.operationKind, { tags: cacheTags ?? new Set(), oldestFetchAt: firstFetchAt });
        return response;
      };
      let response: SharedResponse;
      if (deps.dedup && deps.dedup.isKnownQuery(documentKey)) {
        const shared = await deps.dedup.run(`${identityKey}\n${requestKey}`, run);
        if (shared.joined) {
          metrics.dedupJoined.inc({ stage: 'inbound' });
          if (usage) deps.usage?.countKnown(usage);
        }
        response = shared.response;
      } else {
        response = await run();
      }
      send(res, response.status, response.headers, response.body);
      return { status: response.status, operation };
    } finally {
      if (shedderEntered) deps.shedder.leave();
      release?.();
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = requestIdOf(req.headers);
    res.setHeader('x-request-id', requestId);
    if (deps.varyOn) res.setHeader('vary', deps.varyOn);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q + 1);

    if (deps.ui?.handle(req, res, path, search)) return;
    if (path === deps.graphqlPath && (req.method === 'POST' || req.method === 'GET')) {
      const trace = startRequestTrace(req.headers);
      let status = 500;
      let operation = '';
      try {
        if (deps.isDraining()) throw new FolioError('SERVICE_UNAVAILABLE', 'The gateway is shutting down; retry.', { details: { retryAfterSeconds: 1 } });
        // Inside the request's trace context, so the engine's own spans (with an SDK) nest under ours.
        ({ status, operation } = await otelContext.with(trace.context, () => serveGraphQL(req, res, requestId, search, trace.headers)));
      } catch (error) {
        if (!isFolioError(error) && isClientAbort(error, req)) {
          logger.debug({ requestId, err: error }, 'client went away mid-request');
          status = 499; // nginx's "client closed request": no answer was sent
          res.destroy();
          return;
        }
        const folio = isFolioError(error) ? error : new FolioError('INTERNAL_SERVER_ERROR');
        if (!isFolioError(error)) logger.error({ requestId, err: error }, 'unexpected gateway error');
        metrics.errors.inc({ code: folio.code });
        status = folio.httpStatus;
        sendError(res, folio);
      } finally {
        trace.span.end();
        metrics.operations.record(operation, String(status), (performance.now() - started) / 1000);
      }
      return;
    }
    if (await deps.ops.handle(req, res, path)) return;
    sendError(res, notFoundRoute());
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (isClientAbort(error, req)) return void logger.debug({ err: error }, 'client went away mid-request');
      logger.error({ err: error }, 'request handler failed');
      sendError(res, error);
    });
  };
}
