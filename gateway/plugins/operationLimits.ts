/**
 * Depth, alias, directive, token-count and cost limits on every operation (graphql-armor). The
 * rules run in Apollo's parse/validate step, whose result Apollo caches per document, so a known
 * document pays nothing. Rejections carry `extensions.code = OPERATION_LIMIT_EXCEEDED` and say
 * which limit and its value. Field suggestions ("Did you mean …") are hidden in production.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLError, ValidationRule } from 'graphql';
import { LIMIT_EXTENSION } from '../errors.js';

export interface OperationLimitsOptions {
  /** @default 12 */
  readonly maxDepth?: number;
  /** graphql-armor cost (objects 2, scalars 1, × 1.5 per depth level). @default 20000 */
  readonly maxCost?: number;
  /** @default 30 */
  readonly maxAliases?: number;
  /** @default 50 */
  readonly maxDirectives?: number;
  /** @default 3000 */
  readonly maxTokens?: number;
  /** Hide field suggestions in validation errors. @default false */
  readonly blockFieldSuggestions?: boolean;
}

export interface OperationLimits {
  readonly plugins: ApolloServerPlugin[];
  readonly validationRules: ValidationRule[];
}

const mark = (limit: string) => (_ctx: unknown, error: GraphQLError) => {
  (error.extensions as Record<string, unknown>)[LIMIT_EXTENSION] = limit;
};

export function operationLimits(options: OperationLimitsOptions = {}): OperationLimits {
  const armor = new ApolloArmor({
    maxDepth: { n: options.maxDepth ?? 12, onReject: [mark('depth')] },
    costLimit: { maxCost: options.maxCost ?? 20_000, onReject: [mark('cost')] },
    maxAliases: { n: options.maxAliases ?? 30, onReject: [mark('aliases')] },
    maxDirectives: { n: options.maxDirectives ?? 50, onReject: [mark('directives')] },
    maxTokens: { n: options.maxTokens ?? 3000, onReject: [mark('tokens')] },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestions ?? false },
  });
  const { plugins, validationRules } = armor.protect();
  // graphql-armor is typed against the CJS build of @apollo/server; the shapes are identical.
  return { plugins: plugins as unknown as ApolloServerPlugin[], validationRules };
}
