/**
 * Authentication, once per request at the gateway: a bearer session token (app clients, admin UI)
 * or an `x-api-key` (partners) is resolved by the accounts service's signed internal endpoint
 * `POST /internal/auth/resolve`. Resolutions (including refusals) are cached in a bounded LRU for
 * `cacheSeconds`, so auth costs a map lookup on the hot path; the price is that a revoked session
 * or key keeps working for at most that long. Concurrent misses for one credential share one call.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { LRUCache } from 'lru-cache';
import { callInternal } from '../../lib/signing.js';
import { FolioError } from '../../lib/errors.js';
import { ANONYMOUS, ROLES, type Caller, type CredentialCaller, type Role } from '../../lib/identity.js';
import type { RateSpec } from '../../lib/config.js';

export interface AuthOptions {
  /** Signs calls to accounts. */
  readonly secret: string;
  /** Base URL of the accounts internal endpoints; undefined when the supergraph has no Folio accounts. */
  readonly authUrl: string | undefined;
  /** How long a resolution is trusted. @default 5 */
  readonly cacheSeconds?: number;
  /** Bound on cached credentials. @default 10000 */
  readonly maxEntries?: number;
  /** Timeout of one resolve call. @default 3000 */
  readonly timeoutMs?: number;
}

export interface Authenticated {
  readonly caller: Caller;
  /** A partner key's own budget, when accounts returned one. */
  readonly rateLimit: RateSpec | undefined;
}

/** The contract of accounts' resolve endpoint. */
export interface ResolveResponse {
  readonly caller: CredentialCaller | null;
  readonly error?: 'UNAUTHENTICATED';
  readonly rateLimit?: RateSpec;
}

type Resolution = { ok: true; caller: CredentialCaller; rateLimit: RateSpec | undefined } | { ok: false };

const TOKEN = /^[\x21-\x7e]{1,2048}$/;
const BEARER = /^Bearer +([\x21-\x7e]{1,2048})$/i;

/** What the gateway knows of where a request came from (clientAddress.ts), not from the credential. */
export type CallerOrigin = Pick<Caller, 'clientAddress' | 'territory'>;

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders, origin: CallerOrigin): Promise<Authenticated>;
}

export function createAuthenticator(options: AuthOptions): Authenticator {
  const ttl = (options.cacheSeconds ?? 5) * 1000;
  const cache = new LRUCache<string, Resolution, { token?: string; apiKey?: string }>({
    max: options.maxEntries ?? 10_000,
    ttl: Math.max(1, ttl),
    // A failed call (accounts down) is thrown, never cached.
    fetchMethod: async (_key, _stale, { context }) => resolveRemote(options, context),
  });

  async function resolve(kind: 'token' | 'apiKey', credential: string): Promise<Resolution> {
    // Keyed by a hash: the heap never holds a table of live credentials.
    const key = `${kind}:${createHash('sha256').update(credential).digest('base64url')}`;
    if (ttl === 0) return resolveRemote(options, { [kind]: credential });
    const found = await cache.fetch(key, { context: { [kind]: credential } });
    return found ?? { ok: false };
  }

  return {
    async authenticate(headers, origin) {
      const authorization = headers.authorization;
      const apiKey = headers['x-api-key'];
      if (authorization === undefined && apiKey === undefined) return { caller: { ...ANONYMOUS, ...origin }, rateLimit: undefined };
      if (authorization !== undefined && apiKey !== undefined) {
        throw new FolioError('UNAUTHENTICATED', 'Send either a bearer token or an API key, not both.');
      }
      let resolution: Resolution;
      if (authorization !== undefined) {
        const match = BEARER.exec(authorization);
        if (!match) throw new FolioError('UNAUTHENTICATED', 'The Authorization header must be "Bearer <token>".');
        resolution = await resolve('token', match[1]!);
      } else {
        if (typeof apiKey !== 'string' || !TOKEN.test(apiKey)) throw new FolioError('UNAUTHENTICATED', 'The x-api-key header is malformed.');
        resolution = await resolve('apiKey', apiKey);
      }
      if (!resolution.ok) {
        throw new FolioError('UNAUTHENTICATED', authorization !== undefined ? 'The session token is invalid or expired; sign in again.' : 'The API key is invalid or revoked.');
      }
      return { caller: { ...resolution.caller, clientAddress: origin.clientAddress, territory: origin.territory }, rateLimit: resolution.rateLimit };
    },
  };
}

async function resolveRemote(options: AuthOptions, body: { token?: string; apiKey?: string }): Promise<Resolution> {
  if (!options.authUrl) throw new FolioError('SERVICE_UNAVAILABLE', 'Authentication is not available on this gateway.');
  let answer: ResolveResponse;
  try {
    answer = await callInternal<ResolveResponse>({ secret: options.secret, audience: 'accounts', baseUrl: options.authUrl }, 'POST', '/internal/auth/resolve', body, {
      timeoutMs: options.timeoutMs ?? 3000,
    });
  } catch (error) {
    throw new FolioError('SERVICE_UNAVAILABLE', 'The authentication service is unavailable; retry later.', { cause: error });
  }
  if (!answer || answer.error || !answer.caller) return { ok: false };
  return { ok: true, caller: sanitizeCaller(answer.caller), rateLimit: sanitizeRate(answer.rateLimit) };
}

// Accounts is trusted, but its answer still goes into signed headers: keep it to the shape they carry.
function sanitizeCaller(raw: CredentialCaller): CredentialCaller {
  const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 200 && !/[\r\n,]/.test(v) ? v : null);
  const roles = Array.isArray(raw.roles) ? raw.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r)) : [];
  const scopes = Array.isArray(raw.scopes) ? raw.scopes.map(str).filter((s): s is string => s !== null) : [];
  return { userId: str(raw.userId), roles, sessionId: str(raw.sessionId), partnerId: str(raw.partnerId), scopes };
}

function sanitizeRate(raw: RateSpec | undefined): RateSpec | undefined {
  if (!raw || !Number.isInteger(raw.points) || !Number.isInteger(raw.durationSeconds)) return undefined;
  if (raw.points < 1 || raw.durationSeconds < 1) return undefined;
  return { points: raw.points, durationSeconds: raw.durationSeconds };
}
