/**
 * Automatic persisted queries for app clients: Apollo Server's own APQ protocol, stored in the
 * server's default cache (Apollo's bounded in-memory LRU, ~30 MiB, least recently used evicted).
 * Partners never register documents: trustedDocuments.ts answers their hashes before APQ sees them.
 */
import type { ApolloServerOptions } from '@apollo/server';
import type { GatewayContext } from '../context.js';

export interface ApqOptions {
  /** Lifetime of a registered document, seconds. @default 86400 (a day) */
  readonly ttlSeconds?: number;
}

export function apq(options: ApqOptions = {}): ApolloServerOptions<GatewayContext>['persistedQueries'] {
  return { ttl: options.ttlSeconds ?? 86_400 };
}
