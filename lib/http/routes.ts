/**
 * Routes beside /graphql (internal feeds, downloads, lookups). Apollo Server 5 ships no framework
 * integration and each service needs only a handful of routes, so a route table over node:http is
 * enough (no express). Internal routes need a request signed for this service (lib/signing.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { badInput, FolioError } from '../errors.js';
import type { RefusalReason, RequestVerifier, VerifyResult } from '../signing.js';
import { readBody } from './body.js';
import { sendError } from './respond.js';

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
  /** @default 1 MiB */
  readonly maxBodyBytes?: number;
  handle(request: RouteRequest): Promise<void> | void;
}

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** A route's JSON body checked against `schema`; BAD_USER_INPUT naming `expected` otherwise. */
export async function jsonBody<T>(body: () => Promise<Buffer>, schema: z.ZodType<T>, expected: string): Promise<T> {
  let raw: unknown;
  try {
    raw = JSON.parse((await body()).toString('utf8') || '{}');
  } catch {
    throw badInput(`Expected JSON ${expected}.`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badInput(`Expected ${expected}.`);
  return parsed.data;
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
  const body = (): Promise<Buffer> => (bodyPromise ??= readBody(req, { maxBytes: route.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES }));
  try {
    if (route.internal) {
      // Unsigned or stale requests are refused before their body is read.
      const refused = verifier.precheck(req.headers) ?? refusalOf(verifier.verify(req.headers, {
        method: req.method ?? 'GET',
        pathAndQuery: url.pathname + url.search,
        body: req.method === 'POST' ? await body() : '',
      }));
      if (refused === 'busy') {
        sendError(res, new FolioError('SERVICE_UNAVAILABLE', 'Too many signed requests to remember; retry.', { details: { retryAfterSeconds: 1 } }));
        return true;
      }
      if (refused) {
        sendError(res, new FolioError('UNAUTHENTICATED', 'Internal endpoint: missing, invalid, expired or replayed signature.'));
        return true;
      }
    }
    await route.handle({ req, res, url, body });
  } catch (error) {
    if (!(error instanceof FolioError) && !res.headersSent) throw error;
    sendError(res, error);
  }
  return true;
}
