/**
 * Depth, alias, directive, token-count and cost limits on every operation (graphql-armor). The
 * rules run in Apollo's parse/validate step, whose result Apollo caches per document, so a known
 * document pays nothing. Rejections carry `extensions.code = OPERATION_LIMIT_EXCEEDED` and
 * `extensions.limit` (errors.ts maps graphql-armor's messages), and the message names the value. Field suggestions ("Did you mean …") are hidden in production.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ValidationRule } from 'graphql';

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

export function operationLimits(options: OperationLimitsOptions = {}): OperationLimits {
  const armor = new ApolloArmor({
    maxDepth: { n: options.maxDepth ?? 12 },
    costLimit: { maxCost: options.maxCost ?? 20_000 },
    maxAliases: { n: options.maxAliases ?? 30 },
    maxDirectives: { n: options.maxDirectives ?? 50 },
    maxTokens: { n: options.maxTokens ?? 3000 },
    blockFieldSuggestion: { enabled: options.blockFieldSuggestions ?? false },
  });
  const { plugins, validationRules } = armor.protect();
  // graphql-armor is typed against the CJS build of @apollo/server; the shapes are identical.
  return { plugins: plugins as unknown as ApolloServerPlugin[], validationRules };
}
