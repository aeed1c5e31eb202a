/**
 * Private to the gateway: the HTTP edge. Routes a request (GraphiQL/console, GraphQL, operational
 * endpoints), and runs a GraphQL request through the gateway's one stage list (pipeline.ts, entry
 * `http`: trace → metrics → draining → declared body size → internal headers → client address →
 * credentials → authenticate → read body → admission → load shedding → rate limit → trusted
 * documents → persisted-query hash → request keys → response cache → dedup → execute → learn the
 * operation kind → cache purge → cache store), then sends the answer or the error.
 * Everything before execution is a map lookup or two on the hot path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FolioError, isFolioError } from '../lib/errors.js';
import type { OpsEndpoints } from '../lib/http/ops.js';
import { isClientAbort, notFoundRoute, sendError } from '../lib/http/respond.js';
import type { Logger } from '../lib/logger.js';
import type { Pipeline, RequestFacts } from './pipeline.js';
import { requestIdOf } from './plugins/requestId.js';
import type { UiRoutes } from './ui/static.js';

export interface HandlerDeps {
  /** The stages (pipeline.ts), built with an HTTP environment. */
  readonly pipeline: Pipeline;
  readonly graphqlPath: string;
  /** The territory header when it is honoured: answers then depend on it, so caches must vary on it. */
  readonly varyOn?: string | undefined;
  /** /healthz, and /readyz and /metrics unless they have a port of their own (lib/http/ops.ts). */
  readonly ops: OpsEndpoints;
  readonly logger: Logger;
  /** GraphiQL at GET /graphql for browsers, the console at /admin (ui/static.ts). */
  readonly ui?: UiRoutes | undefined;
}

// One writeHead with a flat [name, value, …] list: no per-header validation and map entry as with
// setHeader (the request id, set early with setHeader, is merged by Node).
function send(res: ServerResponse, status: number, headers: Iterable<readonly [string, string]>, body: string | Buffer): void {
  const flat: string[] = [];
  for (const [name, value] of headers) if (name !== 'content-length') flat.push(name, value);
  // writeHead stores the head at once, so Node cannot add content-length at end(): say it here (no chunking).
  flat.push('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
  res.writeHead(status, flat);
  res.end(body);
}

export function createRequestHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, pipeline } = deps;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = requestIdOf(req.headers);
    res.setHeader('x-request-id', requestId);
    if (deps.varyOn) res.setHeader('vary', deps.varyOn);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const search = q === -1 ? '' : url.slice(q + 1);

    if (deps.ui?.handle(req, res, path, search)) return;
    if (path === deps.graphqlPath && (req.method === 'POST' || req.method === 'GET')) {
      const facts: Partial<RequestFacts> = { entry: 'http', req, res, requestId, search };
      try {
        await pipeline.run('http', facts);
        const response = facts.response!;
        send(res, response.status, response.headers, response.body);
      } catch (error) {
        if (!isFolioError(error) && isClientAbort(error, req)) {
          logger.debug({ requestId, err: error }, 'client went away mid-request');
          res.destroy(); // counted as 499 (nginx's "client closed request") by the metrics stage
          return;
        }
        if (!isFolioError(error)) logger.error({ requestId, err: error }, 'unexpected gateway error');
        sendError(res, isFolioError(error) ? error : new FolioError('INTERNAL_SERVER_ERROR'));
      }
      return;
    }
    if (await deps.ops.handle(req, res, path)) return;
    sendError(res, notFoundRoute());
  }

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (isClientAbort(error, req)) return void logger.debug({ err: error }, 'client went away mid-request');
      logger.error({ err: error }, 'request handler failed');
      sendError(res, error);
    });
  };
}
