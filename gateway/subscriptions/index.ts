/**
 * Subscriptions at the gateway: ugc's and catalog's event feeds (feed.ts, one follower per
 * producer; with Redis, one follower per producer for all processes: redisFanout.ts) → per-user and
 * per-topic fan-out (SyncHub) →
 * subscription service (service.ts: stages, caps, revocation, per-event federated execution) →
 * graphql-ws (ws.ts) and GraphQL over SSE (sse.ts) on the same `/graphql` path as HTTP.
 */
import type { Server } from 'node:http';
import type { ApolloServer } from '@apollo/server';
import type { Redis } from 'ioredis';
import type { BodyRate } from '../../lib/http/body.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';
import type { Pipeline } from '../pipeline.js';
import type { Authenticator } from '../plugins/auth.js';
import type { ClientAddressResolver, TerritoryResolver } from '../plugins/clientAddress.js';
import type { GatewayMetrics } from '../plugins/metrics.js';
import type { RateLimiter } from '../plugins/rateLimit.js';
import { followFeed, SyncHub, type FeedFollower, type Producer } from './feed.js';
import { startRedisFanout } from './redisFanout.js';
import { createSubscriptionService, type SubscriptionLimits, type SubscriptionService } from './service.js';
import { createSseTransport, type SseTransport } from './sse.js';
import { attachWebSocketTransport } from './ws.js';

export interface SubscriptionsOptions {
  readonly server: Server;
  readonly path: string;
  readonly apollo: ApolloServer<GatewayContext>;
  readonly secret: string;
  /** Base URL of ugc's internal endpoints; without it (a supergraph without Folio's ugc) nothing is served. */
  readonly ugcUrl: string | undefined;
  /** Base URL of catalog's internal endpoints (its feed carries uploadJobUpdated's events); without it that field is unavailable. */
  readonly catalogUrl?: string | undefined;
  readonly auth: Authenticator;
  readonly clientAddress: ClientAddressResolver;
  readonly territory: TerritoryResolver;
  readonly rateLimiter: RateLimiter;
  /** The gateway's stages (../pipeline.ts): connect and subscribe run its `connect`/`subscribe` entries. */
  readonly pipeline?: Pipeline | undefined;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly isDraining: () => boolean;
  /** With Redis, one process follows ugc's feed and fans events out on `channel` (redisFanout.ts). */
  readonly redis?: Redis | undefined;
  readonly channel: string;
  readonly limits: SubscriptionLimits & { readonly keepAliveMs: number; readonly maxBodyBytes: number; readonly bodyRate: BodyRate };
}

export interface Subscriptions {
  readonly service: SubscriptionService;
  readonly sse: SseTransport;
  stop(): Promise<void>;
}

export function startSubscriptions(options: SubscriptionsOptions): Subscriptions | undefined {
  if (!options.ugcUrl) return undefined;
  const logger = options.logger.child({ component: 'subscriptions' });
  const hub = new SyncHub();
  // One follower per producer; with Redis each has its own lease and channel (`<channel>:catalog`).
  const follow = (producer: Producer, baseUrl: string, channel: string): FeedFollower =>
    options.redis
      ? startRedisFanout({ redis: options.redis, channel, producer, hub, logger, baseUrl, secret: options.secret })
      : followFeed({ producer, baseUrl, secret: options.secret, hub, logger });
  const feed = follow('ugc', options.ugcUrl, options.channel);
  const catalogFeed = options.catalogUrl ? follow('catalog', options.catalogUrl, `${options.channel}:catalog`) : undefined;
  const service = createSubscriptionService({ ...options, hub, feed, feeds: { ...(catalogFeed ? { catalog: catalogFeed } : {}) }, logger });
  const ws = attachWebSocketTransport({ server: options.server, path: options.path, service, keepAliveMs: options.limits.keepAliveMs, maxPayloadBytes: options.limits.maxBodyBytes, logger });
  const sse = createSseTransport({ path: options.path, service, maxBodyBytes: options.limits.maxBodyBytes, bodyRate: options.limits.bodyRate, logger });
  return {
    service,
    sse,
    async stop() {
      service.stop();
      await ws.close();
      await Promise.all([feed.stop(), catalogFeed?.stop()]);
    },
  };
}
