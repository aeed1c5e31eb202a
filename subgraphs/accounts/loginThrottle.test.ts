import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FolioError } from '../../lib/errors.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import { tempDataDir } from '../../test/kit/tempDir.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type ThrottleRule } from './loginThrottle.js';
import { openAccountsStore, type AccountsStore } from './store.js';

const T0 = Date.UTC(2026, 0, 1);

describe('login throttle on the real (embedded) store', () => {
  const dataDir = tempDataDir();
  let storage: Storage;
  let store: AccountsStore;
  let refused: ThrottleRule[];
  let throttle: LoginThrottle;

  beforeAll(async () => {
    storage = await openStorage({ dataDir });
    store = await openAccountsStore(storage.db('folio_accounts'));
  });
  afterAll(async () => {
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await store.throttle.deleteMany({});
    await store.knownAddresses.deleteMany({});
    refused = [];
    throttle = new LoginThrottle(store, DEFAULT_LOGIN_THROTTLE, { refused: (rule) => refused.push(rule) });
  });

  const outcome = async (p: Promise<unknown>): Promise<'ok' | { retryAfterSeconds: number; message: string }> => {
    try {
      await p;
      return 'ok';
    } catch (error) {
      if (!(error instanceof FolioError) || error.code !== 'RATE_LIMITED') throw error;
      return { retryAfterSeconds: error.details.retryAfterSeconds as number, message: error.message };
    }
  };

  it('lets exactly 5 of 20 racing attempts on one username from one address through', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => outcome(throttle.beginLogin('victim', '203.0.113.9', T0))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    expect(refused).toEqual(Array(15).fill('pair'));
    const limited = results.find((r) => r !== 'ok') as { retryAfterSeconds: number };
    expect(limited.retryAfterSeconds).toBe(15 * 60);
    // The window ends: the same pair gets a fresh budget.
    expect(await outcome(throttle.beginLogin('victim', '203.0.113.9', T0 + 15 * 60_000 + 1))).toBe('ok');
  });

  it('slows a username attacked from many addresses with doubling waits, but not from an address its owner uses', async () => {
    await throttle.remember('victim', '198.51.100.7', T0 - 86_400_000);
    const wave = await Promise.all(Array.from({ length: 20 }, (_, i) => outcome(throttle.beginLogin('victim', `203.0.113.${i}`, T0))));
    // 10 free attempts, plus the one that opened the first 1 s wait.
    expect(wave.filter((r) => r === 'ok')).toHaveLength(11);
    expect(refused.every((rule) => rule === 'username')).toBe(true);

    const waits: number[] = [];
    let now = T0;
    for (let i = 0; i < 8; i++) {
      const r = await outcome(throttle.beginLogin('victim', `192.0.2.${i}`, now));
      expect(r).not.toBe('ok');
      const wait = (r as { retryAfterSeconds: number }).retryAfterSeconds;
      waits.push(wait);
      now += wait * 1000;
      expect(await outcome(throttle.beginLogin('victim', `192.0.2.${100 + i}`, now))).toBe('ok');
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 64, 128]);

    // Meanwhile the owner, at home, is never kept waiting.
    const owner = await throttle.beginLogin('victim', '198.51.100.7', now);
    await owner.succeeded();
    expect(await outcome(throttle.beginLogin('victim', '198.51.100.7', now))).toBe('ok');
  });

  it('words refusals the same whether or not the username exists, and never says which rule refused', async () => {
    for (let i = 0; i < 5; i++) await throttle.beginLogin('someone', '203.0.113.1', T0);
    const a = await outcome(throttle.beginLogin('someone', '203.0.113.1', T0));
    for (let i = 0; i < 5; i++) await throttle.beginLogin('no-such-user', '203.0.113.1', T0);
    const b = await outcome(throttle.beginLogin('no-such-user', '203.0.113.1', T0));
    expect(a).toEqual(b);
    expect((a as { message: string }).message).toBe('Too many sign-in attempts. Try again in 900 seconds.');
  });

  it('stops an address spraying many usernames, while people behind it who sign in as themselves go on', async () => {
    const nat = '203.0.113.50';
    await throttle.remember('regular', nat, T0);
    const sprayed = [];
    for (let i = 0; i < 105; i++) sprayed.push(await outcome(throttle.beginLogin(`name${i}`, nat, T0)));
    expect(sprayed.filter((r) => r === 'ok')).toHaveLength(100);
    expect(refused).toEqual(Array(5).fill('address'));
    // A familiar user behind the same address is unaffected…
    const regular = await throttle.beginLogin('regular', nat, T0);
    await regular.succeeded();
    // …and a success does not reset the address's count for everyone else.
    expect(await outcome(throttle.beginLogin('name-new', nat, T0))).not.toBe('ok');
  });

  it('gives back a successful attempt, so an owner who mistypes a few times is not counted against', async () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) await throttle.beginLogin('typo', '198.51.100.20', T0);
      await (await throttle.beginLogin('typo', '198.51.100.20', T0)).succeeded();
    }
    expect(await outcome(throttle.beginLogin('typo', '198.51.100.20', T0))).toBe('ok');
    expect(refused).toEqual([]);
  });

  it('limits registrations per address per hour, atomically', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => outcome(throttle.beginRegistration('203.0.113.77', T0))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(20);
    expect(await outcome(throttle.beginRegistration('203.0.113.78', T0))).toBe('ok');
    expect(await outcome(throttle.beginRegistration('203.0.113.77', T0 + 3_600_001))).toBe('ok');
  });
});
