/**
 * The operation facts of one execution: once Apollo Server has resolved the operation, its kind and
 * name are recorded on the context (`facts.operationKind`, `facts.operationName`). The pipeline's
 * `execute` stage (gateway/pipeline.ts) hands them on as declared request facts, which the stages
 * after it read (dedup learns which documents are queries; only queries are cached; metrics label
 * by the resolved name). Nothing else is done here, so logging or any other plugin can change
 * without the caches depending on it.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext } from '../context.js';

export function operationFactsPlugin(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue }) {
          contextValue.facts.operationKind = operation?.operation;
          contextValue.facts.operationName = operationName;
        },
      };
    },
  };
}
