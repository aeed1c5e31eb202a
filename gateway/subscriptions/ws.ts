/**
 * graphql-ws (the `graphql-transport-ws` subprotocol) on the gateway's `/graphql`: WebSocket
 * upgrades of that path are handed to `ws`; everything else about the connection is the
 * service's (service.ts). Heartbeats: graphql-ws pings every keepAliveMs and terminates a socket
 * that did not answer the previous ping.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { errorExtensions, isFolioError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { closeCodeOf, type SubscriptionService, type SyncConnection } from './service.js';

export interface WebSocketTransportOptions {
  readonly server: Server;
  readonly path: string;
  readonly service: SubscriptionService;
  readonly keepAliveMs: number;
  /** Largest client message (a subscribe message carries the document). */
  readonly maxPayloadBytes: number;
  readonly logger: Logger;
}

// graphql-ws checks `instanceof GraphQLError` against the graphql copy Node loads (by require);
// under vitest an ESM import would be a second copy (as in plugins/operationLimits.ts).
const { GraphQLError, GraphQLSchema } = createRequire(import.meta.url)('graphql') as typeof import('graphql');
type GraphQLError = import('graphql').GraphQLError;

// graphql-ws hands the execution arguments to our `subscribe`; the gateway executes through Apollo
// Server (service.ts), never graphql-js against a schema, so the schema slot carries an empty one.
const NO_SCHEMA = new GraphQLSchema({});

const connections = new WeakMap<object, SyncConnection>();

function toGraphQLErrors(error: unknown): GraphQLError[] {
  if (isFolioError(error)) return [new GraphQLError(error.message, { extensions: errorExtensions(error) })];
  return [new GraphQLError('Internal server error', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })];
}

export function attachWebSocketTransport(options: WebSocketTransportOptions): { close(): Promise<void> } {
  const { service, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== options.path) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  options.server.on('upgrade', onUpgrade);

  const disposable = useServer(
    {
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        try {
          const connection = await service.connect(ctx.extra.request, ctx.connectionParams, {
            transport: 'ws',
            cut: (code, reason) => socket.close(code, reason),
            bufferedBytes: () => socket.bufferedAmount,
          });
          connections.set(ctx, connection);
          return true;
        } catch (error) {
          if (!isFolioError(error)) logger.error({ err: error }, 'subscription connect failed');
          socket.close(closeCodeOf(error), isFolioError(error) ? error.message.slice(0, 120) : 'Internal error');
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const connection = connections.get(ctx);
        if (!connection) return toGraphQLErrors(new Error('not connected'));
        try {
          const result = await connection.subscribe(payload);
          if ('errors' in result) return result.errors.map((e) => new GraphQLError(e.message, { extensions: e.extensions ?? {} }));
          // graphql-ws only looks for the operation type in `document` (a subscription: it then
          // calls `subscribe` below, which returns the service's event stream).
          return { schema: NO_SCHEMA, document: { kind: 'Document', definitions: [{ kind: 'OperationDefinition', operation: 'subscription', selectionSet: { kind: 'SelectionSet', selections: [] } }] } as never, contextValue: result };
        } catch (error) {
          if (!isFolioError(error)) logger.error({ err: error }, 'subscribe failed');
          return toGraphQLErrors(error);
        }
      },
      subscribe: (args) => args.contextValue as AsyncIterableIterator<never>,
      execute: () => ({ errors: [new GraphQLError('Only subscriptions are served over WebSocket.')] }),
      onClose: (ctx) => {
        connections.get(ctx)?.close();
      },
    },
    wss,
    options.keepAliveMs,
  );

  return {
    async close() {
      options.server.off('upgrade', onUpgrade);
      await disposable.dispose();
      wss.close();
    },
  };
}
