/**
 * Service-to-service calls (gateway → accounts token resolution, event feeds between subgraphs)
 * are signed with the internal secret over timestamp, method, path and body, so an outside
 * caller who reaches a subgraph port cannot use its internal endpoints.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const INTERNAL_HEADERS = {
  timestamp: 'x-folio-internal-ts',
  signature: 'x-folio-internal-signature',
} as const;

/** Requests older (or further in the future) than this are refused: no replays. */
export const INTERNAL_MAX_SKEW_MS = 60_000;

function digest(secret: string, ts: string, method: string, pathAndQuery: string, body: string): string {
  const bodyHash = createHash('sha256').update(body).digest('base64url');
  return createHmac('sha256', secret).update(`${ts}\n${method.toUpperCase()}\n${pathAndQuery}\n${bodyHash}`).digest('base64url');
}

export function signInternalRequest(
  secret: string,
  method: string,
  pathAndQuery: string,
  body = '',
  now = Date.now(),
): Record<string, string> {
  const ts = String(now);
  return { [INTERNAL_HEADERS.timestamp]: ts, [INTERNAL_HEADERS.signature]: digest(secret, ts, method, pathAndQuery, body) };
}

export function verifyInternalRequest(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  method: string,
  pathAndQuery: string,
  body = '',
  now = Date.now(),
): boolean {
  const ts = headers[INTERNAL_HEADERS.timestamp];
  const signature = headers[INTERNAL_HEADERS.signature];
  if (typeof ts !== 'string' || typeof signature !== 'string') return false;
  if (!(Math.abs(now - Number(ts)) <= INTERNAL_MAX_SKEW_MS)) return false;
  const expected = Buffer.from(digest(secret, ts, method, pathAndQuery, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** A signed JSON call to another service's internal endpoint. */
export async function callInternal<T>(
  secret: string,
  baseUrl: string,
  method: 'GET' | 'POST',
  pathAndQuery: string,
  body?: unknown,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<T> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const signal = options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const response = await fetch(new URL(pathAndQuery, baseUrl), {
    method,
    headers: { 'content-type': 'application/json', ...signInternalRequest(secret, method, pathAndQuery, text) },
    ...(method === 'POST' ? { body: text } : {}),
    signal,
  });
  if (!response.ok) throw new Error(`internal call ${method} ${pathAndQuery} failed: HTTP ${response.status}`);
  return (await response.json()) as T;
}
