/**
 * Response cache for data the subgraphs declare cacheable with @cacheControl. Apollo's cache-control
 * plugin folds every subgraph's hint into the operation's policy and emits it as the response's
 * `cache-control` header; only error-free query responses with a positive max-age are stored:
 * - PUBLIC responses are shared, but still keyed by the caller's role class (anonymous, reader,
 *   staff, partner) so a wrongly hinted role-dependent field cannot cross roles, and by territory
 *   (licences open a book in some territories only);
 * - PRIVATE responses are stored per signed-in user only (never for anonymous callers) and are
 *   therefore never served to another user.
 * Entries live max-age seconds (at most `maxTtlSeconds`) in a byte-bounded LRU.
 */
import { LRUCache } from 'lru-cache';
import type { Caller } from '../../lib/identity.js';
import { parseCacheControl } from '../subgraphFetcher.js';
import type { SharedResponse } from './inflightDedup.js';
import type { GatewayMetrics } from './metrics.js';

export interface ResponseCacheOptions {
  /** Memory bound. @default 64 MiB */
  readonly maxBytes?: number;
  /** Upper bound on any entry's lifetime. @default 300 */
  readonly maxTtlSeconds?: number;
  readonly metrics?: GatewayMetrics;
}

export interface ResponseCache {
  get(requestKey: string, caller: Caller): SharedResponse | undefined;
  /** Stores the response when its cache hint allows it; returns whether it did. */
  maybeStore(requestKey: string, caller: Caller, response: SharedResponse, operationKind: string | undefined): boolean;
}

function roleClass(caller: Caller): string {
  if (caller.partnerId) return 'partner';
  if (!caller.userId) return 'anonymous';
  return [...caller.roles].sort().join(',') || 'user';
}

export function createResponseCache(options: ResponseCacheOptions = {}): ResponseCache {
  const cache = new LRUCache<string, SharedResponse>({
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    sizeCalculation: (value, key) => value.body.length + key.length + 200,
  });
  const maxTtl = (options.maxTtlSeconds ?? 300) * 1000;
  const publicKey = (key: string, caller: Caller): string => `P\n${roleClass(caller)}\n${caller.territory ?? ''}\n${key}`;
  const privateKey = (key: string, caller: Caller): string | undefined => (caller.userId ? `U\n${caller.userId}\n${caller.territory ?? ''}\n${key}` : undefined);

  return {
    get(requestKey, caller) {
      const userKey = privateKey(requestKey, caller);
      const hit = cache.get(publicKey(requestKey, caller)) ?? (userKey ? cache.get(userKey) : undefined);
      options.metrics?.responseCache.inc({ result: hit ? 'hit' : 'miss' });
      return hit;
    },
    maybeStore(requestKey, caller, response, operationKind) {
      if (operationKind !== 'query' || response.status !== 200 || !response.cacheControl) return false;
      // Apollo sends no hint with errors; this guards it anyway (escaped quotes cannot match inside strings).
      if (response.body.includes('"errors":[')) return false;
      const hint = parseCacheControl(response.cacheControl);
      if (hint.maxAge <= 0) return false;
      const key = hint.scope === 'PRIVATE' ? privateKey(requestKey, caller) : publicKey(requestKey, caller);
      if (!key) return false;
      cache.set(key, response, { ttl: Math.min(hint.maxAge * 1000, maxTtl) });
      return true;
    },
  };
}
