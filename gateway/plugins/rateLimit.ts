/**
 * Rate limits (rate-limiter-flexible): one budget per partner API key (its own points from
 * accounts), per signed-in user and per client address, the latter two per client application
 * (`apollographql-client-name` / `x-client-name`) so one app cannot starve another. Because the
 * app name is the client's claim, each user/address also has an overall budget across apps
 * (`overallMultiplier` × the per-app one): renaming the app does not buy unlimited budget.
 * In-process by default; with a Redis client, every gateway instance shares the same counters
 * (an in-memory insurance limiter takes over while Redis is unreachable).
 */
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { FolioError } from '../../lib/errors.js';
import type { RateSpec } from '../../lib/config.js';
import type { Caller } from '../../lib/identity.js';
import type { GatewayMetrics } from './metrics.js';

export interface RateLimitOptions {
  /** Budget of a signed-in user, per client application. */
  readonly user: RateSpec;
  /** Budget of an anonymous client address, per client application. */
  readonly address: RateSpec;
  /** Budget of a partner key when accounts sent none. @default the user budget */
  readonly partnerDefault?: RateSpec;
  /** Overall budget of a user/address across applications, as a multiple of the per-app one. @default 4 */
  readonly overallMultiplier?: number;
  /** Shared store for several gateway instances; in-process when absent. */
  readonly redis?: Redis;
  /** Key prefix in the store. @default folio-gw */
  readonly keyPrefix?: string;
  readonly metrics?: GatewayMetrics;
}

export interface RateLimiter {
  /** Counts one request; throws RATE_LIMITED (with retryAfterSeconds) when over budget. */
  consume(caller: Caller, clientName: string, partnerRate: RateSpec | undefined): Promise<void>;
}

const CLIENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The client application a request claims to come from, bounded to a safe label. */
export function clientNameOf(headers: Record<string, string | string[] | undefined>): string {
  const raw = headers['apollographql-client-name'] ?? headers['x-client-name'];
  return typeof raw === 'string' && CLIENT_NAME.test(raw) ? raw : 'unknown';
}

export function createRateLimiter(options: RateLimitOptions): RateLimiter {
  const prefix = options.keyPrefix ?? 'folio-gw';
  const multiplier = options.overallMultiplier ?? 4;
  // One limiter per distinct budget; partners' budgets are few, but bound the map anyway.
  const limiters = new Map<string, RateLimiterAbstract>();
  const limiterFor = (kind: string, spec: RateSpec): RateLimiterAbstract => {
    const id = `${kind}:${spec.points}/${spec.durationSeconds}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      if (limiters.size > 1000) limiters.clear();
      const base = { points: spec.points, duration: spec.durationSeconds, keyPrefix: `${prefix}:${id}` };
      limiter = options.redis
        ? new RateLimiterRedis({ ...base, storeClient: options.redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(base) })
        : new RateLimiterMemory(base);
      limiters.set(id, limiter);
    }
    return limiter;
  };
  const overall = (spec: RateSpec): RateSpec => ({ points: spec.points * multiplier, durationSeconds: spec.durationSeconds });

  async function take(kind: string, spec: RateSpec, key: string): Promise<void> {
    try {
      await limiterFor(kind, spec).consume(key, 1);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      options.metrics?.rateLimited.inc({ kind });
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new FolioError('RATE_LIMITED', `Rate limit exceeded; retry in ${retryAfterSeconds} s.`, { details: { retryAfterSeconds } });
    }
  }

  return {
    async consume(caller, clientName, partnerRate) {
      if (caller.partnerId) return take('partner', partnerRate ?? options.partnerDefault ?? options.user, caller.partnerId);
      if (caller.userId) {
        await take('user', options.user, `${clientName}:${caller.userId}`);
        return take('user-all', overall(options.user), caller.userId);
      }
      await take('address', options.address, `${clientName}:${caller.clientAddress}`);
      return take('address-all', overall(options.address), caller.clientAddress);
    },
  };
}
