/** Attacker's side of issue 9 §7 for accounts: look-alike usernames, mixed scripts, bidi tricks in profiles. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTER, registerUser } from '../kit/accounts.js';
import { errorCodes, graphql, mustQuery, startTestPlatform, type TestPlatform } from '../kit/platform.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => platform?.stop());

const register = (username: string, password = `pw for ${Math.random()}`) =>
  graphql(platform.gateway, REGISTER, { input: { username, password, displayName: 'impostor' } });

describe('usernames cannot impersonate', () => {
  it('refuses "аdmin" (Cyrillic а, U+0430) beside the admin account, with a message saying why', async () => {
    const result = await register('\u0430dmin');
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.extensions!.field).toBe('username');
    expect(result.errors![0]!.message).toMatch(/scripts/);
  });

  it('refuses a whole-script look-alike of an existing name (Cyrillic "ѕсоре" for "scope") as CONFLICT', async () => {
    await registerUser(platform.gateway, { username: 'scope' });
    const result = await register('\u0455\u0441\u043e\u0440\u0435');
    expect(errorCodes(result)).toEqual(['CONFLICT']);
    expect(result.errors![0]!.message).toMatch(/looks the same/);
    // Greek omicron for Latin o.
    await registerUser(platform.gateway, { username: 'olga' });
    expect(errorCodes(await register('\u03bflga'))).toEqual(['BAD_USER_INPUT']); // mixed Greek + Latin
  });

  it('refuses names that mix scripts, and accepts names written in one script', async () => {
    expect(errorCodes(await register('ivan.петров'))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await register('paypa\u0406'))).toEqual(['BAD_USER_INPUT']); // Ukrainian І
    for (const name of ['иван_петров', 'くまモン漢字', 'αλέξης'])
      expect((await mustQuery(platform.gateway, REGISTER, { input: { username: name, password: 'a long enough password', displayName: name } })).register.user.username).toBe(name);
  });

  it('lets exactly one of racing look-alikes win (the skeleton is unique in the store)', async () => {
    // "coco" in Latin and "сосо" in Cyrillic: each single-script, one skeleton.
    const racers = await Promise.all(Array.from({ length: 20 }, (_, i) => register(i % 2 ? 'coco' : '\u0441\u043e\u0441\u043e', `racer password ${i}`)));
    expect(racers.filter((r) => !r.errors)).toHaveLength(1);
    expect(racers.filter((r) => errorCodes(r)[0] === 'CONFLICT')).toHaveLength(19);
  });
});

describe('profile text', () => {
  it('strips bidi controls from display names and bios, and refuses lone surrogates', async () => {
    const user = await registerUser(platform.gateway);
    // "Trojan Source": a right-to-left override makes the bio read differently from what it says.
    const updated = await mustQuery(
      platform.gateway,
      `mutation($d: String, $b: String) { updateProfile(input: { displayName: $d, bio: $b }) { displayName bio } }`,
      { d: 'Eve\u202Enimda\u202C', b: 'Reads \u2066novels\u2069 \u200Fdaily\u061C.' },
      { token: user.token },
    );
    expect(updated.updateProfile).toEqual({ displayName: 'Evenimda', bio: 'Reads novels daily.' });
    const lone = await graphql(platform.gateway, `mutation($b: String) { updateProfile(input: { bio: $b }) { bio } }`, { b: 'broken \ud800 text' }, { token: user.token });
    expect(errorCodes(lone)).toEqual(['BAD_USER_INPUT']);
    const registered = await graphql(platform.gateway, REGISTER, { input: { username: 'bidiname', password: 'a long enough password', displayName: '\u202Eevil' } });
    expect(registered.data!.register.user.displayName).toBe('evil');
  });
});
