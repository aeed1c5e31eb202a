import { describe, expect, it } from 'vitest';
import { watchBodyRate } from '../../lib/http/body.js';
import type { Caller } from '../../lib/identity.js';
import { clientKeyOf, createAdmission } from './admission.js';

const caller = (over: Partial<Caller>): Caller =>
  ({ userId: null, roles: [], sessionId: null, partnerId: null, scopes: [], clientAddress: '10.0.0.1', territory: null, ...over }) as Caller;

describe('admission', () => {
  it('charges a partner key, else the user, else the address', () => {
    expect(clientKeyOf(caller({ partnerId: 'k1', userId: 'u1' }))).toBe('partner:k1');
    expect(clientKeyOf(caller({ userId: 'u1' }))).toBe('user:u1');
    expect(clientKeyOf(caller({}))).toBe('address:10.0.0.1');
  });

  it('refuses a client over its own concurrency with RATE_LIMITED while another client is admitted', () => {
    const admission = createAdmission({ maxInFlightPerClient: 2, maxInFlightPerAddress: 3 });
    const flooder = caller({ userId: 'u1' });
    const releases = [admission.enter(flooder), admission.enter(flooder)];
    expect(() => admission.enter(flooder)).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', details: expect.objectContaining({ limit: 'concurrency' }) }));
    const other = admission.enter(caller({ userId: 'u2', clientAddress: '10.0.0.2' }));
    // A third user behind the flooder's address fits the address cap once, then the address is full.
    const sameAddress = admission.enter(caller({ userId: 'u3' }));
    expect(() => admission.enter(caller({ userId: 'u4' }))).toThrow(expect.objectContaining({ code: 'RATE_LIMITED' }));
    for (const release of [...releases, other, sameAddress]) release();
    const again = admission.enter(flooder);
    again();
    again(); // releasing twice does not count a request out twice
    expect(admission.inFlightOf('user:u1')).toBe(0);
    expect(admission.inFlightOf('address:10.0.0.1')).toBe(0);
  });

  it('lets a body past the deadline only while it keeps the minimum rate', async () => {
    const admission = createAdmission({ bodyTimeoutMs: 50, minBodyBytesPerSecond: 1000 });
    let fast = false;
    const quick = watchBodyRate(admission.bodyRate, () => (fast = true));
    quick.received(10_000);
    let slow = false;
    const dripping = watchBodyRate(admission.bodyRate, () => (slow = true));
    dripping.received(1);
    await new Promise((r) => setTimeout(r, 180));
    quick.done();
    dripping.done();
    expect(fast).toBe(false);
    expect(slow).toBe(true);
  });
});
