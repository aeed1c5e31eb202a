import { describe, expect, it } from 'vitest';
import type { FolioError } from '../../lib/errors.js';
import { ANONYMOUS } from '../../lib/identity.js';
import { clientNameOf, createRateLimiter } from './rateLimit.js';

const anon = (address: string) => ({ ...ANONYMOUS, clientAddress: address });
const refusal = (p: Promise<void>) => p.then(() => null, (e: unknown) => e as FolioError);

describe('rate limits', () => {
  it('refuses over budget with RATE_LIMITED and a retry-after hint, per address and app', async () => {
    const limiter = createRateLimiter({ user: { points: 2, durationSeconds: 60 }, address: { points: 2, durationSeconds: 60 } });
    await limiter.consume(anon('a'), 'web', undefined);
    await limiter.consume(anon('a'), 'web', undefined);
    const error = await refusal(limiter.consume(anon('a'), 'web', undefined));
    expect(error?.code).toBe('RATE_LIMITED');
    expect(error?.details.retryAfterSeconds).toBeGreaterThan(0);
    expect(await refusal(limiter.consume(anon('a'), 'ios', undefined))).toBeNull(); // another app
    expect(await refusal(limiter.consume(anon('b'), 'web', undefined))).toBeNull(); // another address
  });

  it('caps an address across apps, so renaming the app does not buy unlimited budget', async () => {
    const limiter = createRateLimiter({ user: { points: 1, durationSeconds: 60 }, address: { points: 1, durationSeconds: 60 }, overallMultiplier: 2 });
    expect(await refusal(limiter.consume(anon('a'), 'app1', undefined))).toBeNull();
    expect(await refusal(limiter.consume(anon('a'), 'app2', undefined))).toBeNull();
    expect((await refusal(limiter.consume(anon('a'), 'app3', undefined)))?.code).toBe('RATE_LIMITED');
  });

  it('gives each partner key its own budget from accounts', async () => {
    const limiter = createRateLimiter({ user: { points: 100, durationSeconds: 60 }, address: { points: 100, durationSeconds: 60 } });
    const p1 = { ...anon('x'), partnerId: 'p1' };
    const p2 = { ...anon('x'), partnerId: 'p2' };
    await limiter.consume(p1, 'unknown', { points: 1, durationSeconds: 60 });
    expect((await refusal(limiter.consume(p1, 'unknown', { points: 1, durationSeconds: 60 })))?.code).toBe('RATE_LIMITED');
    expect(await refusal(limiter.consume(p2, 'unknown', { points: 1, durationSeconds: 60 }))).toBeNull();
  });

  it('reads a bounded client application name', () => {
    expect(clientNameOf({ 'apollographql-client-name': 'reader-web' })).toBe('reader-web');
    expect(clientNameOf({ 'x-client-name': 'bad name\n' })).toBe('unknown');
    expect(clientNameOf({})).toBe('unknown');
  });
});
