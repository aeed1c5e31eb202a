/**
 * Attacker's side of issue 9 §4: racing guesses, locking the owner out, registration floods.
 * Client addresses come from X-Forwarded-For, believed from loopback (the test's "proxy").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN, REGISTER } from '../kit/accounts.js';
import { errorCodes, graphql, mustQuery, startTestPlatform, type TestPlatform } from '../kit/platform.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform({
    env: { FOLIO_GATEWAY_TRUSTED_PROXIES: '127.0.0.1,::1', FOLIO_REGISTRATIONS_PER_ADDRESS_HOUR: '5' },
  });
});
afterAll(async () => platform?.stop());

const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });

/** Password comparisons accounts has run, from its Prometheus counter. */
async function passwordChecks(): Promise<number> {
  const text = await (await fetch(platform.services.accounts!.url.replace(/\/graphql$/, '/metrics'))).text();
  let total = 0;
  for (const m of text.matchAll(/^folio_accounts_password_checks_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
  return total;
}

async function registerAt(address: string, username: string, password: string): Promise<void> {
  await mustQuery(platform.gateway, REGISTER, { input: { username, password, displayName: username } }, from(address));
}

describe('login throttling, from the attacker’s side', () => {
  it('checks at most 5 of 20 parallel wrong passwords for one username', async () => {
    await registerAt('198.51.100.1', 'racevictim', 'the real password 1');
    const before = await passwordChecks();
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => graphql(platform.gateway, LOGIN, { username: 'racevictim', password: `guess number ${i}` }, from('203.0.113.5'))),
    );
    const checks = (await passwordChecks()) - before;
    expect(checks).toBeLessThanOrEqual(5);
    expect(guesses.filter((g) => errorCodes(g)[0] === 'UNAUTHENTICATED')).toHaveLength(checks);
    const limited = guesses.filter((g) => errorCodes(g)[0] === 'RATE_LIMITED');
    expect(limited).toHaveLength(20 - checks);
    expect(limited[0]!.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('cannot lock the owner out: the owner signs in from their usual address while the account is hammered from many', async () => {
    await registerAt('198.51.100.2', 'hammered', 'owner password 42');
    // A botnet: 40 addresses, several guesses each, in parallel.
    const storm = await Promise.all(
      Array.from({ length: 120 }, (_, i) => graphql(platform.gateway, LOGIN, { username: 'hammered', password: `bot guess ${i}` }, from(`203.0.113.${100 + (i % 40)}`))),
    );
    expect(storm.some((g) => errorCodes(g)[0] === 'RATE_LIMITED')).toBe(true);
    expect(storm.every((g) => ['UNAUTHENTICATED', 'RATE_LIMITED'].includes(errorCodes(g)[0]!))).toBe(true);
    const owner = await graphql(platform.gateway, LOGIN, { username: 'hammered', password: 'owner password 42' }, from('198.51.100.2'));
    expect(owner.errors).toBeUndefined();
    expect(owner.data!.login.token).toMatch(/^fst_/);
  });

  it('refuses with the same words for a username that does not exist', async () => {
    const guess = (username: string) => graphql(platform.gateway, LOGIN, { username, password: 'some wrong password' }, from('203.0.113.9'));
    await registerAt('198.51.100.3', 'existing1', 'existing password 1');
    for (let i = 0; i < 5; i++) await Promise.all([guess('existing1'), guess('nobody_at_all')]);
    const [real, ghost] = await Promise.all([guess('existing1'), guess('nobody_at_all')]);
    expect(errorCodes(real)).toEqual(['RATE_LIMITED']);
    expect(errorCodes(ghost)).toEqual(['RATE_LIMITED']);
    expect(real.errors![0]!.message.replace(/\d+/g, 'N')).toBe(ghost.errors![0]!.message.replace(/\d+/g, 'N'));
  });

  it('throttles a registration flood from one address (each costs an scrypt hash), not other addresses', async () => {
    const flood = await Promise.all(
      Array.from({ length: 15 }, (_, i) =>
        graphql(platform.gateway, REGISTER, { input: { username: `flood_${i}`, password: `flood password ${i}`, displayName: 'f' } }, from('203.0.113.200')),
      ),
    );
    expect(flood.filter((r) => !r.errors)).toHaveLength(5);
    const refused = flood.filter((r) => errorCodes(r)[0] === 'RATE_LIMITED');
    expect(refused).toHaveLength(10);
    expect(refused[0]!.errors![0]!.extensions!.retryAfterSeconds).toBeGreaterThan(0);
    await registerAt('198.51.100.201', 'elsewhere', 'a different password');
  });
});
