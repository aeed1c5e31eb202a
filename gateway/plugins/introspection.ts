/**
 * Schema introspection (`__schema`, `__type`) for the admin UI: always allowed in development,
 * and in production only for EDITOR/ADMIN callers; everyone else gets a clear FORBIDDEN.
 * `__typename` is not introspection. The verdict is computed once per parsed operation (Apollo
 * reuses parsed documents), so the check costs a WeakMap lookup on the hot path.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { isStaff } from '../../lib/identity.js';
import type { GatewayContext } from '../context.js';
import { folioGraphQLError } from '../errors.js';

export interface IntrospectionOptions {
  /** Production mode: introspection for staff only. */
  readonly production: boolean;
}

function selectsIntrospection(set: SelectionSetNode, document: DocumentNode, seen: Set<string>): boolean {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === '__schema' || selection.name.value === '__type') return true;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (selectsIntrospection(selection.selectionSet, document, seen)) return true;
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION && selectsIntrospection(fragment.selectionSet, document, seen)) return true;
    }
  }
  return false;
}

const verdicts = new WeakMap<OperationDefinitionNode, boolean>();

export function isIntrospection(operation: OperationDefinitionNode, document: DocumentNode): boolean {
  let verdict = verdicts.get(operation);
  if (verdict === undefined) {
    verdict = selectsIntrospection(operation.selectionSet, document, new Set());
    verdicts.set(operation, verdict);
  }
  return verdict;
}

export function introspectionPlugin(options: IntrospectionOptions): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      if (!options.production) return undefined;
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (operation && isIntrospection(operation, document) && !isStaff(contextValue.caller)) {
            throw folioGraphQLError('FORBIDDEN', 'Schema introspection is available only to editors and admins in production.');
          }
        },
      };
    },
  };
}
