/**
 * The one signing scheme between Folio's services. Every request one service sends another — the
 * gateway's subgraph fetches (carrying the caller), its token resolution and trusted-document
 * polling, event feeds, catalog lookups — carries an HMAC-SHA256, under the internal secret, over
 *
 *   audience (the receiving service's name) · method · path and query · SHA-256 of the body ·
 *   a random nonce · an expiry · the caller's identity, or "service" for a call on a service's own behalf
 *
 * The receiver recomputes it with its own name and the request it actually received, and accepts
 * each nonce once (NonceWindow). A captured header set is therefore good for one delivery of that
 * exact request to that one service before it expires: replaying it with another body or
 * operation, to another service, or a second time, is refused. (Before, identity headers were
 * signed over the caller alone and internal calls over the request alone, both reusable for 60 s:
 * an admin's harmless `{ me }` headers ran `setUserRoles`.)
 *
 * The nonce window is per receiving process. With several instances of one subgraph behind a load
 * balancer, one captured request could still be delivered once to each instance within its expiry;
 * the audience and body binding still hold, so it can only repeat that exact request. Subgraph ports
 * are not meant to be reachable by clients at all (private network or mTLS, README "Security").
 */
import { anySignal } from 'any-signal';
import { createHmac, createSecretKey, hash, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ROLES, territoryOf, type Caller, type Role } from './identity.js';

/** Headers that carry the caller (when the request is made on a caller's behalf). */
export const CALLER_HEADERS = {
  userId: 'x-folio-user-id',
  roles: 'x-folio-roles',
  sessionId: 'x-folio-session-id',
  partnerId: 'x-folio-partner-id',
  scopes: 'x-folio-scopes',
  clientAddress: 'x-folio-client-address',
  territory: 'x-folio-territory',
} as const;

export const SIGNATURE_HEADERS = {
  nonce: 'x-folio-nonce',
  expires: 'x-folio-expires',
  signature: 'x-folio-signature',
} as const;

/** How long a signature is valid after signing: one hop on a private network, never a replay later. */
export const SIGNATURE_TTL_MS = 15_000;
/** Clock difference tolerated between hosts (an expiry further ahead than TTL + this is refused). */
export const MAX_CLOCK_SKEW_MS = 15_000;

/** What a signature binds, besides the caller. */
export interface SignedRequest {
  /** The receiving service's name (`accounts`, `catalog`, …): the signature is good there only. */
  readonly audience: string;
  readonly method: string;
  /** Path and query exactly as sent, normalised as `new URL()` does (`pathname + search`). */
  readonly pathAndQuery: string;
  /**
   * The body as sent; empty for GET. Give the bytes you send when you have them: a string is
   * encoded to UTF-8 to be hashed (a copy of the whole body, tens of ms for an upload).
   */
  readonly body: string | Uint8Array;
}

const VERSION = 'folio-sig-v1';

// One-shot: no Hash object per request.
function bodyDigest(body: string | Uint8Array): string {
  return hash('sha256', body, 'base64url');
}

const CALLER_HEADER_NAMES: readonly string[] = Object.values(CALLER_HEADERS);

/** The caller as header values; also the identity part of the signed text. */
function callerFields(caller: Caller): string[] {
  return [
    caller.userId ?? '',
    caller.roles.join(','),
    caller.sessionId ?? '',
    caller.partnerId ?? '',
    caller.scopes.join(','),
    caller.clientAddress.replace(/[\r\n]/g, ''),
    territoryOf(caller.territory) ?? '',
  ];
}

// One field per line, fixed order: no field can contain a newline (header values cannot), so no
// two different requests have the same text. "caller" and "service" keep the two kinds apart.
function canonical(request: SignedRequest, bodyHash: string, nonce: string, expires: string, identity: readonly string[] | null): string {
  const head = `${VERSION}\n${request.audience}\n${request.method.toUpperCase()}\n${request.pathAndQuery}\n${bodyHash}\n${nonce}\n${expires}\n`;
  return identity ? `${head}caller\n${identity.join('\n')}` : `${head}service`;
}

function mac(secret: string | KeyObject, text: string): string {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

/**
 * Signature headers (and the caller's headers, when there is a caller) for one request.
 * `caller: null` signs a call made on the sending service's own behalf.
 */
export function signRequest(secret: string, request: SignedRequest, caller: Caller | null = null, now = Date.now()): Record<string, string> {
  const nonce = randomUUID();
  const expires = String(now + SIGNATURE_TTL_MS);
  const identity = caller ? callerFields(caller) : null;
  const headers: Record<string, string> = {
    [SIGNATURE_HEADERS.nonce]: nonce,
    [SIGNATURE_HEADERS.expires]: expires,
    [SIGNATURE_HEADERS.signature]: mac(secret, canonical(request, bodyDigest(request.body), nonce, expires, identity)),
  };
  if (identity) {
    for (let i = 0; i < CALLER_HEADER_NAMES.length; i++) headers[CALLER_HEADER_NAMES[i]!] = identity[i]!;
  }
  return headers;
}

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null | undefined };

function readHeader(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? undefined : value; // a repeated signing header is never ours
}

export type RefusalReason = 'missing' | 'expired' | 'bad-signature' | 'replayed' | 'busy';

/** `caller` is null for a service's own call (no caller headers were signed). */
export type VerifyResult = { ok: true; caller: Caller | null } | { ok: false; reason: RefusalReason };

export interface NonceWindowOptions {
  /** How long a nonce must be remembered: the longest a signature can stay valid. */
  readonly windowMs: number;
  /** Bound on remembered nonces; when reached, new requests are refused (fail closed). */
  readonly maxEntries: number;
}

/**
 * Nonces seen in the last windowMs (at least) and up to 2 × windowMs, in two generations that rotate
 * every windowMs: O(1) per request, no timers, memory bounded by maxEntries. A nonce is forgotten
 * only after any signature carrying it has expired, so a forgotten nonce cannot be replayed.
 */
export class NonceWindow {
  private current = new Set<string>();
  private previous = new Set<string>();
  private startedAt: number | undefined;

  constructor(private readonly options: NonceWindowOptions) {}

  /** Records a nonce; 'replayed' if it was seen, 'busy' if the window is full. */
  accept(nonce: string, now: number): 'ok' | 'replayed' | 'busy' {
    this.startedAt ??= now;
    if (now - this.startedAt >= this.options.windowMs) {
      this.previous = now - this.startedAt >= 2 * this.options.windowMs ? new Set() : this.current;
      this.current = new Set();
      this.startedAt = now;
    }
    if (this.current.has(nonce) || this.previous.has(nonce)) return 'replayed';
    if (this.current.size + this.previous.size >= this.options.maxEntries) return 'busy';
    this.current.add(nonce);
    return 'ok';
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}

export interface RequestVerifierOptions {
  readonly secret: string;
  /** This service's name: only signatures made for it verify. */
  readonly audience: string;
  /** Remembered nonces per process. @default 500000 (≈ 16,000 signed requests a second for 30 s) */
  readonly maxNonces?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

const NONCE = /^[0-9A-Za-z_-]{16,64}$/;

/** Verifies signed requests addressed to one service; one per receiving process (it holds the nonce window). */
export class RequestVerifier {
  private readonly nonces: NonceWindow;
  private readonly now: () => number;
  /** The secret as a key once, not turned into one by every request's HMAC. */
  private readonly key: KeyObject;

  constructor(private readonly options: RequestVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.key = createSecretKey(Buffer.from(options.secret, 'utf8'));
    this.nonces = new NonceWindow({ windowMs: SIGNATURE_TTL_MS + MAX_CLOCK_SKEW_MS, maxEntries: options.maxNonces ?? 500_000 });
  }

  /** The checks that need no body: lets a receiver refuse unsigned or stale requests before reading one. */
  precheck(headers: HeaderBag): RefusalReason | undefined {
    const expires = readHeader(headers, SIGNATURE_HEADERS.expires);
    const nonce = readHeader(headers, SIGNATURE_HEADERS.nonce);
    const signature = readHeader(headers, SIGNATURE_HEADERS.signature);
    if (!expires || !nonce || !signature || !NONCE.test(nonce) || !/^\d{1,16}$/.test(expires)) return 'missing';
    const now = this.now();
    const at = Number(expires);
    if (!(at > now) || at > now + SIGNATURE_TTL_MS + MAX_CLOCK_SKEW_MS) return 'expired';
    return undefined;
  }

  /** Verifies the request as received; a valid signature's nonce is spent. */
  verify(headers: HeaderBag, request: Omit<SignedRequest, 'audience'>): VerifyResult {
    const refused = this.precheck(headers);
    if (refused) return { ok: false, reason: refused };
    const nonce = readHeader(headers, SIGNATURE_HEADERS.nonce)!;
    const expires = readHeader(headers, SIGNATURE_HEADERS.expires)!;
    const values = CALLER_HEADER_NAMES.map((name) => readHeader(headers, name));
    // Any caller header present means the request was signed with a caller; stripping or adding
    // them changes the signed text either way.
    const identity = values.some((v) => v !== undefined) ? values.map((v) => v ?? '') : null;
    const expected = Buffer.from(mac(this.key, canonical({ ...request, audience: this.options.audience }, bodyDigest(request.body), nonce, expires, identity)));
    const given = Buffer.from(readHeader(headers, SIGNATURE_HEADERS.signature)!);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'bad-signature' };
    // Only after the MAC: nobody without the secret can fill the window.
    const spent = this.nonces.accept(nonce, this.now());
    if (spent !== 'ok') return { ok: false, reason: spent };
    return { ok: true, caller: identity ? callerOf(identity) : null };
  }
}

function callerOf([userId, roles, sessionId, partnerId, scopes, clientAddress, territory]: string[]): Caller {
  return {
    userId: userId || null,
    roles: roles ? roles.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r)) : [],
    sessionId: sessionId || null,
    partnerId: partnerId || null,
    scopes: scopes ? scopes.split(',') : [],
    clientAddress: clientAddress || 'unknown',
    territory: territoryOf(territory),
  };
}

/** Where a service-to-service call goes. */
export interface InternalTarget {
  readonly secret: string;
  /** The receiving service's name. */
  readonly audience: string;
  /** Its base URL (no path). */
  readonly baseUrl: string;
}

/**
 * A signed JSON call to another service's internal route, on the calling service's own behalf.
 * It ends after `timeoutMs` (default 10 s) or when `signal` aborts, whichever comes first.
 */
export async function callInternal<T>(
  target: InternalTarget,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const bytes = method === 'POST' && body !== undefined ? Buffer.from(JSON.stringify(body), 'utf8') : Buffer.alloc(0);
  const url = new URL(pathAndQuery, target.baseUrl);
  const signed = signRequest(target.secret, { audience: target.audience, method, pathAndQuery: url.pathname + url.search, body: bytes });
  // Not AbortSignal.any: on Node 20 each call leaves an entry in the caller's signal's set of
  // dependants that is never removed, and callers pass long-lived ones (a consumer's stop signal,
  // read many times a second: the soak's slow heap growth). anySignal's listeners go with clear().
  const signal = anySignal([options.signal, AbortSignal.timeout(options.timeoutMs ?? 10_000)]);
  try {
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...signed },
      ...(method === 'POST' ? { body: bytes } : {}),
      signal,
    });
    if (!response.ok) throw new Error(`internal call ${method} ${url.pathname} to ${target.audience} failed: HTTP ${response.status}`);
    return (await response.json()) as T;
  } finally {
    signal.clear();
  }
}
