/**
 * Depth, alias, directive, token-count and cost limits on every operation (graphql-armor). The
 * rules run in Apollo's parse/validate step, whose result Apollo caches per document, so a known
 * document pays nothing. Rejections carry `extensions.code = OPERATION_LIMIT_EXCEEDED` and
 * `extensions.limit` (errors.ts maps the rejection messages), and the message names the value.
 * The token limit is graphql-js's own (`parse(source, { maxTokens })`): graphql-armor's parsed every
 * document a second time in a plugin hook, whose errors Apollo answers with HTTP 500. Suggestions
 * ("Did you mean …") are removed in production by the error formatter (errors.ts), not by
 * graphql-armor's block-field-suggestion, whose "[Suggestion hidden]" still tells that a close name
 * exists.
 */
import type { ApolloServerOptions, ApolloServerPlugin, BaseContext } from '@apollo/server';
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
}

export interface OperationLimits {
  readonly plugins: ApolloServerPlugin[];
  readonly validationRules: ValidationRule[];
  readonly parseOptions: NonNullable<ApolloServerOptions<BaseContext>['parseOptions']>;
}

export function operationLimits(options: OperationLimitsOptions = {}): OperationLimits {
  const armor = new ApolloArmor({
    maxDepth: { n: options.maxDepth ?? 12 },
    costLimit: { maxCost: options.maxCost ?? 20_000 },
    maxAliases: { n: options.maxAliases ?? 30 },
    maxDirectives: { n: options.maxDirectives ?? 50 },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  const { plugins, validationRules } = armor.protect();
  // graphql-armor is typed against the CJS build of @apollo/server; the shapes are identical.
  return { plugins: plugins as unknown as ApolloServerPlugin[], validationRules, parseOptions: { maxTokens: options.maxTokens ?? 3000 } };
}
