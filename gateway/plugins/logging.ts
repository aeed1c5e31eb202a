/**
 * Structured logs with the request id, and the operation facts other stages need: records each
 * operation's kind and name on the context (the in-flight dedup learns which documents are
 * queries from it) and logs errors that are not the client's fault.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';

const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
  'CONFLICT',
]);

export function loggingPlugin(logger: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue }) {
          contextValue.facts.operationKind = operation?.operation;
          contextValue.facts.operationName = operationName;
        },
        async didEncounterErrors({ errors, contextValue, operationName }) {
          for (const error of errors) {
            const code = error.extensions?.code;
            if (typeof code === 'string' && CLIENT_CODES.has(code)) continue;
            logger.warn({ requestId: contextValue.requestId, operationName, code, err: error }, 'operation error');
          }
        },
      };
    },
  };
}
