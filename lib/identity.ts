/**
 * The caller, as the gateway resolved it, carried to subgraphs in signed headers (lib/signing.ts).
 * The gateway authenticates once; subgraphs trust only what carries a valid signature, so calling a
 * subgraph port directly with a forged `x-folio-user-id` gets nothing.
 */
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

const TERRITORY = /^[A-Z]{2}$/;

/** `de` → `DE`; anything that is not two letters → null (an unknown territory, never a guessed one). */
export function territoryOf(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const upper = value.trim().toUpperCase();
  return TERRITORY.test(upper) ? upper : null;
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
