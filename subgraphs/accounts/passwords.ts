/**
 * Password hashing with scrypt (memory-hard, in node:crypto) and constant-time comparison.
 * The parameters are stored with each hash so they can be raised later without a migration.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const scrypt = (password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) => scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key))));

export interface ScryptParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly keylen: number;
}

/** N=2^15, r=8: ~32 MiB and tens of ms per hash. Stored with each hash, so raising it later needs no migration. */
export const SCRYPT_PARAMS: ScryptParams = { N: 1 << 15, r: 8, p: 1, keylen: 32 };

export const scryptParams = (logN: number): ScryptParams => ({ ...SCRYPT_PARAMS, N: 1 << logN });

export async function hashPassword(password: string, params: ScryptParams = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password.normalize('NFKC'), salt, params.keylen, { N: params.N, r: params.r, p: params.p, maxmem: 128 * params.N * params.r * 2 });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, saltText, keyText] = stored.split('$');
  if (scheme !== 'scrypt' || !saltText || !keyText) return false;
  const expected = Buffer.from(keyText, 'base64url');
  const N = Number(n);
  const R = Number(r);
  const key = await scrypt(password.normalize('NFKC'), Buffer.from(saltText, 'base64url'), expected.length, { N, r: R, p: Number(p), maxmem: 128 * N * R * 2 });
  return timingSafeEqual(key, expected);
}

export interface PasswordPolicy {
  readonly minLength: number;
  readonly maxLength: number;
}
export const PASSWORD_POLICY: PasswordPolicy = { minLength: 10, maxLength: 200 };

/** Returns why a password is too weak, or null. Length matters most (NIST 800-63B); a few obvious cases are refused. */
export function passwordWeakness(password: string, username: string, policy = PASSWORD_POLICY): string | null {
  if (password.length < policy.minLength) return `Password must be at least ${policy.minLength} characters.`;
  if (password.length > policy.maxLength) return `Password must be at most ${policy.maxLength} characters.`;
  if (new Set(password).size < 4) return 'Password is too repetitive.';
  if (password.toLowerCase().includes(username.toLowerCase())) return 'Password must not contain the username.';
  if (/^(password|qwerty|123456|letmein|iloveyou|admin)/i.test(password)) return 'Password is too common.';
  return null;
}
