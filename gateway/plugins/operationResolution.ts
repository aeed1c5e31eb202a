/**
 * Refuses, as the client's error (HTTP 400), what Apollo Server leaves to the gateway's executor,
 * which throws and is answered with HTTP 500: a request whose `operationName` names no operation
 * of the document (or that names none for a document with several), and a `subscription`
 * operation, which the HTTP transport does not serve (gateway/subscriptions/ serves them over
 * WebSocket and SSE).
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.js';
import { folioGraphQLError } from '../errors.js';

export function operationResolutionPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, request }) {
          if (!operation) {
            const name = request.operationName;
            // The name is echoed only when it is a plain GraphQL name: it came from the client.
            const shown = typeof name === 'string' && /^[_A-Za-z][_0-9A-Za-z]{0,99}$/.test(name) ? ` named "${name}"` : '';
            throw folioGraphQLError(
              'OPERATION_RESOLUTION_FAILURE',
              name ? `The document has no operation${shown}.` : 'The document has several operations: say which one to run with operationName.',
            );
          }
          if (operation.operation === 'subscription') {
            throw folioGraphQLError('BAD_REQUEST', 'Subscription operations are not served over HTTP GET or POST: use graphql-ws (WebSocket) or GraphQL over SSE (Accept: text/event-stream) on this path.');
          }
        },
      };
    },
  };
}
