/**
 * The gateway's operational endpoints. `/healthz` (liveness) is public wherever it is served;
 * `/readyz` (which names the subgraphs and their state) and `/metrics` are not public in
 * production: they need `Authorization: Bearer $FOLIO_OPS_TOKEN` when that is set, and with
 * FOLIO_GATEWAY_OPS_PORT they leave the public port for a port of their own (server.ts), where
 * Prometheus and the orchestrator's probes reach them on a private network.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { opsAuthorized, sendJson, sendOpsUnauthorized } from '../../lib/http.js';
import type { HealthCheck } from './health.js';
import type { GatewayMetrics } from './metrics.js';

export interface OpsEndpointsOptions {
  readonly metrics: GatewayMetrics;
  readonly health: HealthCheck;
  readonly isDraining: () => boolean;
  /** Bearer token /readyz and /metrics require. @default undefined (open) */
  readonly token?: string | undefined;
  /** Serve /readyz and /metrics here (false: only /healthz, as on the public port when the operational endpoints have a port of their own). @default true */
  readonly operational?: boolean;
}

export interface OpsEndpoints {
  /** Answers a GET for one of the endpoints; false when `path` is none of them (or not served here). */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
}

export function createOpsEndpoints(options: OpsEndpointsOptions): OpsEndpoints {
  const operational = options.operational !== false;
  return {
    async handle(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      if (path === '/healthz') {
        const draining = options.isDraining();
        sendJson(res, draining ? 503 : 200, { status: draining ? 'draining' : 'ok' });
        return true;
      }
      if (!operational || (path !== '/readyz' && path !== '/metrics')) return false;
      if (!opsAuthorized(req, options.token)) {
        sendOpsUnauthorized(res);
        return true;
      }
      if (path === '/readyz') {
        const readiness = options.isDraining() ? { ready: false, subgraphs: {} } : await options.health.readiness();
        sendJson(res, readiness.ready ? 200 : 503, readiness);
        return true;
      }
      const text = await options.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': options.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return true;
    },
  };
}
