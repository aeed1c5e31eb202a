/**
 * GraphQL over SSE (`graphql-sse`, "distinct connections" mode: one `POST /graphql` with
 * `Accept: text/event-stream` per subscription) on the gateway's `/graphql`. graphql-sse's own
 * Node adapter reads request bodies without a bound, so this one reads the body with the HTTP
 * edge's readBody (size, deadline and minimum rate) and then lets graphql-sse's handler run.
 * Each stream is one connection of the service (service.ts: the same connect stages and caps as
 * WebSocket). Heartbeats: graphql-sse writes a `:` comment every 12 s. Refusals at connect are
 * answered as JSON with the error's HTTP status; a stream the gateway cuts (revoked session, slow
 * consumer) simply ends.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHandler, type OperationResult } from 'graphql-sse';
import { FolioError, isFolioError } from '../../lib/errors.js';
import { readBody, type BodyRate } from '../../lib/http/body.js';
import { sendError } from '../../lib/http/respond.js';
import type { Logger } from '../../lib/logger.js';
import type { SubscriptionService, SyncConnection } from './service.js';

export interface SseTransportOptions {
  readonly path: string;
  readonly service: SubscriptionService;
  readonly maxBodyBytes: number;
  readonly bodyRate: BodyRate;
  readonly logger: Logger;
}

export interface SseTransport {
  /** True for requests this transport serves: an event stream asked for on the GraphQL path. */
  matches(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, res: ServerResponse): void;
}

interface StreamContext {
  readonly res: ServerResponse;
  connection?: SyncConnection;
}

const errorBody = (error: FolioError): string => JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code, ...error.details } }] });

export function createSseTransport(options: SseTransportOptions): SseTransport {
  const { service, logger } = options;
  const handler = createHandler<IncomingMessage, StreamContext>({
    // Connect stages run here (graphql-sse calls this first for every request).
    authenticate: async (req) => {
      const context = req.context;
      try {
        context.connection = await service.connect(req.raw, undefined, {
          transport: 'sse',
          cut: () => context.res.destroy(),
          bufferedBytes: () => context.res.writableLength,
        });
        context.res.once('close', () => context.connection?.close());
        return ''; // no reservation token: distinct connections mode
      } catch (error) {
        const folio = isFolioError(error) ? error : new FolioError('INTERNAL_SERVER_ERROR');
        if (!isFolioError(error)) logger.error({ err: error }, 'subscription connect failed');
        return [errorBody(folio), { status: folio.httpStatus, statusText: folio.code, headers: { 'content-type': 'application/json; charset=utf-8' } }];
      }
    },
    onSubscribe: async (req, params) => {
      const connection = req.context.connection;
      if (!connection) return [null, { status: 401, statusText: 'Unauthorized' }];
      try {
        const result = await connection.subscribe(params);
        // Formatted results (JSON-ready, as Apollo Server returns them): graphql-sse only serialises them.
        // `data: null` too: graphql-sse takes only an object with `data` for a result (isExecutionResult);
        // `{ errors }` alone was read as arguments and refused with 400 "Unable to detect operation AST".
        return ('errors' in result ? { data: null, errors: result.errors } : result) as unknown as OperationResult;
      } catch (error) {
        const folio = isFolioError(error) ? error : new FolioError('INTERNAL_SERVER_ERROR');
        if (!isFolioError(error)) logger.error({ err: error }, 'subscribe failed');
        connection.close();
        return [errorBody(folio), { status: folio.httpStatus, statusText: folio.code, headers: { 'content-type': 'application/json; charset=utf-8' } }];
      }
    },
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === 'POST' ? (await readBody(req, { maxBytes: options.maxBodyBytes, rate: options.bodyRate })).toString('utf8') : undefined;
    const context: StreamContext = { res };
    const [stream, init] = await handler({
      method: req.method!,
      url: req.url!,
      headers: { get: (key: string) => (Array.isArray(req.headers[key]) ? (req.headers[key] as string[]).join('\n') : (req.headers[key] as string | undefined)) },
      body: body ?? null,
      raw: req,
      context,
    });
    // A non-stream answer (refusal, single result) ends the connection's slot at once.
    if (!stream || typeof stream === 'string') {
      context.connection?.close();
      res.writeHead(init.status, init.statusText, init.headers);
      res.end(stream ?? undefined);
      return;
    }
    res.writeHead(init.status, init.statusText, init.headers);
    const stop = (): void => void stream.return(undefined);
    res.once('close', stop);
    try {
      for await (const chunk of stream) {
        if (!res.writable) break;
        // Waits for each write: what is not yet sent stays in the service's bounded queue.
        await new Promise<void>((resolve, reject) => res.write(chunk, (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      res.off('close', stop);
      context.connection?.close();
      if (!res.destroyed) res.end();
    }
  }

  return {
    matches(req) {
      const path = (req.url ?? '/').split('?')[0];
      // graphql-sse itself recognises exactly this accept header as an event stream request.
      return path === options.path && (req.method === 'POST' || req.method === 'GET') && req.headers.accept === 'text/event-stream';
    },
    handle(req, res) {
      serve(req, res).catch((error: unknown) => {
        if (!isFolioError(error)) logger.warn({ err: error }, 'event stream failed');
        if (!res.headersSent) sendError(res, error);
        else res.destroy();
      });
    },
  };
}
