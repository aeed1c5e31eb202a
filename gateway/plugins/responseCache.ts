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
 *
 * Every entry carries the cache tags (lib/cacheTags.ts) its subgraph fetches reported, and
 * `purge(tags)` drops every entry holding one of them at once (withdrawn books: cachePurge.ts).
 * The tag index holds only live entries: the LRU's dispose hook unindexes whatever leaves it
 * (eviction, expiry, overwrite, purge), and each entry's tags count towards its size, so the index is
 * bounded by `maxBytes` too.
 *
 * A response is not stored when a purge happened after its oldest subgraph fetch was sent: its data
 * may have been read before the change that caused the purge, and storing it would undo the purge.
 */
import { LRUCache } from 'lru-cache';
import type { Caller } from '../../lib/identity.js';
import { parseCacheControl } from '../subgraphFetcher.js';
import type { SharedResponse } from './inflightDedup.js';
import type { GatewayMetrics } from './metrics.js';

export interface ResponseCacheOptions {
  /** Memory bound (bodies, keys and tags). @default 64 MiB */
  readonly maxBytes?: number;
  /** Upper bound on any entry's lifetime. @default 300 */
  readonly maxTtlSeconds?: number;
  /** An entry with more tags is not stored (it would be purged by almost anything anyway). @default 1024 */
  readonly maxTagsPerEntry?: number;
  readonly metrics?: GatewayMetrics;
  /** Monotonic milliseconds (tests). @default performance.now */
  readonly now?: () => number;
}

/** What the subgraph fetches of one request told about cacheability beyond cache-control. */
export interface CacheFacts {
  /** Union of the fetches' cache tags. */
  readonly tags: ReadonlySet<string>;
  /** When the first subgraph fetch of the request was sent (the `now` clock); undefined if none was. */
  readonly oldestFetchAt: number | undefined;
}

export interface ResponseCache {
  get(requestKey: string, caller: Caller): SharedResponse | undefined;
  /** Stores the response when its cache hint allows it; returns whether it did. */
  maybeStore(requestKey: string, caller: Caller, response: SharedResponse, operationKind: string | undefined, facts?: CacheFacts): boolean;
  /** Drops every entry tagged with any of `tags`; returns how many it dropped. */
  purge(tags: Iterable<string>): number;
  /** Drops everything (a reset event feed: we cannot tell what changed). */
  clear(): number;
  /** Entries, distinct tags and tag references held (memory accounting, tests). */
  stats(): { entries: number; tags: number; references: number };
}

interface Entry {
  readonly response: SharedResponse;
  readonly tags: readonly string[];
}

function roleClass(caller: Caller): string {
  if (caller.partnerId) return 'partner';
  if (!caller.userId) return 'anonymous';
  return [...caller.roles].sort().join(',') || 'user';
}

export function createResponseCache(options: ResponseCacheOptions = {}): ResponseCache {
  const now = options.now ?? (() => performance.now());
  const byTag = new Map<string, Set<string>>();
  let references = 0;
  const unindex = (key: string, tags: readonly string[]): void => {
    for (const tag of tags) {
      const keys = byTag.get(tag);
      if (!keys?.delete(key)) continue;
      references--;
      if (keys.size === 0) byTag.delete(tag);
    }
  };
  const cache = new LRUCache<string, Entry>({
    maxSize: options.maxBytes ?? 64 * 1024 * 1024,
    // ~50 bytes per index reference (a Set slot and the tag string's share) besides the tag itself.
    sizeCalculation: (value, key) => value.response.body.length + key.length + 200 + value.tags.reduce((n, t) => n + t.length + 50, 0),
    dispose: (value, key) => unindex(key, value.tags),
    // One clock for TTLs and purge times (a test's clock then drives expiry too).
    ...(options.now ? { perf: { now: options.now }, ttlResolution: 0 } : {}),
  });
  const maxTtl = (options.maxTtlSeconds ?? 300) * 1000;
  const maxTags = options.maxTagsPerEntry ?? 1024;
  let lastPurgeAt = -Infinity;
  const publicKey = (key: string, caller: Caller): string => `P\n${roleClass(caller)}\n${caller.territory ?? ''}\n${key}`;
  const privateKey = (key: string, caller: Caller): string | undefined => (caller.userId ? `U\n${caller.userId}\n${caller.territory ?? ''}\n${key}` : undefined);
  const notStored = (reason: string): false => {
    options.metrics?.responseCacheNotStored.inc({ reason });
    return false;
  };

  return {
    get(requestKey, caller) {
      const userKey = privateKey(requestKey, caller);
      const hit = cache.get(publicKey(requestKey, caller)) ?? (userKey ? cache.get(userKey) : undefined);
      options.metrics?.responseCache.inc({ result: hit ? 'hit' : 'miss' });
      return hit?.response;
    },
    maybeStore(requestKey, caller, response, operationKind, facts) {
      if (operationKind !== 'query' || response.status !== 200 || !response.cacheControl) return false;
      // Apollo sends no hint with errors; this guards it anyway (escaped quotes cannot match inside strings).
      if (response.body.includes('"errors":[')) return false;
      const hint = parseCacheControl(response.cacheControl);
      if (hint.maxAge <= 0) return false;
      const key = hint.scope === 'PRIVATE' ? privateKey(requestKey, caller) : publicKey(requestKey, caller);
      if (!key) return false;
      if (facts?.oldestFetchAt !== undefined && facts.oldestFetchAt <= lastPurgeAt) return notStored('purged_during_fetch');
      const tags = facts ? [...facts.tags] : [];
      if (tags.length > maxTags) return notStored('too_many_tags');
      const entry: Entry = { response, tags };
      cache.set(key, entry, { ttl: Math.min(hint.maxAge * 1000, maxTtl) });
      // Index only what the LRU kept (an entry larger than the whole cache is refused).
      if (cache.peek(key) !== entry) return false;
      for (const tag of tags) {
        let keys = byTag.get(tag);
        if (!keys) byTag.set(tag, (keys = new Set()));
        if (!keys.has(key)) {
          keys.add(key);
          references++;
        }
      }
      return true;
    },
    purge(tags) {
      lastPurgeAt = now();
      const keys = new Set<string>();
      for (const tag of tags) for (const key of byTag.get(tag) ?? []) keys.add(key);
      let removed = 0;
      for (const key of keys) if (cache.delete(key)) removed++;
      return removed;
    },
    clear() {
      lastPurgeAt = now();
      const removed = cache.size;
      cache.clear();
      return removed;
    },
    stats() {
      return { entries: cache.size, tags: byTag.size, references };
    },
  };
}
