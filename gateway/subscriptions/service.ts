/**
 * Subscriptions at the gateway, independent of the transport (ws.ts, sse.ts). Each transport runs
 * the gateway's one stage list (../pipeline.ts, the same stages and code as HTTP), then the
 * subscription's own tail here:
 *
 * connect (once per WebSocket connection / SSE stream): the pipeline's `connect` entry — draining →
 *   client address → credentials → authenticate (auth.ts, same cache) → signed-in user (partner keys
 *   and anonymous callers have no sync feed) → load shedding (1013 / 503) → rate limit (one point) —
 *   then the per-user connection cap.
 * subscribe (once per subscription): the pipeline's `subscribe` entry — load shedding → rate limit
 *   (one point: subscribe floods are message-rate limited) — then the per-user subscription cap →
 *   prepare (parse within the token limit, rewrite to the per-event query: operation.ts) →
 *   dry run through Apollo Server (operation limits, validation, introspection rules, logging and
 *   metrics plugins: the HTTP path's plugins, so the client learns of an invalid selection now) →
 *   with `after` (a cursor of me.changes): catch-up, listening first (live events held), then
 *   listing the missed changes through `me.changes` like any query (CURSOR_EXPIRED passes through),
 *   merged with the held live events by seq (no gap, no duplicate).
 * Per event: the user filter (SyncHub only hands a subscriber its own user's events; for a shared
 *   thing, `uploadJobUpdated(id)` or `publicNoteAdded(paragraphId)`, that thing's events) → the field's
 *   event types and argument filter → bounded queue (slow consumer: cut, 4413) → the per-event query
 *   through Apollo Server and the query planner with the subscriber's identity (the subgraph checks
 *   ownership again) → send, unless the subgraph answered null (not theirs, or filtered).
 * And on a timer: every connection's credential is resolved again (auth.ts's cache window), so a
 * revoked, logged-out or expired session is closed (4401) within about two cache windows.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import { Counter, Gauge } from 'prom-client';
import type { FolioEvent } from '../../lib/events.js';
import { FolioError, isFolioError } from '../../lib/errors.js';
import type { Caller } from '../../lib/identity.js';
import type { Logger } from '../../lib/logger.js';
import { signRequest } from '../../lib/signing.js';
import { identityKeyOf, type GatewayContext } from '../context.js';
import { createPipeline, stageOf, type Pipeline, type RequestFacts } from '../pipeline.js';
import type { Authenticator, CallerOrigin } from '../plugins/auth.js';
import type { ClientAddressResolver, TerritoryResolver } from '../plugins/clientAddress.js';
import type { GatewayMetrics } from '../plugins/metrics.js';
import type { RateLimiter } from '../plugins/rateLimit.js';
import type { FeedFollower, Producer, SyncHub } from './feed.js';
import { CATCH_UP_QUERY, prepareSubscription, SEQ_VARIABLE, type PrepareInput, type PreparedSubscription } from './operation.js';

/** WebSocket close codes (4000–4999 are the application's); SSE streams simply end. */
export const CLOSE_CODES = {
  /** Bad, expired, revoked or logged-out credentials (graphql-ws's own code for this). */
  UNAUTHENTICATED: 4401,
  /** Not a reader's session (partner API key). */
  FORBIDDEN: 4403,
  /** Slow consumer: more unsent events than FOLIO_GATEWAY_SUBSCRIPTION_MAX_QUEUED_EVENTS / _MAX_BUFFERED_BYTES. */
  SLOW_CONSUMER: 4413,
  /** Over FOLIO_GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS_PER_USER, or rate limited at connect. */
  TOO_MANY: 4430,
  /** The authentication service is unavailable; retry. */
  UNAVAILABLE: 4503,
  /** The gateway is shutting down (standard "going away"). */
  GOING_AWAY: 1001,
  /** Load shedding: the gateway is overloaded (standard "try again later"). */
  TRY_AGAIN_LATER: 1013,
} as const;

/** The subscription's own stages after the pipeline's (the refusal metric's `stage` label, with the pipeline's stage names). */
type SubscribeStage = 'subscriptionCap' | 'prepare' | 'dryRun' | 'catchUp';

/** At most this many missed changes are replayed to a subscription; a client further behind pages me.changes first. */
export const MAX_REPLAYED_EVENTS = 1_000;

/** The answer when ugc cannot list the missed changes (down, or an unexpected shape): retry later. */
const CATCH_UP_UNAVAILABLE: readonly GraphQLFormattedError[] = [{ message: 'Catching up is unavailable right now; retry.', extensions: { code: 'SERVICE_UNAVAILABLE', retryAfterSeconds: 5 } }];

interface CatchUpPage {
  readonly edges: readonly { readonly cursor: string }[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

interface SubscriptionStream {
  readonly iterator: AsyncIterableIterator<ExecutionPayload>;
  /** Hands over the seqs missed since the cursor (oldest first) and releases the held queue. */
  replay(missed: readonly number[]): void;
}

export type Transport = 'ws' | 'sse';

/** What a transport lets the service do to its connection. */
export interface TransportSide {
  readonly transport: Transport;
  /** Closes the connection (WebSocket close code and reason; SSE ends the stream). */
  cut(code: number, reason: string): void;
  /** Bytes written but not yet sent to the client. */
  bufferedBytes(): number;
}

export interface ExecutionPayload {
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly GraphQLFormattedError[];
}

export interface SyncConnection {
  readonly id: string;
  readonly caller: Caller;
  /** Starts one subscription; throws a FolioError, or resolves to refusal errors from the dry run. */
  subscribe(input: PrepareInput): Promise<AsyncIterableIterator<ExecutionPayload> | { errors: readonly GraphQLFormattedError[] }>;
  /** Ends the connection's subscriptions and releases its slot (idempotent). */
  close(): void;
}

export interface SubscriptionLimits {
  readonly maxConnectionsPerUser: number;
  readonly maxPerUser: number;
  readonly maxQueuedEvents: number;
  readonly maxBufferedBytes: number;
  readonly maxTokens: number;
  readonly maxDocumentBytes: number;
  /** How often every connection's credential is resolved again. */
  readonly recheckMs: number;
}

export interface SubscriptionDeps {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly secret: string;
  readonly auth: Authenticator;
  readonly clientAddress: ClientAddressResolver;
  readonly territory: TerritoryResolver;
  readonly rateLimiter: RateLimiter;
  readonly hub: SyncHub;
  /** ugc's feed. */
  readonly feed: FeedFollower;
  /** Other producers' feeds (catalog's, for uploadJobUpdated); a field whose producer has none is unavailable. */
  readonly feeds?: Partial<Record<Exclude<Producer, 'ugc'>, FeedFollower>>;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly limits: SubscriptionLimits;
  readonly isDraining: () => boolean;
  /** The gateway's stages (the server's, with load shedding); without it, one built from the deps above. */
  readonly pipeline?: Pipeline | undefined;
}

export interface SubscriptionService {
  /** Runs the connect stages; throws a FolioError (see closeCodeOf). */
  connect(req: IncomingMessage, params: Readonly<Record<string, unknown>> | undefined, side: TransportSide): Promise<SyncConnection>;
  readonly connectionCount: number;
  /** Closes every connection (1001) and stops the timer. */
  stop(): void;
}

/** The close code for a refusal at connect. */
export function closeCodeOf(error: unknown): number {
  if (!isFolioError(error)) return 4500;
  if (error.code === 'UNAUTHENTICATED') return CLOSE_CODES.UNAUTHENTICATED;
  if (error.code === 'FORBIDDEN') return CLOSE_CODES.FORBIDDEN;
  if (error.code === 'RATE_LIMITED') return CLOSE_CODES.TOO_MANY;
  if (error.code === 'SERVICE_UNAVAILABLE') return CLOSE_CODES.UNAVAILABLE;
  if (error.code === 'SERVICE_OVERLOADED') return CLOSE_CODES.TRY_AGAIN_LATER;
  return 4400;
}

/** How long a finished per-event execution stays shareable (devices pulling slightly later). */
const SHARED_RESULT_MS = 2000;

export function createSubscriptionService(deps: SubscriptionDeps): SubscriptionService {
  const { limits, logger, hub } = deps;
  const pipeline = deps.pipeline ?? createPipeline({ edge: { isDraining: deps.isDraining, clientAddress: deps.clientAddress, territory: deps.territory, auth: deps.auth, rateLimiter: deps.rateLimiter } });
  const registers = [deps.metrics.registry];
  const connectionsGauge = new Gauge({ name: 'folio_gateway_subscription_connections', help: 'Open subscription connections', labelNames: ['transport'], registers });
  const subscriptionsGauge = new Gauge({ name: 'folio_gateway_subscriptions', help: 'Active subscriptions', registers });
  const eventsCounter = new Counter({ name: 'folio_gateway_subscription_events_total', help: 'Events per subscription field and outcome (sent, skipped, error)', labelNames: ['field', 'outcome'], registers });
  const refusals = new Counter({ name: 'folio_gateway_subscription_refused_total', help: 'Refused connections and subscriptions, by stage', labelNames: ['stage'], registers });
  const replayedEvents = new Counter({ name: 'folio_gateway_subscription_replayed_total', help: 'Missed changes replayed to subscriptions that gave `after`, per field', labelNames: ['field'], registers });
  const duplicates = new Counter({ name: 'folio_gateway_subscription_duplicates_dropped_total', help: 'Live events dropped because the catch-up already sent (or the cursor already covered) them', registers });
  const cuts = new Counter({ name: 'folio_gateway_subscription_closed_total', help: 'Connections closed by the gateway, by close code', labelNames: ['code'], registers });

  const byUser = new Map<string, Set<Connection>>();
  const subscriptionsOfUser = new Map<string, number>();
  const all = new Set<Connection>();

  interface Connection extends SyncConnection {
    readonly side: TransportSide;
    readonly headers: IncomingHttpHeaders;
    readonly origin: CallerOrigin;
    /** What the connect stages learned; each subscribe message runs with them. */
    readonly facts: Partial<RequestFacts>;
    cutBy(code: number, reason: string): void;
  }

  function countSubscription(userId: string, delta: number): void {
    const next = (subscriptionsOfUser.get(userId) ?? 0) + delta;
    if (next <= 0) subscriptionsOfUser.delete(userId);
    else subscriptionsOfUser.set(userId, next);
    subscriptionsGauge.inc(delta);
  }

  // One event reaches every device of its user at once, and their subscriptions usually hold the
  // same document: identical executions share one run. Keyed by everything in the identity that can
  // change these answers (user, roles, territory for licences), not by session or address, so a
  // reader's phone and tablet share too. Entries live only while running and a moment after (a
  // device whose queue was behind still finds it), never longer.
  const shared = new Map<string, Promise<ExecutionPayload>>();
  function executeShared(connection: Connection, prepared: PreparedSubscription, seq: string): Promise<ExecutionPayload> {
    const { caller } = connection;
    const key = JSON.stringify([caller.userId, caller.roles, caller.territory, prepared.query, prepared.operationName ?? null, prepared.variables, seq]);
    let run = shared.get(key);
    if (!run) {
      run = execute(connection, prepared, seq);
      shared.set(key, run);
      const forget = (): void => void setTimeout(() => shared.delete(key), SHARED_RESULT_MS).unref();
      run.then(forget, forget);
    }
    return run;
  }

  /** Runs a query through Apollo Server and the query planner with the subscriber's identity. */
  async function run(connection: Connection, requestSuffix: string, request: { query: string; operationName?: string | undefined; variables: Record<string, unknown> }): Promise<ExecutionPayload> {
    const caller = connection.caller;
    const contextValue: GatewayContext = {
      caller,
      requestId: `${connection.id}:${requestSuffix}`,
      identityKey: identityKeyOf(caller),
      sign: (signed) => signRequest(deps.secret, signed, caller),
      traceHeaders: {},
      facts: {},
    };
    const response = await deps.apollo.executeOperation(request, { contextValue });
    if (response.body.kind !== 'single') return { errors: [{ message: 'Incremental delivery is not served to subscriptions.' }] };
    const { data, errors } = response.body.singleResult;
    return { data: (data as Record<string, unknown> | null | undefined) ?? null, ...(errors ? { errors } : {}) };
  }

  function execute(connection: Connection, prepared: PreparedSubscription, seq: string): Promise<ExecutionPayload> {
    return run(connection, seq, { query: prepared.query, operationName: prepared.operationName, variables: { ...prepared.variables, [SEQ_VARIABLE]: seq } });
  }

  /**
   * Catch-up: the seqs of the changes this subscription missed since `after`, oldest first, read
   * through `me.changes` (ugc) like any query; errors (CURSOR_EXPIRED, BAD_USER_INPUT) as answered.
   */
  async function missedSince(connection: Connection, prepared: PreparedSubscription, after: string): Promise<{ seqs: number[] } | { errors: readonly GraphQLFormattedError[] }> {
    const seqs: number[] = [];
    let cursor = after;
    for (;;) {
      const page = await run(connection, `catch-up:${cursor}`, { query: CATCH_UP_QUERY, variables: { after: cursor, kinds: prepared.field.kinds ?? [] } });
      if (page.errors?.length) return { errors: page.errors };
      const changes = (page.data?.me as { changes?: CatchUpPage | null } | null | undefined)?.changes;
      if (!changes) return { errors: CATCH_UP_UNAVAILABLE };
      seqs.push(...changes.edges.map((e) => Number(e.cursor)));
      if (seqs.length > MAX_REPLAYED_EVENTS) {
        const message = `More than ${MAX_REPLAYED_EVENTS} changes since this cursor: page through me.changes first, then subscribe from its endCursor.`;
        return { errors: [{ message, extensions: { code: 'BAD_USER_INPUT', field: 'after', limit: MAX_REPLAYED_EVENTS } }] };
      }
      if (!changes.pageInfo.hasNextPage || !changes.pageInfo.endCursor) return { seqs };
      cursor = changes.pageInfo.endCursor;
    }
  }

  /**
   * One subscription's events: filtered, queued (bounded), resolved one by one as the transport pulls.
   * From a cursor (`after`), it listens at once but holds its queue until `replay` hands it the missed
   * seqs: then the queue is the union of both, by seq, above the cursor, and a live event already
   * replayed is dropped, so nothing is sent twice and nothing between the cursor and live is skipped.
   */
  function stream(connection: Connection, prepared: PreparedSubscription, onEnd: () => void): SubscriptionStream {
    const userId = connection.caller.userId!;
    const queue: number[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let held = prepared.after !== undefined;
    const after = Number(prepared.after ?? 0);
    // Seqs the replay sent, until the feed is past them (it delivers in seq order).
    let replayed: { seqs: Set<number>; highest: number } | null = null;
    const onEvent = (event: FolioEvent): void => {
      // A shared thing's events come from anyone (the subgraph decides per subscriber); otherwise only the user's own.
      if (done || (!prepared.topic && event.payload.userId !== userId) || !prepared.field.eventTypes.includes(event.type)) return;
      if (prepared.field.matches && !prepared.field.matches(event.payload, prepared.args)) return;
      if (event.seq <= after) return;
      if (replayed?.seqs.has(event.seq)) return void duplicates.inc();
      if (replayed && event.seq > replayed.highest) replayed = null;
      queue.push(event.seq);
      if (queue.length > limits.maxQueuedEvents) return void connection.cutBy(CLOSE_CODES.SLOW_CONSUMER, 'Slow consumer: too many unsent events');
      if (!held) wake?.();
    };
    const unlisten = prepared.topic ? hub.listenTopic(prepared.topic, onEvent) : hub.listen(userId, onEvent);
    const finish = (): void => {
      if (done) return;
      done = true;
      unlisten();
      queue.length = 0;
      wake?.();
      onEnd();
    };
    const iterator: AsyncIterableIterator<ExecutionPayload> = {
      [Symbol.asyncIterator]() {
        return iterator;
      },
      async next() {
        while (!done) {
          const seq = held ? undefined : queue.shift();
          if (seq === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          let payload: ExecutionPayload;
          try {
            payload = await executeShared(connection, prepared, String(seq));
          } catch (err) {
            logger.warn({ err, connection: connection.id, seq }, 'subscription event failed');
            eventsCounter.inc({ field: prepared.fieldName, outcome: 'error' });
            continue;
          }
          if (done) break;
          // One root field (operation.ts), under the client's response key.
          const value = payload.data ? Object.values(payload.data)[0] : null;
          // Null without errors: not this subscriber's (the subgraph checked) or filtered out.
          if ((value === null || value === undefined) && !payload.errors?.length) {
            eventsCounter.inc({ field: prepared.fieldName, outcome: 'skipped' });
            continue;
          }
          if (connection.side.bufferedBytes() > limits.maxBufferedBytes) {
            connection.cutBy(CLOSE_CODES.SLOW_CONSUMER, 'Slow consumer: send buffer full');
            break;
          }
          eventsCounter.inc({ field: prepared.fieldName, outcome: payload.errors?.length ? 'error' : 'sent' });
          return { value: payload, done: false };
        }
        return { value: undefined, done: true };
      },
      async return() {
        finish();
        return { value: undefined, done: true };
      },
      async throw(error?: unknown) {
        finish();
        throw error;
      },
    };
    return {
      iterator,
      replay(missed) {
        const live = queue.splice(0);
        const merged = [...new Set([...missed, ...live])].filter((seq) => seq > after).sort((a, b) => a - b);
        queue.push(...merged);
        duplicates.inc(missed.length + live.length - merged.length);
        if (missed.length > 0) replayed = { seqs: new Set(missed), highest: Math.max(...missed) };
        replayedEvents.inc({ field: prepared.fieldName }, missed.length);
        held = false;
        wake?.();
      },
    };
  }

  function createConnection(facts: Partial<RequestFacts>, side: TransportSide): Connection {
    const caller = facts.caller!;
    const headers = facts.credentials!;
    const origin = facts.origin!;
    const userId = caller.userId!;
    const streams = new Set<AsyncIterableIterator<ExecutionPayload>>();
    let closed = false;
    const connection: Connection = {
      id: randomUUID(),
      caller,
      side,
      headers,
      origin,
      facts,
      async subscribe(input) {
        if (closed) throw new FolioError('BAD_REQUEST', 'The connection is closed.');
        // The pipeline's subscribe stages (load shedding, rate limit), then ours.
        let result: Awaited<ReturnType<SyncConnection['subscribe']>> | undefined;
        try {
          await pipeline.run('subscribe', { ...facts, entry: 'subscribe' }, async () => void (result = await subscribeStages(input)));
        } catch (error) {
          const stage = stageOf(error);
          if (stage) refusals.inc({ stage });
          throw error;
        }
        return result!;
      },
      close() {
        if (closed) return;
        closed = true;
        for (const events of [...streams]) void events.return?.();
        all.delete(connection);
        const mine = byUser.get(userId);
        mine?.delete(connection);
        if (mine?.size === 0) byUser.delete(userId);
        connectionsGauge.dec({ transport: side.transport });
        logger.info({ connection: connection.id, userId, transport: side.transport }, 'subscription connection closed');
      },
      cutBy(code, reason) {
        if (closed) return;
        cuts.inc({ code: String(code) });
        logger.info({ connection: connection.id, userId, code, reason }, 'closing subscription connection');
        connection.close();
        side.cut(code, reason);
      },
    };
    // After the pipeline's subscribe stages: the subscription's own.
    async function subscribeStages(input: PrepareInput): Promise<Awaited<ReturnType<SyncConnection['subscribe']>>> {
      if ((subscriptionsOfUser.get(userId) ?? 0) >= limits.maxPerUser) {
        refusals.inc({ stage: 'subscriptionCap' satisfies SubscribeStage });
        throw new FolioError('RATE_LIMITED', `At most ${limits.maxPerUser} subscriptions per user.`, { details: { limit: 'subscriptions' } });
      }
      let prepared: PreparedSubscription;
      try {
        prepared = prepareSubscription(input, { maxTokens: limits.maxTokens, maxBytes: limits.maxDocumentBytes });
      } catch (error) {
        refusals.inc({ stage: 'prepare' satisfies SubscribeStage });
        throw error;
      }
      // Shared like events: a reconnect storm (a gateway restarted, every device of every user
      // subscribing again) costs one dry run per user and document, not one per device.
      const dry = await executeShared(connection, prepared, '0');
      if (dry.errors?.length) {
        refusals.inc({ stage: 'dryRun' satisfies SubscribeStage });
        return { errors: dry.errors };
      }
      const producer = prepared.field.producer ?? 'ugc';
      const feed = producer === 'ugc' ? deps.feed : deps.feeds?.[producer];
      if (!feed || !(await feed.ready(3000))) throw new FolioError('SERVICE_UNAVAILABLE', 'Live updates are unavailable right now; retry.', { details: { retryAfterSeconds: 5 } });
      if (closed) throw new FolioError('BAD_REQUEST', 'The connection is closed.');
      countSubscription(userId, +1);
      const { iterator: events, replay } = stream(connection, prepared, () => {
        streams.delete(events);
        countSubscription(userId, -1);
      });
      streams.add(events);
      if (prepared.after !== undefined) {
        // Listening already (live events wait in the held queue), list what was missed since the cursor.
        const missed = await missedSince(connection, prepared, prepared.after).catch((err: unknown) => {
          logger.warn({ err, connection: connection.id }, 'subscription catch-up failed');
          return { errors: CATCH_UP_UNAVAILABLE };
        });
        if ('errors' in missed) {
          void events.return?.();
          refusals.inc({ stage: 'catchUp' satisfies SubscribeStage });
          return { errors: missed.errors };
        }
        replay(missed.seqs);
        logger.debug({ connection: connection.id, userId, field: prepared.fieldName, after: prepared.after, missed: missed.seqs.length }, 'subscription caught up');
      }
      logger.debug({ connection: connection.id, userId, field: prepared.fieldName, operationName: prepared.operationName }, 'subscribed');
      return events;
    }
    return connection;
  }

  // Revocation and expiry: resolve each connection's credential again. auth.ts caches resolutions
  // for its window, so this costs a map lookup per connection, and one call to accounts per
  // credential per window.
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking || all.size === 0) return;
    rechecking = true;
    void Promise.all(
      [...all].map(async (connection) => {
        try {
          const { caller } = await deps.auth.authenticate(connection.headers, connection.origin);
          if (caller.userId !== connection.caller.userId || caller.sessionId !== connection.caller.sessionId) {
            connection.cutBy(CLOSE_CODES.UNAUTHENTICATED, 'Session changed; reconnect.');
          } else if ([...caller.roles].sort().join() !== [...connection.caller.roles].sort().join()) {
            // Per-event queries run with the connection's identity: staff-only fields must not outlive the role.
            connection.cutBy(CLOSE_CODES.UNAUTHENTICATED, 'Your roles changed; reconnect.');
          }
        } catch (error) {
          // Accounts unavailable: keep the connection (its credential was good); anything else ends it.
          if (isFolioError(error) && error.code === 'SERVICE_UNAVAILABLE') return;
          connection.cutBy(CLOSE_CODES.UNAUTHENTICATED, 'The session was revoked or expired; sign in again.');
        }
      }),
    ).finally(() => (rechecking = false));
  }, limits.recheckMs);
  recheck.unref();

  return {
    get connectionCount() {
      return all.size;
    },
    async connect(req, params, side) {
      const facts: Partial<RequestFacts> = { entry: 'connect', req, connectionParams: params };
      let connection: Connection | undefined;
      try {
        // The pipeline's connect stages, then the per-user connection cap.
        await pipeline.run('connect', facts, () => {
          const userId = facts.caller!.userId!;
          const mine = byUser.get(userId) ?? new Set<Connection>();
          if (mine.size >= limits.maxConnectionsPerUser) {
            throw new FolioError('RATE_LIMITED', `At most ${limits.maxConnectionsPerUser} live connections per user.`, { details: { limit: 'connections' } });
          }
          connection = createConnection(facts, side);
          mine.add(connection);
          byUser.set(userId, mine);
          all.add(connection);
          connectionsGauge.inc({ transport: side.transport });
        });
      } catch (error) {
        const stage = stageOf(error) ?? 'connectionCap';
        refusals.inc({ stage });
        logger.info({ stage, code: isFolioError(error) ? error.code : 'INTERNAL', transport: side.transport }, 'subscription connection refused');
        throw error;
      }
      logger.info({ connection: connection!.id, userId: connection!.caller.userId, transport: side.transport }, 'subscription connection opened');
      return connection!;
    },
    stop() {
      clearInterval(recheck);
      for (const connection of [...all]) connection.cutBy(CLOSE_CODES.GOING_AWAY, 'The gateway is shutting down');
    },
  };
}
