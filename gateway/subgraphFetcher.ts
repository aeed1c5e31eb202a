/**
 * Private to the gateway: how the gateway talks to subgraphs. Replaces RemoteGraphQLDataSource's
 * make-fetch-happen/node-fetch stack (a Request object, a Headers copy and a cache lookup per
 * fetch) with one keep-alive undici Agent, and adds:
 * - the caller's identity signed for this subgraph and this exact request (once per HTTP call), the
 *   request id and W3C trace context (never a client's own headers; a shared fetch carries the
 *   trace context of the request that started it);
 * - a per-subgraph timeout, and a clear error (without internal URLs) when a subgraph is down,
 *   answered as a GraphQL response whose errors carry the paths of the fields left null
 *   (fetchFailure.ts), so clients learn which fields failed and the fast path and
 *   executeQueryPlan report it identically;
 * - deduplication of identical in-flight query fetches for the same identity (never mutations):
 *   one HTTP call answers all of them, with byte-identical input, so results cannot differ;
 * - per-subgraph latency metrics, and cache-control hints folded into the operation's policy
 *   (as the stock data source does) so the response cache sees subgraph @cacheControl hints.
 */
import { STATUS_CODES } from 'node:http';
import { GraphQLError } from 'graphql';
import { isClientErrorCode } from '../lib/errors.js';
import type { Dispatcher } from 'undici';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { CACHE_PURGE_HEADER, CACHE_TAGS_HEADER, parseTags } from '../lib/cacheTags.js';
import type { GatewayContext } from './context.js';
import { failedFetch } from './fetchFailure.js';
import type { GatewayMetrics } from './plugins/metrics.js';

export interface SubgraphFetcherOptions {
  readonly name: string;
  readonly url: string;
  readonly dispatcher: Dispatcher;
  /** Per-request timeout (headers and body each). */
  readonly timeoutMs: number;
  /** Share identical in-flight query fetches. @default true */
  readonly dedup?: boolean;
  readonly metrics?: GatewayMetrics;
}

interface RawResult {
  readonly status: number;
  readonly cacheControl: string | undefined;
  readonly body: string;
  /** Cache tags and purges (lib/cacheTags.ts) and when the fetch was sent (performance.now). */
  readonly cacheTags?: string | undefined;
  readonly cachePurge?: string | undefined;
  readonly sentAt?: number;
}

export class SubgraphFetcher implements GraphQLDataSource<GatewayContext> {
  private readonly origin: string;
  private readonly path: string;
  private readonly inFlight = new Map<string, Promise<RawResult>>();

  constructor(private readonly options: SubgraphFetcherOptions) {
    const url = new URL(options.url);
    this.origin = url.origin;
    this.path = `${url.pathname}${url.search}`;
  }

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    if (!request.query) throw new Error('Missing query');
    const context = options.kind === 'incoming operation' ? options.context : undefined;
    const document = options.kind === 'incoming operation' ? options.document : undefined;
    // The fast path already fetched this and hands it over once (singleFetch.ts): answer with it.
    const prefetched = context?.facts.prefetched;
    if (prefetched && prefetched.serviceName === this.options.name) {
      delete context.facts.prefetched;
      if ('error' in prefetched) throw prefetched.error;
      return prefetched.response;
    }
    const body = JSON.stringify({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
      ...(request.extensions ? { extensions: request.extensions } : {}),
    });
    const dedupable = this.options.dedup !== false && context !== undefined && !/^\s*(mutation|subscription)\b/.test(request.query);
    let raw: RawResult;
    try {
      raw = dedupable ? await this.shared(`${context.identityKey}\n${body}`, body, context) : await this.send(body, context);
    } catch (error) {
      if (error instanceof GraphQLError) return failedFetch(error, request, document);
      throw error;
    }

    if (raw.status < 200 || raw.status >= 300) {
      // A subgraph refusing the request itself (e.g. a variable its custom scalar rejects) answers
      // 4xx with GraphQL errors that already carry a client-safe code: pass those on, mask the rest.
      const refused = raw.status >= 400 && raw.status < 500 ? clientErrorsOf(raw.body) : null;
      if (!refused) return failedFetch(this.httpError(raw), request, document);
      return { data: null, errors: refused } as GatewayGraphQLResponse;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.body);
    } catch {
      return failedFetch(this.unavailable('returned a response that is not JSON'), request, document);
    }
    if (parsed === null || typeof parsed !== 'object') return failedFetch(this.unavailable('returned a response that is not a JSON object'), request, document);
    if (options.kind === 'incoming operation') {
      const policy = options.incomingRequestContext.overallCachePolicy;
      if (policy && 'restrict' in policy) policy.restrict(parseCacheControl(raw.cacheControl));
      // Tags that cannot be read cannot be purged: then the answer must not be cached at all.
      if (!foldCacheTags(options.context.facts, raw) && policy && 'restrict' in policy) policy.restrict({ maxAge: 0 });
    }
    return parsed as GatewayGraphQLResponse;
  }

  private shared(key: string, body: string, context: GatewayContext): Promise<RawResult> {
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.send(body, context).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    } else {
      this.options.metrics?.dedupJoined.inc({ stage: 'subgraph' });
    }
    return pending;
  }

  private async send(body: string, context: GatewayContext | undefined): Promise<RawResult> {
    const started = performance.now();
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    // Encoded once: the signature hashes the bytes that are sent (hashing the string, then sending
    // it, encoded a 5.5 MB upload twice on the event loop).
    const bytes = Buffer.from(body, 'utf8');
    if (context) {
      Object.assign(headers, context.traceHeaders, context.sign({ audience: this.options.name, method: 'POST', pathAndQuery: this.path, body: bytes }));
      headers['x-request-id'] = context.requestId;
    }
    let outcome = 'ok';
    try {
      const response = await this.options.dispatcher.request({
        origin: this.origin,
        path: this.path,
        method: 'POST',
        headers,
        body: bytes,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
      });
      const text = await response.body.text();
      const cacheControl = response.headers['cache-control'];
      const cacheTags = response.headers[CACHE_TAGS_HEADER];
      const cachePurge = response.headers[CACHE_PURGE_HEADER];
      return {
        status: response.statusCode,
        cacheControl: Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl,
        body: text,
        cacheTags: Array.isArray(cacheTags) ? cacheTags.join(' ') : cacheTags,
        cachePurge: Array.isArray(cachePurge) ? cachePurge.join(' ') : cachePurge,
        sentAt: started,
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      outcome = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' ? 'timeout' : 'unreachable';
      throw this.unavailable(outcome === 'timeout' ? `did not answer within ${this.options.timeoutMs} ms` : 'is unreachable');
    } finally {
      this.options.metrics?.subgraphDuration.observe({ subgraph: this.options.name, outcome }, (performance.now() - started) / 1000);
    }
  }

  private unavailable(what: string): GraphQLError {
    return new GraphQLError(`Subgraph "${this.options.name}" ${what}.`, {
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: this.options.name },
    });
  }

  // RemoteGraphQLDataSource.errorFromResponse's shape minus the subgraph's URL and body: a non-2xx
  // body can be a proxy's HTML page or a stack trace, so it goes to the logs (as originalError), not
  // to the client.
  private httpError(raw: RawResult): GraphQLError {
    const statusText = STATUS_CODES[raw.status] ?? '';
    // 502/503/504: a proxy in front of the subgraph, or the subgraph shedding load or draining.
    const code = raw.status === 401 ? 'UNAUTHENTICATED' : raw.status === 403 ? 'FORBIDDEN' : raw.status >= 502 && raw.status <= 504 ? 'SERVICE_UNAVAILABLE' : undefined;
    return new GraphQLError(`${raw.status}: ${statusText}`, {
      extensions: { ...(code ? { code } : {}), serviceName: this.options.name, response: { status: raw.status, statusText } },
      originalError: new Error(`subgraph ${this.options.name} answered HTTP ${raw.status}: ${raw.body.slice(0, 2000)}`),
    });
  }
}

/** `max-age=60, public` → a cache hint (as @apollo/gateway's parseCacheControlHeader). */
export function parseCacheControl(header: string | undefined): { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } {
  if (!header) return { maxAge: 0 };
  const maxAge = /(?:^|,)\s*max-age=(\d+)\s*(?:,|$)/i.exec(header);
  const hint: { maxAge: number; scope?: 'PUBLIC' | 'PRIVATE' } = { maxAge: maxAge ? Number(maxAge[1]) : 0 };
  if (/(?:^|,)\s*private\s*(?:,|$)/i.test(header)) hint.scope = 'PRIVATE';
  if (/(?:^|,)\s*public\s*(?:,|$)/i.test(header)) hint.scope = 'PUBLIC';
  return hint;
}

/**
 * Folds a fetch's cache tags and purges into the request's facts, as cache-control hints fold into
 * its policy (the response cache tags the entry with the union). False when the tags are unreadable.
 */
function foldCacheTags(facts: GatewayContext['facts'], raw: RawResult): boolean {
  if (raw.sentAt !== undefined && (facts.firstFetchAt === undefined || raw.sentAt < facts.firstFetchAt)) facts.firstFetchAt = raw.sentAt;
  const purges = parseTags(raw.cachePurge);
  if (purges?.length) for (const tag of purges) (facts.cachePurges ??= new Set()).add(tag);
  const tags = parseTags(raw.cacheTags);
  if (!tags) return false;
  for (const tag of tags) (facts.cacheTags ??= new Set()).add(tag);
  return true;
}

/** The GraphQL errors of a 4xx body when every one of them carries a client-safe code; null otherwise. */
function clientErrorsOf(body: string): Array<{ message: string; extensions: { code: string } }> | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const errors = (parsed as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0 || errors.length > 100) return null;
  const safe = errors.every(
    (e) => typeof e?.message === 'string' && e.message.length <= 2_000 && isClientErrorCode(e?.extensions?.code),
  );
  return safe ? errors.map((e) => ({ message: e.message as string, extensions: { code: e.extensions.code as string } })) : null;
}
