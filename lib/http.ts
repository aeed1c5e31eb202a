/**
 * The small HTTP layer every service shares. Apollo Server 5 ships no framework integration,
 * and each service needs only a handful of routes, so a route table over node:http is enough
 * (no express): bounded bodies, JSON helpers, and signed internal routes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorExtensions, FolioError } from './errors.js';
import type { RefusalReason, RequestVerifier, VerifyResult } from './signing.js';

export interface RouteRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The raw body, read up to the route's limit. */
  body(): Promise<Buffer>;
}

export interface Route {
  readonly method: 'GET' | 'POST' | 'HEAD';
  /** Exact path, or a prefix ending in '/*'. */
  readonly path: string;
  /** Internal routes require a valid signature addressed to this service (see lib/signing.ts). */
  readonly internal?: boolean;
  readonly maxBodyBytes?: number;
  handle(request: RouteRequest): Promise<void> | void;
}

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Operational endpoints (/metrics, /readyz): open without a token, else `Authorization: Bearer <token>` (compared in constant time). */
export function opsAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization;
  const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}

export function sendOpsUnauthorized(res: ServerResponse): void {
  sendJson(res, 401, { errors: [{ message: 'This operational endpoint needs the operations token.', extensions: { code: 'UNAUTHENTICATED' } }] }, { 'www-authenticate': 'Bearer' });
}

/**
 * A client that went away mid-request (closed the socket, aborted the body): nothing to answer and
 * nothing broken on our side, so it is logged at debug, never as an error (log flooding).
 */
export function isClientAbort(error: unknown, req: IncomingMessage): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return req.readableAborted || req.socket?.destroyed === true || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (error instanceof Error && error.message === 'aborted');
}

export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new FolioError('PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes.`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(new FolioError('PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBytes} bytes.`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export function sendGraphQLError(res: ServerResponse, error: FolioError, headers: Record<string, string> = {}): void {
  sendJson(res, error.httpStatus, { errors: [{ message: error.message, extensions: errorExtensions(error) }] }, headers);
}

function matches(route: Route, method: string, pathname: string): boolean {
  if (route.method !== method && !(route.method === 'GET' && method === 'HEAD')) return false;
  return route.path.endsWith('/*') ? pathname.startsWith(route.path.slice(0, -1)) : pathname === route.path;
}

const refusalOf = (result: VerifyResult): RefusalReason | undefined => (result.ok ? undefined : result.reason);

/** Finds and runs a route; returns false when none matches. `verifier` checks internal routes' signatures. */
export async function dispatch(routes: readonly Route[], req: IncomingMessage, res: ServerResponse, verifier: RequestVerifier): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://internal');
  const route = routes.find((r) => matches(r, req.method ?? 'GET', url.pathname));
  if (!route) return false;
  let bodyPromise: Promise<Buffer> | undefined;
  const body = (): Promise<Buffer> => (bodyPromise ??= readBody(req, route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES));
  try {
    if (route.internal) {
      // Unsigned or stale requests are refused before their body is read.
      const refused = verifier.precheck(req.headers) ?? refusalOf(verifier.verify(req.headers, {
        method: req.method ?? 'GET',
        pathAndQuery: url.pathname + url.search,
        body: req.method === 'POST' ? await body() : '',
      }));
      if (refused === 'busy') {
        sendJson(res, 503, { error: 'SERVICE_UNAVAILABLE', message: 'Too many signed requests to remember; retry.' }, { 'retry-after': '1' });
        return true;
      }
      if (refused) {
        sendJson(res, 401, { error: 'UNAUTHENTICATED', message: 'Internal endpoint: missing, invalid, expired or replayed signature.' });
        return true;
      }
    }
    await route.handle({ req, res, url, body });
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
    } else if (error instanceof FolioError) {
      sendJson(res, error.httpStatus, { error: error.code, message: error.message });
    } else {
      throw error;
    }
  }
  return true;
}
