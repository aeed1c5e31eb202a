/**
 * Answers at every edge (gateway and subgraphs). Every error body has one shape, GraphQL's:
 * `{ errors: [{ message, extensions: { code, ...details } }] }`, with the status the catalogue
 * (lib/errors.ts) gives the code and `retry-after` when the error says when to retry. Internal
 * routes, 404s and operational endpoints answer the same way as /graphql does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorExtensions, FolioError } from '../errors.js';

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** A FolioError as a GraphQL-over-HTTP response: the catalogue's status, `retry-after` from `retryAfterSeconds`. */
export function errorResponse(error: FolioError, headers: Record<string, string> = {}): ErrorResponse {
  const all: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...headers };
  const retryAfter = error.details.retryAfterSeconds;
  if (typeof retryAfter === 'number') all['retry-after'] = String(Math.max(1, Math.ceil(retryAfter)));
  const body = JSON.stringify({ errors: [{ message: error.message, extensions: errorExtensions(error) }] });
  return { status: error.httpStatus, headers: all, body };
}

/** Sends `error` (anything but a FolioError is answered as INTERNAL_SERVER_ERROR); destroys the socket when an answer has already begun. */
export function sendError(res: ServerResponse, error: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const folio = error instanceof FolioError ? error : new FolioError('INTERNAL_SERVER_ERROR');
  // A body cut for arriving too slowly: the rest of it is unread, so the connection cannot be reused.
  const response = errorResponse(folio, folio.code === 'REQUEST_TIMEOUT' ? { connection: 'close', ...headers } : headers);
  res.writeHead(response.status, { ...response.headers, 'content-length': String(Buffer.byteLength(response.body)) });
  res.end(response.body);
}

export const notFoundRoute = (): FolioError => new FolioError('NOT_FOUND', 'Not found.');

/**
 * A client that went away mid-request (closed the socket, aborted the body): nothing to answer and
 * nothing broken on our side, so it is logged at debug, never as an error (log flooding).
 */
export function isClientAbort(error: unknown, req: IncomingMessage): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return req.readableAborted || req.socket?.destroyed === true || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (error instanceof Error && error.message === 'aborted');
}
