/**
 * Inbound in-flight deduplication: while one execution of an operation is running, identical
 * requests (same method, body, accept header and the same caller identity — see identityKeyOf)
 * wait for it and receive its serialized response instead of running again. Only operations
 * already seen to be queries join (never mutations): the kind is learned from the first
 * execution of a document, so no parsing happens on the hot path. Nothing is kept once the
 * execution ends: this is sharing of concurrent work, not a cache, so no answer is older than
 * the request that receives it was in flight.
 */
import { LRUCache } from 'lru-cache';

export interface SharedResponse {
  readonly status: number;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  /** Cache hint the response carried (for the response cache). */
  readonly cacheControl: string | undefined;
}

export interface InflightDedupOptions {
  /** Documents whose operation kind is remembered. @default 5000 */
  readonly maxKnownDocuments?: number;
}

export interface InflightDedup {
  /** True when this document (query text or hash + operation name) was seen to be a query. */
  isKnownQuery(documentKey: string): boolean;
  learn(documentKey: string, kind: string): void;
  /** Runs `execute` unless an identical request is in flight; `joined` tells which happened. */
  run(key: string, execute: () => Promise<SharedResponse>): Promise<{ response: SharedResponse; joined: boolean }>;
}

export function createInflightDedup(options: InflightDedupOptions = {}): InflightDedup {
  const kinds = new LRUCache<string, string>({ max: options.maxKnownDocuments ?? 5000 });
  const inFlight = new Map<string, Promise<SharedResponse>>();
  return {
    isKnownQuery(documentKey) {
      return kinds.get(documentKey) === 'query';
    },
    learn(documentKey, kind) {
      if (kinds.get(documentKey) !== kind) kinds.set(documentKey, kind);
    },
    async run(key, execute) {
      const pending = inFlight.get(key);
      if (pending) return { response: await pending, joined: true };
      const started = execute().finally(() => inFlight.delete(key));
      inFlight.set(key, started);
      return { response: await started, joined: false };
    },
  };
}
