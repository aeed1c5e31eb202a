/**
 * Structured logs with the request id: logs errors that are not the client's fault. (The operation
 * facts other stages need are operationFacts.ts's, not this plugin's.)
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { isClientErrorCode } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayContext } from '../context.js';

export function loggingPlugin(logger: Logger): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue, operationName }) {
          // A dead subgraph fails every field of a fetch with one error each (fetchFailure.ts): log it once.
          const logged = new Set<string>();
          for (const error of errors) {
            const code = error.extensions?.code;
            if (isClientErrorCode(code)) continue;
            const key = `${String(code)}\n${String(error.extensions?.serviceName)}\n${error.message}`;
            if (logged.has(key)) continue;
            logged.add(key);
            logger.warn({ requestId: contextValue.requestId, operationName, code, err: error }, 'operation error');
          }
        },
      };
    },
  };
}
