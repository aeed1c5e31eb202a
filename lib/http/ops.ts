/**
 * Operational endpoints, the same on the gateway and every subgraph:
 * - `GET /healthz` (liveness, always public): 200 `{ status: 'ok', service }` while serving,
 *   503 `{ status: 'draining' }` once the server drains for shutdown.
 * - `GET /readyz`: 200 `{ status: 'ready', service, checks }` when the service's own check passes,
 *   503 `not-ready` (or `draining`) with the failing checks otherwise.
 * - `GET /metrics`: the service's Prometheus registry.
 * `/readyz` and `/metrics` name internals, so with an operations token (FOLIO_OPS_TOKEN) they need
 * `Authorization: Bearer <token>`; `operational: false` leaves them out (the gateway's public port
 * when they have a port of their own).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FolioError } from '../errors.js';
import { sendError, sendJson } from './respond.js';

/** A readiness answer with the reason, shown to operators in `/readyz`'s body. */
export interface Readiness {
  readonly ready: boolean;
  /** e.g. `{ storage: 'not-writable: OutOfDiskSpace' }`, `{ catalog: 'ok', ugc: 'down' }` */
  readonly checks: Readonly<Record<string, string>>;
}

export interface OpsEndpointsOptions {
  /** The service's name, in every body. */
  readonly service: string;
  readonly registry: { metrics(): Promise<string>; readonly contentType: string };
  readiness(): Promise<Readiness>;
  isDraining(): boolean;
  /** Bearer token /readyz and /metrics require. @default undefined (open) */
  readonly token?: string | undefined;
  /** Serve /readyz and /metrics here (false: only /healthz). @default true */
  readonly operational?: boolean;
}

export interface OpsEndpoints {
  /** Answers a GET/HEAD for one of the endpoints; false when `path` is none of them (or not served here). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

/** Open without a token, else `Authorization: Bearer <token>` (compared in constant time). */
export function opsAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const header = req.headers.authorization;
  const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(token));
}

const unauthorized = (): FolioError => new FolioError('UNAUTHENTICATED', 'This operational endpoint needs the operations token.');

export function createOpsEndpoints(options: OpsEndpointsOptions): OpsEndpoints {
  const operational = options.operational !== false;
  const { service } = options;
  return {
    async handle(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === '/healthz') {
        const draining = options.isDraining();
        sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok', service });
        return true;
      }
      if (!operational || (path !== '/readyz' && path !== '/metrics')) return false;
      if (!opsAuthorized(req, options.token)) {
        sendError(res, unauthorized(), { 'www-authenticate': 'Bearer' });
        return true;
      }
      if (path === '/readyz') {
        if (options.isDraining()) {
          sendJson(res, 503, { status: 'draining', service, checks: {} });
          return true;
        }
        const { ready, checks } = await options.readiness().catch((): Readiness => ({ ready: false, checks: { readiness: 'failed' } }));
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not-ready', service, checks });
        return true;
      }
      const text = await options.registry.metrics();
      res.writeHead(200, { 'content-type': options.registry.contentType, 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
      return true;
    },
  };
}
