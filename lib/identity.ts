/**
 * The caller, as the gateway resolved it, carried to subgraphs in signed internal headers.
 * The gateway authenticates once; subgraphs trust only what carries a valid HMAC, so calling a
 * subgraph port directly with a forged `x-folio-user-id` gets nothing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { FolioError } from './errors.js';

export const ROLES = ['READER', 'EDITOR', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  /** Opaque user id, or null for an anonymous caller or a partner. */
  readonly userId: string | null;
  readonly roles: readonly Role[];
  /** Session id the token belongs to (for "revoke this session"). */
  readonly sessionId: string | null;
  /** Partner API key id, when the caller is a partner integration. */
  readonly partnerId: string | null;
  /** Scopes granted to a partner key. */
  readonly scopes: readonly string[];
  /** Client address as seen by the gateway (for per-address limits in subgraphs). */
  readonly clientAddress: string;
  /**
   * Where the caller is, ISO 3166-1 alpha-2 upper case (`DE`), as a trusted CDN/load balancer told
   * the gateway; null when unknown. Licences restricted to territories need it.
   */
  readonly territory: string | null;
}

/** What a credential alone determines (accounts resolves it); where the request came from is added by the gateway. */
export type CredentialCaller = Omit<Caller, 'clientAddress' | 'territory'>;

export const ANONYMOUS: Caller = Object.freeze({
  userId: null,
  roles: [],
  sessionId: null,
  partnerId: null,
  scopes: [],
  clientAddress: 'unknown',
  territory: null,
});

export const IDENTITY_HEADERS = {
  userId: 'x-folio-user-id',
  roles: 'x-folio-roles',
  sessionId: 'x-folio-session-id',
  partnerId: 'x-folio-partner-id',
  scopes: 'x-folio-scopes',
  clientAddress: 'x-folio-client-address',
  territory: 'x-folio-territory',
  expires: 'x-folio-identity-expires',
  signature: 'x-folio-identity-signature',
  requestId: 'x-request-id',
} as const;

/** How long a signed identity stays valid: long enough for one federated request, no replay later. */
export const IDENTITY_TTL_MS = 60_000;

type HeaderBag = Record<string, string | string[] | undefined> | Headers | { get(name: string): string | null | undefined };

function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value[0] : value;
}

function canonical(fields: Record<string, string>): string {
  // Fixed order, with an explicit separator that cannot appear in any field value.
  return [
    fields.userId,
    fields.roles,
    fields.sessionId,
    fields.partnerId,
    fields.scopes,
    fields.clientAddress,
    fields.territory,
    fields.expires,
  ].join('\n');
}

function fieldsOf(caller: Caller, expires: number): Record<string, string> {
  return {
    userId: caller.userId ?? '',
    roles: caller.roles.join(','),
    sessionId: caller.sessionId ?? '',
    partnerId: caller.partnerId ?? '',
    scopes: caller.scopes.join(','),
    clientAddress: caller.clientAddress.replace(/[\r\n]/g, ''),
    territory: territoryOf(caller.territory) ?? '',
    expires: String(expires),
  };
}

const TERRITORY = /^[A-Z]{2}$/;

/** `de` → `DE`; anything that is not two letters → null (an unknown territory, never a guessed one). */
export function territoryOf(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const upper = value.trim().toUpperCase();
  return TERRITORY.test(upper) ? upper : null;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

/** Headers the gateway adds to every subgraph request. */
export function signIdentity(caller: Caller, secret: string, now = Date.now()): Record<string, string> {
  const fields = fieldsOf(caller, now + IDENTITY_TTL_MS);
  return {
    [IDENTITY_HEADERS.userId]: fields.userId!,
    [IDENTITY_HEADERS.roles]: fields.roles!,
    [IDENTITY_HEADERS.sessionId]: fields.sessionId!,
    [IDENTITY_HEADERS.partnerId]: fields.partnerId!,
    [IDENTITY_HEADERS.scopes]: fields.scopes!,
    [IDENTITY_HEADERS.clientAddress]: fields.clientAddress!,
    [IDENTITY_HEADERS.territory]: fields.territory!,
    [IDENTITY_HEADERS.expires]: fields.expires!,
    [IDENTITY_HEADERS.signature]: sign(secret, canonical(fields)),
  };
}

export type IdentityResult = { ok: true; caller: Caller } | { ok: false; reason: 'missing' | 'bad-signature' | 'expired' };

/** Verifies the signed headers; expected failure is returned, not thrown. */
export function verifyIdentity(headers: HeaderBag, secret: string, now = Date.now()): IdentityResult {
  const signature = readHeader(headers, IDENTITY_HEADERS.signature);
  const expiresRaw = readHeader(headers, IDENTITY_HEADERS.expires);
  if (!signature || !expiresRaw) return { ok: false, reason: 'missing' };
  const fields = {
    userId: readHeader(headers, IDENTITY_HEADERS.userId) ?? '',
    roles: readHeader(headers, IDENTITY_HEADERS.roles) ?? '',
    sessionId: readHeader(headers, IDENTITY_HEADERS.sessionId) ?? '',
    partnerId: readHeader(headers, IDENTITY_HEADERS.partnerId) ?? '',
    scopes: readHeader(headers, IDENTITY_HEADERS.scopes) ?? '',
    clientAddress: readHeader(headers, IDENTITY_HEADERS.clientAddress) ?? '',
    territory: readHeader(headers, IDENTITY_HEADERS.territory) ?? '',
    expires: expiresRaw,
  };
  const expected = Buffer.from(sign(secret, canonical(fields)));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
  if (!(Number(expiresRaw) > now)) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    caller: {
      userId: fields.userId || null,
      roles: fields.roles ? (fields.roles.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r))) : [],
      sessionId: fields.sessionId || null,
      partnerId: fields.partnerId || null,
      scopes: fields.scopes ? fields.scopes.split(',') : [],
      clientAddress: fields.clientAddress || 'unknown',
      territory: territoryOf(fields.territory),
    },
  };
}

export const hasRole = (caller: Caller, ...roles: Role[]): boolean => caller.roles.some((r) => roles.includes(r));
export const isStaff = (caller: Caller): boolean => hasRole(caller, 'EDITOR', 'ADMIN');

/** The signed-in user's id, or UNAUTHENTICATED. */
export function requireUser(caller: Caller): string {
  if (!caller.userId) throw new FolioError('UNAUTHENTICATED', 'Sign in first.');
  return caller.userId;
}

/** The caller must be signed in and hold one of these roles. */
export function requireRole(caller: Caller, ...roles: Role[]): string {
  const userId = requireUser(caller);
  if (!hasRole(caller, ...roles)) throw new FolioError('FORBIDDEN', `Only ${roles.join(' or ')} users may do that.`);
  return userId;
}
