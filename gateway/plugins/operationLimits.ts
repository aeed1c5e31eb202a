/**
 * Depth, alias, directive, token-count and cost limits on every operation (graphql-armor), and
 * validation in bounded time. Apollo Server always runs graphql-js's OverlappingFieldsCanBeMergedRule,
 * which is quadratic (740 copies of `me { id }`, 12 KB, blocked the event loop for up to 1.3 s), so
 * Apollo's own validation is off (`dangerouslyDisableValidation`) and `validationPlugin` validates
 * instead, in `didResolveOperation` (before any execution, for every document: query text, APQ
 * and trusted documents alike): first cheap counts (`maxFields`, `maxArguments`, `maxDefinitions`, `maxVariables`), then the
 * standard rules with the linear fieldsCanMerge.ts in place of the quadratic one, plus the armor
 * rules. The verdict is kept per parsed document (Apollo reuses parsed documents), so a known
 * document pays a WeakMap lookup. Rejections carry `extensions.code = OPERATION_LIMIT_EXCEEDED` and
 * `extensions.limit` (errors.ts maps graphql-armor's messages), and the message names the value.
 * The token limit is graphql-js's own (`parse(source, { maxTokens })`): graphql-armor's parsed every
 * document a second time in a plugin hook, whose errors Apollo answers with HTTP 500. Suggestions
 * ("Did you mean …") are removed in production by the error formatter (errors.ts), not by
 * graphql-armor's block-field-suggestion, whose "[Suggestion hidden]" still tells that a close name
 * exists.
 */
import { createRequire } from 'node:module';
import type { ApolloServerOptions, ApolloServerPlugin, BaseContext } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { Kind, type DocumentNode, type GraphQLError, type GraphQLSchema, type SelectionSetNode, type ValidationRule } from 'graphql';
import { FolioError } from '../../lib/errors.js';
import { httpErrorExtensions } from '../errors.js';
import { createFieldsCanMergeRule } from './fieldsCanMerge.js';

// Validation must use the graphql copy the schema and Apollo use (@apollo/gateway's, loaded by
// require); under vitest an ESM import would be a second copy whose instanceof checks reject it.
const graphqlCjs = createRequire(import.meta.url)('graphql') as typeof import('graphql');
const { OverlappingFieldsCanBeMergedRule, specifiedRules, validate } = graphqlCjs;

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
  /** Field selections in one document (every field node, fragments counted once). @default 500 */
  readonly maxFields?: number;
  /** Arguments (on fields and directives) in one document. @default 250 */
  readonly maxArguments?: number;
  /** Operations plus fragments in one document. @default 100 */
  readonly maxDefinitions?: number;
  /** Variable definitions in one document. @default 100 */
  readonly maxVariables?: number;
}

export interface OperationLimits {
  /** validationPlugin first (its refusal comes before any other plugin's), then graphql-armor's. */
  readonly plugins: ApolloServerPlugin[];
  /** Every rule validationPlugin runs: graphql-js's standard rules (the linear merge rule in place of the quadratic one) and graphql-armor's. */
  readonly validationRules: ValidationRule[];
  readonly parseOptions: NonNullable<ApolloServerOptions<BaseContext>['parseOptions']>;
  /** Validates one parsed document; an empty list means valid. Exposed for the benchmark and tests. */
  validateDocument(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[];
}

export interface DocumentCounts {
  /** Field nodes (fragments counted once, where defined). */
  fields: number;
  /** Argument nodes on fields and directives. */
  arguments: number;
  /** Operations plus fragment definitions. */
  definitions: number;
  /** Variable definitions, all operations together. */
  variables: number;
}

/** Counts what validation work grows with: one walk over the AST, no schema, no fragment expansion. */
export function countDocument(document: DocumentNode): DocumentCounts {
  const counts: DocumentCounts = { fields: 0, arguments: 0, definitions: 0, variables: 0 };
  const stack: SelectionSetNode[] = [];
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION && d.kind !== Kind.FRAGMENT_DEFINITION) continue;
    counts.definitions += 1;
    counts.variables += d.variableDefinitions?.length ?? 0;
    stack.push(d.selectionSet);
  }
  while (stack.length > 0) {
    for (const selection of stack.pop()!.selections) {
      if (selection.kind === Kind.FIELD) {
        counts.fields += 1;
        counts.arguments += selection.arguments?.length ?? 0;
      }
      for (const directive of selection.directives ?? []) counts.arguments += directive.arguments?.length ?? 0;
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) stack.push(selection.selectionSet);
    }
  }
  return counts;
}

// What Apollo answers: a refusal keeps its FolioError (code, details, status); any other
// validation error is GRAPHQL_VALIDATION_FAILED with status 400, as Apollo's own validation says.
function clientError(error: GraphQLError): GraphQLError {
  const folio = error.originalError instanceof FolioError ? error.originalError : undefined;
  return new graphqlCjs.GraphQLError(folio?.message ?? error.message, {
    nodes: error.nodes,
    originalError: folio,
    extensions: folio
      ? httpErrorExtensions(folio)
      : { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
  });
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
  const armored = armor.protect();
  const caps: ReadonlyArray<readonly [keyof DocumentCounts, number, string]> = [
    ['fields', options.maxFields ?? 500, 'fields'],
    ['arguments', options.maxArguments ?? 250, 'arguments'],
    ['definitions', options.maxDefinitions ?? 100, 'operations and fragments'],
    ['variables', options.maxVariables ?? 100, 'variable definitions'],
  ];
  const validationRules = [...specifiedRules.filter((rule) => rule !== OverlappingFieldsCanBeMergedRule), createFieldsCanMergeRule(), ...armored.validationRules];
  const verdicts = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, readonly GraphQLError[]>>();

  function validateDocument(schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] {
    let bySchema = verdicts.get(schema);
    if (!bySchema) verdicts.set(schema, (bySchema = new WeakMap()));
    let errors = bySchema.get(document);
    if (!errors) {
      // Cheap caps first: what they refuse never reaches the rules, whose work grows with these counts.
      const counts = countDocument(document);
      const over = caps.find(([key, max]) => counts[key] > max);
      errors = over
        ? [clientError(new graphqlCjs.GraphQLError('', { originalError: new FolioError('OPERATION_LIMIT_EXCEEDED', `The document has more than ${over[1]} ${over[2]}.`, { details: { limit: over[0] } }) }))]
        : // Only the first error is answered, so validation stops at it: an invalid document with
          // hundreds of errors (100 unused variables) costs no more than its first.
          validate(schema, document, validationRules, { maxErrors: 1 }).slice(0, 1).map(clientError);
      bySchema.set(document, errors);
    }
    return errors;
  }

  const validationPlugin: ApolloServerPlugin = {
    async requestDidStart() {
      return {
        // Runs before execution for every request; Apollo answers a thrown GraphQLError with its
        // status. One error is returned (the first): enough to say why, and no list to inflate.
        async didResolveOperation({ schema, document }) {
          const [first] = validateDocument(schema, document);
          if (first) throw first;
        },
      };
    },
  };
  // graphql-armor is typed against the CJS build of @apollo/server; the shapes are identical.
  return {
    plugins: [validationPlugin, ...(armored.plugins as unknown as ApolloServerPlugin[])],
    validationRules,
    validateDocument,
    parseOptions: { maxTokens: options.maxTokens ?? 3000 },
  };
}
