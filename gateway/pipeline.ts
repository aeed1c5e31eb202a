/**
 * Private to the gateway: the ONE ordered list of stages every transport runs (GATEWAY_STAGES).
 *
 * Three entries run it: `http` (a GraphQL request over HTTP GET/POST, handler.ts), `connect` (a
 * graphql-ws connection or a graphql-sse stream, subscriptions/service.ts) and `subscribe` (one
 * subscribe message on such a connection). Each stage names the entries it runs on, the request
 * facts it reads and the facts it writes; the facts are one typed object (RequestFacts), not a bag
 * that a plugin fills as a side effect. createPipeline checks the list at start-up: a stage that
 * reads a fact neither its entry provides nor an earlier stage of that entry writes throws there,
 * before the gateway listens. Adding a stage is one edit: one object in GATEWAY_STAGES.
 *
 * A stage is a `step` (does its work; may answer the request and end the chain: the response
 * cache on a hit) or an `around` (wraps the rest of the chain: admission and load shedding
 * release their slot, dedup shares the rest of the chain between identical requests, metrics
 * record the outcome). An around stage may read facts after its `next()` (`readsAfterNext`), which
 * must be written by a later stage. The transport-specific tail of `connect` and `subscribe`
 * (connection and subscription caps, preparing the subscription) is the transport's terminal,
 * run after the last stage.
 *
 * With `strict` (tests) the facts object is a proxy that throws on reading an undeclared fact and on
 * writing a fact the stage did not declare: a declaration cannot silently drift from the code.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer } from '@apollo/server';
import { context as otelContext } from '@opentelemetry/api';
import type { OperationTypeNode } from 'graphql';
import { FolioError, isFolioError } from '../lib/errors.js';
import { declaredLength, payloadTooLarge, readBody } from '../lib/http/body.js';
import { isClientAbort } from '../lib/http/respond.js';
import { isStaff, type Caller } from '../lib/identity.js';
import type { RateSpec } from '../lib/config.js';
import { signRequest } from '../lib/signing.js';
import { identityKeyOf, type GatewayContext } from './context.js';
import type { Admission } from './plugins/admission.js';
import { checkPersistedQueryHash } from './plugins/apq.js';
import type { Authenticator, CallerOrigin } from './plugins/auth.js';
import type { CachePurger } from './plugins/cachePurge.js';
import type { ClientAddressResolver, TerritoryResolver } from './plugins/clientAddress.js';
import type { InflightDedup, SharedResponse } from './plugins/inflightDedup.js';
import type { LoadShedder } from './plugins/loadShedding.js';
import type { GatewayMetrics } from './plugins/metrics.js';
import { clientNameOf, type RateLimiter } from './plugins/rateLimit.js';
import type { ResponseCache } from './plugins/responseCache.js';
import { usageClientOf, usageDocumentKey, type UsageFacts, type UsageRecorder } from './plugins/schemaUsage.js';
import { startRequestTrace } from './plugins/tracing.js';
import type { GraphQLBody, TrustedDocuments } from './plugins/trustedDocuments.js';

export type Entry = 'http' | 'connect' | 'subscribe';

/** Everything a stage may know about one request (HTTP), connection (connect) or subscribe message. */
export interface RequestFacts {
  // Provided by the transport (see PROVIDED).
  readonly entry: Entry;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  /** The URL's query string (HTTP GET carries the operation there). */
  readonly search: string;
  /** graphql-ws `connectionParams` (browsers cannot set headers on a WebSocket). */
  readonly connectionParams: Readonly<Record<string, unknown>> | undefined;
  // Written by stages.
  /** W3C trace context for subgraph requests (trace). */
  traceHeaders: Readonly<Record<string, string>>;
  method: 'GET' | 'POST';
  /** Client address and territory (clientAddress). */
  origin: CallerOrigin;
  /** The client application's claimed name, a bounded label (clientAddress). */
  clientName: string;
  /** The credential headers, and only those a caller may send (credentials). */
  credentials: IncomingHttpHeaders;
  caller: Caller;
  /** A partner key's own budget (authenticate). */
  rateLimit: RateSpec | undefined;
  body: GraphQLBody;
  /** The body as received (POST) or the query string (GET): part of requestKey. */
  rawKey: string;
  /** The operation's label for metrics: the client's operationName, then the one Apollo resolved (execute). */
  operation: string;
  /** Keys of shared work (requestKeys). */
  requestKey: string;
  identityKey: string;
  documentKey: string;
  usage: UsageFacts | undefined;
  /** The operation Apollo resolved (execute: the operationFacts plugin, plugins/operationFacts.ts). */
  operationKind: OperationTypeNode | undefined;
  operationName: string | null | undefined;
  /** Folded from subgraph responses during execution (subgraphFetcher.ts). */
  cacheFacts: { readonly tags: ReadonlySet<string>; readonly purges: ReadonlySet<string> | undefined; readonly firstFetchAt: number | undefined };
  /** The answer (response cache hit, dedup's shared run, or execute). */
  response: SharedResponse;
}

export type FactName = keyof RequestFacts;

/** What each entry's transport puts in the facts before the first stage. */
export const PROVIDED: Readonly<Record<Entry, readonly FactName[]>> = {
  http: ['entry', 'req', 'res', 'requestId', 'search'],
  connect: ['entry', 'req', 'connectionParams'],
  // A subscribe message runs with its connection's facts.
  subscribe: ['entry', 'req', 'origin', 'clientName', 'credentials', 'caller', 'rateLimit'],
};

/** Facts a stage declared it reads are present; the rest may be. */
export type Known<R extends FactName> = Partial<RequestFacts> & { [K in R]: RequestFacts[K] };

/** Returned by a step that answered the request: the chain ends there. */
export const ANSWERED = Symbol('answered');

interface StageBase<R extends FactName> {
  readonly name: string;
  readonly on: readonly Entry[];
  readonly reads: readonly R[];
  readonly writes: readonly FactName[];
}
export interface StepStage<R extends FactName = FactName> extends StageBase<R> {
  readonly kind: 'step';
  run(facts: Known<R>, env: PipelineEnv): void | typeof ANSWERED | Promise<void | typeof ANSWERED>;
}
export interface AroundStage<R extends FactName = FactName> extends StageBase<R> {
  readonly kind: 'around';
  /** Facts read after next() returns: written by a later stage. */
  readonly readsAfterNext?: readonly FactName[];
  run(facts: Known<R>, env: PipelineEnv, next: () => Promise<void>): Promise<void>;
}
export type Stage = StepStage<never> | AroundStage<never>;

/** Declares a stage with its reads typed (the run function sees them as present). */
export function step<R extends FactName>(stage: Omit<StepStage<R>, 'kind'>): Stage {
  return { kind: 'step', ...stage } as unknown as Stage;
}
export function around<R extends FactName>(stage: Omit<AroundStage<R>, 'kind'>): Stage {
  return { kind: 'around', ...stage } as unknown as Stage;
}

/** What stages shared by every transport need. */
export interface EdgeEnv {
  readonly isDraining: () => boolean;
  readonly clientAddress: ClientAddressResolver;
  readonly territory: TerritoryResolver;
  readonly auth: Authenticator;
  readonly rateLimiter: RateLimiter;
  /** Global load shedding (plugins/loadShedding.ts); none: nothing is shed. */
  readonly shedder?: LoadShedder | undefined;
}

/** What the HTTP-only stages need. */
export interface HttpEnv {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly secret: string;
  /** Body limit for everyone but EDITOR/ADMIN callers. */
  readonly maxBodyBytes: number;
  /** Body limit for authenticated EDITOR/ADMIN callers (EPUB uploads). */
  readonly maxStaffBodyBytes: number;
  /** Body deadline and per-client concurrency (plugins/admission.ts), before the shedder's global limit. */
  readonly admission: Admission;
  readonly trustedDocuments: TrustedDocuments;
  readonly responseCache?: ResponseCache | undefined;
  /** Purges the response cache (and other instances') when a mutation's subgraph asks for it. */
  readonly cachePurger?: CachePurger | undefined;
  readonly dedup?: InflightDedup | undefined;
  /** Field usage recording (plugins/schemaUsage.ts); off when undefined. */
  readonly usage?: UsageRecorder | undefined;
  readonly metrics: GatewayMetrics;
}

export interface PipelineEnv {
  readonly edge: EdgeEnv;
  /** Without it the pipeline serves only `connect` and `subscribe`. */
  readonly http?: HttpEnv | undefined;
}

const http = (env: PipelineEnv): HttpEnv => env.http!;

/** Client headers Apollo Server needs (content negotiation, CSRF); nothing else reaches it. */
const FORWARDED = ['content-type', 'accept', 'apollo-require-preflight', 'x-apollo-operation-name'] as const;
const CREDENTIAL = /^[\x21-\x7e ]{1,2100}$/;

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

/**
 * The credential of a connection: graphql-ws clients send it in `connectionParams`
 * (`{ authorization: "Bearer …" }`); SSE and native clients may use the headers.
 */
function connectionCredentials(req: IncomingMessage, params: Readonly<Record<string, unknown>> | undefined): IncomingHttpHeaders {
  const pick = (name: string): string | undefined => {
    const fromParams = params?.[name] ?? params?.[name === 'authorization' ? 'Authorization' : name];
    if (typeof fromParams === 'string' && CREDENTIAL.test(fromParams)) return fromParams;
    const header = req.headers[name];
    return typeof header === 'string' ? header : undefined;
  };
  const headers: IncomingHttpHeaders = {};
  const authorization = pick('authorization');
  const apiKey = pick('x-api-key');
  if (authorization !== undefined) headers.authorization = authorization;
  if (apiKey !== undefined) headers['x-api-key'] = apiKey;
  return headers;
}

/** HTTP status of a failed request (499: the client went away, no answer was sent). */
export function statusOfFailure(error: unknown, req: IncomingMessage): number {
  if (!isFolioError(error) && isClientAbort(error, req)) return 499;
  return isFolioError(error) ? error.httpStatus : 500;
}

/** The stages, in order. Each runs on the entries in `on`; see the module comment. */
export const GATEWAY_STAGES: readonly Stage[] = [
  around<'req'>({
    name: 'trace',
    on: ['http'],
    reads: ['req'],
    writes: ['traceHeaders'],
    // An OpenTelemetry span per request; the rest runs inside its context so the engine's spans nest.
    async run(facts, _env, next) {
      const trace = startRequestTrace(facts.req.headers);
      facts.traceHeaders = trace.headers;
      try {
        await otelContext.with(trace.context, next);
      } finally {
        trace.span.end();
      }
    },
  }),
  around<'req'>({
    name: 'metrics',
    on: ['http'],
    reads: ['req'],
    writes: [],
    readsAfterNext: ['operation', 'response'],
    // Requests, latency and status per operation label; errors by code.
    async run(facts, env, next) {
      const { metrics } = http(env);
      const started = performance.now();
      let status = 500;
      // A failed request is labelled anonymous: its operation name came from the client alone.
      let operation = '';
      try {
        await next();
        status = facts.response?.status ?? 500;
        operation = facts.operation ?? '';
      } catch (error) {
        status = statusOfFailure(error, facts.req);
        if (status !== 499) metrics.errors.inc({ code: isFolioError(error) ? error.code : 'INTERNAL_SERVER_ERROR' });
        throw error;
      } finally {
        metrics.operations.record(operation, String(status), (performance.now() - started) / 1000);
      }
    },
  }),
  step({
    name: 'draining',
    on: ['http', 'connect'],
    reads: [],
    writes: [],
    run(_facts, env) {
      if (env.edge.isDraining()) throw new FolioError('SERVICE_UNAVAILABLE', 'The gateway is shutting down; retry.', { details: { retryAfterSeconds: 1 } });
    },
  }),
  step<'req'>({
    name: 'declaredBodySize',
    on: ['http'],
    reads: ['req'],
    writes: ['method'],
    // A declared oversize body is refused before anything else, load shedding included: it is a
    // header comparison, and the client must learn it is too large (413), not that we are busy (503).
    // Without credentials a caller cannot be staff, so the smaller limit applies already here.
    run(facts, env) {
      const { req } = facts;
      const method = req.method === 'GET' ? 'GET' : 'POST';
      facts.method = method;
      const declared = method === 'POST' ? declaredLength(req) : undefined;
      if (declared !== undefined) {
        const credentials = req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;
        const ceiling = credentials ? http(env).maxStaffBodyBytes : http(env).maxBodyBytes;
        if (declared > ceiling) throw payloadTooLarge(ceiling);
      }
    },
  }),
  step<'req'>({
    name: 'internalHeaders',
    on: ['http'],
    reads: ['req'],
    writes: [],
    // Identity comes only from our own resolution, never from a client's x-folio-* headers.
    run({ req }) {
      for (const name of Object.keys(req.headers)) if (name.startsWith('x-folio-')) delete req.headers[name];
    },
  }),
  step<'req'>({
    name: 'clientAddress',
    on: ['http', 'connect'],
    reads: ['req'],
    writes: ['origin', 'clientName'],
    run(facts, env) {
      const { req } = facts;
      facts.origin = { clientAddress: env.edge.clientAddress(req), territory: env.edge.territory(req) };
      facts.clientName = clientNameOf(req.headers);
    },
  }),
  step<'entry' | 'req'>({
    name: 'credentials',
    on: ['http', 'connect'],
    reads: ['entry', 'req'],
    writes: ['credentials'],
    run(facts) {
      facts.credentials = facts.entry === 'http' ? facts.req.headers : connectionCredentials(facts.req, facts.connectionParams);
    },
  }),
  step<'credentials' | 'origin'>({
    name: 'authenticate',
    on: ['http', 'connect'],
    reads: ['credentials', 'origin'],
    writes: ['caller', 'rateLimit'],
    // From headers, before the body is read: the body limit depends on the caller.
    async run(facts, env) {
      const { caller, rateLimit } = await env.edge.auth.authenticate(facts.credentials, facts.origin);
      facts.caller = caller;
      facts.rateLimit = rateLimit;
    },
  }),
  step<'caller'>({
    name: 'signedInUser',
    on: ['connect'],
    reads: ['caller'],
    writes: [],
    // Partner keys and anonymous callers have no sync feed.
    run({ caller }) {
      if (caller.partnerId) throw new FolioError('FORBIDDEN', 'Live updates are for readers’ own devices, not partner keys.');
      if (!caller.userId) throw new FolioError('UNAUTHENTICATED', 'Sign in to receive live updates (connectionParams.authorization: "Bearer <token>").');
    },
  }),
  step<'req' | 'method' | 'search' | 'caller'>({
    name: 'readBody',
    on: ['http'],
    reads: ['req', 'method', 'search', 'caller'],
    writes: ['body', 'rawKey', 'operation'],
    // Bounded in size (by caller), time and rate; one JSON object.
    async run(facts, env) {
      if (facts.method === 'GET') {
        facts.rawKey = facts.search;
        facts.body = bodyFromSearch(new URLSearchParams(facts.search));
      } else {
        const maxBytes = isStaff(facts.caller) ? http(env).maxStaffBodyBytes : http(env).maxBodyBytes;
        const raw = (await readBody(facts.req, { maxBytes, rate: http(env).admission.bodyRate })).toString('utf8');
        facts.rawKey = raw;
        const parsed = parseJson(raw, 'The request body');
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new FolioError('BAD_USER_INPUT', 'The request body must be one JSON object (batched requests are not accepted).');
        }
        facts.body = parsed as GraphQLBody;
      }
      // The client's operation name; metrics label it only once known (lib/metrics.ts OperationLabels).
      facts.operation = typeof facts.body.operationName === 'string' ? facts.body.operationName : '';
    },
  }),
  around<'caller'>({
    name: 'admission',
    on: ['http'],
    reads: ['caller'],
    writes: [],
    // The client's own share first, so shedding falls on whoever causes the load. Counted only once
    // the body is read: a slow body holds a connection, not a slot.
    async run(facts, env, next) {
      const release = http(env).admission.enter(facts.caller);
      try {
        await next();
      } finally {
        release();
      }
    },
  }),
  around({
    name: 'loadShedding',
    on: ['http', 'connect', 'subscribe'],
    reads: [],
    writes: [],
    // The global limit: SERVICE_OVERLOADED (HTTP 503; WebSocket close 1013 at connect).
    async run(_facts, env, next) {
      const shedder = env.edge.shedder;
      if (!shedder) return next();
      shedder.enter();
      try {
        await next();
      } finally {
        shedder.leave();
      }
    },
  }),
  step<'caller' | 'clientName' | 'rateLimit'>({
    name: 'rateLimit',
    on: ['http', 'connect', 'subscribe'],
    reads: ['caller', 'clientName', 'rateLimit'],
    writes: [],
    // One point per request, connection and subscribe message.
    async run(facts, env) {
      await env.edge.rateLimiter.consume(facts.caller, facts.clientName, facts.rateLimit);
    },
  }),
  step<'body' | 'caller'>({
    name: 'trustedDocuments',
    on: ['http'],
    reads: ['body', 'caller'],
    writes: ['body'],
    async run(facts, env) {
      await http(env).trustedDocuments.apply(facts.body, facts.caller);
    },
  }),
  step<'body'>({
    name: 'persistedQueryHash',
    on: ['http'],
    reads: ['body'],
    writes: [],
    run(facts) {
      checkPersistedQueryHash(facts.body);
    },
  }),
  step<'req' | 'method' | 'rawKey' | 'body' | 'caller'>({
    name: 'requestKeys',
    on: ['http'],
    reads: ['req', 'method', 'rawKey', 'body', 'caller'],
    writes: ['requestKey', 'identityKey', 'documentKey', 'usage'],
    // The keys shared work is found under: the request (cache, dedup), the caller, the document.
    run(facts, env) {
      facts.requestKey = `${facts.method}\n${facts.req.headers.accept ?? ''}\n${facts.rawKey}`;
      facts.identityKey = identityKeyOf(facts.caller);
      facts.documentKey = documentKeyOf(facts.body);
      facts.usage = http(env).usage ? { client: usageClientOf(facts.req.headers, facts.caller.partnerId), documentKey: usageDocumentKey(facts.body) } : undefined;
    },
  }),
  step<'requestKey' | 'caller' | 'usage'>({
    name: 'responseCache',
    on: ['http'],
    reads: ['requestKey', 'caller', 'usage'],
    writes: ['response'],
    run(facts, env) {
      const cached = http(env).responseCache?.get(facts.requestKey, facts.caller);
      if (!cached) return;
      if (facts.usage) http(env).usage?.countKnown(facts.usage);
      facts.response = { ...cached, headers: [...cached.headers, ['x-cache', 'HIT']] };
      return ANSWERED;
    },
  }),
  around<'documentKey' | 'identityKey' | 'requestKey' | 'usage'>({
    name: 'dedup',
    on: ['http'],
    reads: ['documentKey', 'identityKey', 'requestKey', 'usage'],
    writes: ['response'],
    readsAfterNext: ['response'],
    // Identical in-flight queries of the same identity share one run of the rest of the chain.
    async run(facts, env, next) {
      const { dedup, metrics, usage } = http(env);
      if (!dedup || !dedup.isKnownQuery(facts.documentKey)) return next();
      const shared = await dedup.run(`${facts.identityKey}\n${facts.requestKey}`, async () => {
        await next();
        return facts.response!;
      });
      if (shared.joined) {
        metrics.dedupJoined.inc({ stage: 'inbound' });
        if (facts.usage) usage?.countKnown(facts.usage);
      }
      facts.response = shared.response;
    },
  }),
  step<'req' | 'method' | 'body' | 'caller' | 'requestId' | 'identityKey' | 'traceHeaders' | 'usage' | 'operation'>({
    name: 'execute',
    on: ['http'],
    reads: ['req', 'method', 'body', 'caller', 'requestId', 'identityKey', 'traceHeaders', 'usage', 'operation'],
    writes: ['response', 'operation', 'operationKind', 'operationName', 'cacheFacts'],
    // Apollo Server (operation limits, validation, introspection rules, the operationFacts, labels,
    // logging and usage plugins), the query planner, signed subgraph fetches.
    async run(facts, env) {
      const { apollo, secret } = http(env);
      const { req, method, body, caller } = facts;
      const headers = new HeaderMap();
      for (const name of FORWARDED) {
        const value = req.headers[name];
        if (typeof value === 'string') headers.set(name, value);
      }
      const context: GatewayContext = {
        caller,
        requestId: facts.requestId,
        identityKey: facts.identityKey,
        sign: (request) => signRequest(secret, request, caller),
        traceHeaders: facts.traceHeaders,
        facts: {},
        usage: facts.usage,
      };
      const result = await apollo.executeHTTPGraphQLRequest({
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
      facts.response = { status: result.status ?? 200, headers: [...result.headers], body: Buffer.from(text), cacheControl: result.headers.get('cache-control') };
      // A document's only operation needs no operationName: label it by the name Apollo resolved.
      facts.operationKind = context.facts.operationKind;
      facts.operationName = context.facts.operationName;
      facts.operation ||= context.facts.operationName ?? '';
      facts.cacheFacts = { tags: context.facts.cacheTags ?? new Set(), purges: context.facts.cachePurges, firstFetchAt: context.facts.firstFetchAt };
    },
  }),
  step<'documentKey' | 'operationKind'>({
    name: 'learnOperationKind',
    on: ['http'],
    reads: ['documentKey', 'operationKind'],
    writes: [],
    // Dedup joins only documents seen to be queries.
    run(facts, env) {
      http(env).dedup?.learn(facts.documentKey, facts.operationKind ?? 'unknown');
    },
  }),
  step<'cacheFacts' | 'requestId'>({
    name: 'cachePurge',
    on: ['http'],
    reads: ['cacheFacts', 'requestId'],
    writes: [],
    // Before answering: the client's next request must not find what its mutation withdrew.
    async run(facts, env) {
      const purges = facts.cacheFacts.purges;
      if (purges?.size) await http(env).cachePurger?.purge(purges, { source: 'mutation', requestId: facts.requestId });
    },
  }),
  step<'requestKey' | 'caller' | 'response' | 'operationKind' | 'cacheFacts'>({
    name: 'responseCacheStore',
    on: ['http'],
    reads: ['requestKey', 'caller', 'response', 'operationKind', 'cacheFacts'],
    writes: [],
    run(facts, env) {
      const { tags, firstFetchAt } = facts.cacheFacts;
      http(env).responseCache?.maybeStore(facts.requestKey, facts.caller, facts.response, facts.operationKind, { tags, oldestFetchAt: firstFetchAt });
    },
  }),
];

/** Which stage refused: set on the error by the pipeline (undefined: the transport's terminal, or not an error of a stage). */
const refusedBy = new WeakMap<object, string>();
export function stageOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? refusedBy.get(error) || undefined : undefined;
}

export type Terminal = (facts: Partial<RequestFacts>) => Promise<void> | void;

export interface Pipeline {
  /** The stages `entry` runs, in order (names). */
  stagesOf(entry: Entry): readonly string[];
  /** Runs `entry`'s stages on `facts`, then `terminal`; throws what a stage or the terminal threw. */
  run(entry: Entry, facts: Partial<RequestFacts>, terminal?: Terminal): Promise<void>;
}

export interface PipelineOptions {
  /** The stage list. @default GATEWAY_STAGES */
  readonly stages?: readonly Stage[];
  /** Checks every fact read and write against the declarations at run time (tests). */
  readonly strict?: boolean;
}

/** Throws when a stage of `entry` reads a fact that neither the entry provides nor an earlier stage writes. */
export function checkStages(stages: readonly Stage[], entries: readonly Entry[] = ['http', 'connect', 'subscribe']): void {
  const names = new Set<string>();
  for (const stage of stages) {
    if (names.has(stage.name)) throw new Error(`Gateway pipeline: two stages are named "${stage.name}".`);
    names.add(stage.name);
  }
  for (const entry of entries) {
    const chain = stages.filter((s) => s.on.includes(entry));
    const known = new Set<FactName>(PROVIDED[entry]);
    chain.forEach((stage, i) => {
      for (const fact of stage.reads as readonly FactName[]) {
        if (!known.has(fact)) throw new Error(`Gateway pipeline (${entry}): stage "${stage.name}" reads "${fact}", which no earlier stage writes and the transport does not provide.`);
      }
      for (const fact of stage.writes) known.add(fact);
      if (stage.kind === 'around') {
        const later = new Set(chain.slice(i + 1).flatMap((s) => s.writes));
        for (const fact of stage.readsAfterNext ?? []) {
          if (!later.has(fact)) throw new Error(`Gateway pipeline (${entry}): stage "${stage.name}" reads "${fact}" after the rest of the chain, but no later stage writes it.`);
        }
      }
    });
  }
}

function guarded(facts: Partial<RequestFacts>, stage: Stage, entry: Entry): Partial<RequestFacts> {
  const readable = new Set<string>([...PROVIDED[entry], ...(stage.reads as readonly string[]), ...stage.writes, ...(stage.kind === 'around' ? (stage.readsAfterNext ?? []) : [])]);
  const writable = new Set<string>(stage.writes);
  return new Proxy(facts, {
    get(target, key, receiver) {
      if (typeof key === 'string' && !readable.has(key) && key in target) {
        // Optional facts may be probed (`facts.x ?? …`) only when declared; reading an undeclared one is the bug.
        throw new Error(`Gateway pipeline: stage "${stage.name}" reads "${key}" without declaring it.`);
      }
      return Reflect.get(target, key, receiver);
    },
    set(target, key, value, receiver) {
      if (typeof key === 'string' && !writable.has(key)) throw new Error(`Gateway pipeline: stage "${stage.name}" writes "${key}" without declaring it.`);
      return Reflect.set(target, key, value, receiver);
    },
  });
}

export function createPipeline(env: PipelineEnv, options: PipelineOptions = {}): Pipeline {
  const stages = options.stages ?? GATEWAY_STAGES;
  const entries: Entry[] = env.http ? ['http', 'connect', 'subscribe'] : ['connect', 'subscribe'];
  checkStages(stages, entries);
  const chains = new Map<Entry, readonly Stage[]>(entries.map((entry) => [entry, stages.filter((s) => s.on.includes(entry))]));
  const strict = options.strict ?? false;

  return {
    stagesOf(entry) {
      return (chains.get(entry) ?? []).map((s) => s.name);
    },
    run(entry, facts, terminal) {
      const chain = chains.get(entry);
      if (!chain) throw new Error(`Gateway pipeline: no ${entry} entry (no HTTP environment).`);
      const dispatch = async (i: number): Promise<void> => {
        if (i === chain.length) {
          try {
            await terminal?.(facts);
          } catch (error) {
            if (typeof error === 'object' && error !== null && !refusedBy.has(error)) refusedBy.set(error, '');
            throw error;
          }
          return;
        }
        const stage = chain[i]!;
        const view = strict ? guarded(facts, stage, entry) : facts;
        try {
          if (stage.kind === 'around') return await stage.run(view as never, env, () => dispatch(i + 1));
          const outcome = await stage.run(view as never, env);
          if (outcome === ANSWERED) return;
        } catch (error) {
          if (typeof error === 'object' && error !== null && !refusedBy.has(error)) refusedBy.set(error, stage.name);
          throw error;
        }
        return dispatch(i + 1);
      };
      return dispatch(0);
    },
  };
}
