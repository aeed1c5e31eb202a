import { describe, expect, it } from 'vitest';
import { hashPassword, passwordWeakness, verifyPassword } from './passwords.js';

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('correct horse battery stapler', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same password twice')).not.toBe(await hashPassword('same password twice'));
  });

  it('treats NFKC-equivalent passwords as equal', async () => {
    const hash = await hashPassword('ｆｕｌｌｗｉｄｔｈ password');
    expect(await verifyPassword('fullwidth password', hash)).toBe(true);
  });

  it('refuses malformed stored hashes', async () => {
    expect(await verifyPassword('x', 'md5$abc')).toBe(false);
  });
});

describe('password policy', () => {
  it.each([
    ['short', 'at least'],
    ['aaaaaaaaaaaaaaa', 'repetitive'],
    ['xx-alice-secret-xx', 'username'],
    ['password12345', 'common'],
  ])('refuses %s', (password, reason) => {
    expect(passwordWeakness(password, 'alice')).toContain(reason);
  });

  it('accepts a long passphrase', () => {
    expect(passwordWeakness('tea kettle on a quiet morning', 'alice')).toBeNull();
  });
});
