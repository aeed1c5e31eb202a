/**
 * Private to the gateway: the single-fetch fast path.
 *
 * Why: with all-distinct traffic most gateway CPU went to @apollo/gateway's per-request machinery
 * (operation context, validation, an `Operation` rebuilt from the document by federation-internals,
 * executeQueryPlan's spans, deepMerge and computeResponse over that Operation), even when the
 * cached query plan is one fetch to one subgraph. For such plans we send the fetch through the same
 * data source (identity headers, dedup, cache hints, metrics unchanged) and shape the answer with a
 * plain tree compiled once per plan from the client's document: a copy of computeResponse
 * (resultShaping.js) restricted to the cases where it is a pure projection.
 *
 * Correctness rules:
 * - Only a cached plan whose node is one Fetch without requires or rewrites, for a document whose
 *   selections touch only object types (no interfaces or unions, no type conditions other than the
 *   enclosing type), no introspection beyond `__typename`, no directives but @skip/@include.
 *   Anything else is never compiled and runs the normal path.
 * - At run time, anything computeResponse would turn into an error or treat specially — subgraph
 *   errors, no data, a null in a non-null position, a leaf value invalid for the API schema (an enum
 *   value the supergraph hides, say), an unexpected `__typename`, a non-boolean @skip/@include
 *   variable — hands the already received subgraph response to the normal path (a "replay": the data
 *   source returns it instead of fetching again), so errors, paths and null bubbling are exactly
 *   @apollo/gateway's and nothing is fetched twice (mutations included).
 * - The first request for a document always runs the normal path (it builds and caches the plan).
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import {
  Kind,
  type DocumentNode,
  type GraphQLEnumType,
  type GraphQLList,
  type GraphQLNonNull,
  type GraphQLObjectType,
  type GraphQLScalarType,
  type FragmentDefinitionNode,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { ApolloGateway, GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { FetchNode, QueryPlan } from '@apollo/query-planner';
import type { GatewayExecutor, GatewayGraphQLRequestContext, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GatewayContext } from './context.js';

/** One @skip/@include: `skip` is true for @skip; `value` a literal or a variable name. */
interface Condition {
  readonly skip: boolean;
  readonly value: boolean | { readonly variable: string };
}

/** Output type of a field, compiled: wrappers, then an object (with its selections) or a leaf. */
type Shape =
  | { readonly kind: 'nonNull'; readonly of: Shape }
  | { readonly kind: 'list'; readonly of: Shape }
  | { readonly kind: 'object'; readonly typeName: string; readonly selections: readonly Selection[] }
  | { readonly kind: 'leaf'; readonly check: (value: unknown) => boolean };

type Selection =
  | { readonly kind: 'typename'; readonly key: string; readonly typeName: string; readonly conditions: readonly Condition[] }
  | { readonly kind: 'field'; readonly key: string; readonly shape: Shape; readonly conditions: readonly Condition[] }
  | { readonly kind: 'group'; readonly selections: readonly Selection[]; readonly conditions: readonly Condition[] };

interface CompiledPlan {
  readonly fetch: FetchNode;
  readonly variableDefinitions: OperationDefinitionNode['variableDefinitions'];
  readonly root: readonly Selection[];
  /** Variable defaults (for @skip/@include), as computeResponse's collectDefaultedVariableValues. */
  readonly defaults: Readonly<Record<string, unknown>>;
}

/** Thrown inside shaping when the normal path must decide. */
class Replay extends Error {}
const REPLAY = new Replay('replay');

class Ineligible extends Error {}

// --- compilation (once per plan) ---

function conditionsOf(directives: readonly { name: { value: string }; arguments?: readonly { name: { value: string }; value: ValueNode }[] }[] | undefined): Condition[] {
  const conditions: Condition[] = [];
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') throw new Ineligible(`directive @${name}`);
    const arg = directive.arguments?.find((a) => a.name.value === 'if');
    if (!arg) throw new Ineligible('@skip/@include without if');
    if (arg.value.kind === Kind.BOOLEAN) conditions.push({ skip: name === 'skip', value: arg.value.value });
    else if (arg.value.kind === Kind.VARIABLE) conditions.push({ skip: name === 'skip', value: { variable: arg.value.name.value } });
    else throw new Ineligible('@skip/@include with a non-boolean literal');
  }
  return conditions;
}

// federation-internals values.js integerStringRegExp
const INT = /^-?(?:0|[1-9][0-9]*)$/;

// Variable coercion must use the graphql copy the schema was built with (@apollo/gateway's, loaded by
// require); under vitest an ESM import would be a second copy whose instanceof checks reject it.
const graphqlCjs = createRequire(import.meta.url)('graphql') as typeof import('graphql');

// The schema's types come from @apollo/gateway's copy of graphql (CommonJS); ours may be the ESM
// copy (under vitest, say), where instanceof fails. graphql-js names every type class by toStringTag.
type TypeTag = 'GraphQLNonNull' | 'GraphQLList' | 'GraphQLObjectType' | 'GraphQLScalarType' | 'GraphQLEnumType' | 'GraphQLInterfaceType' | 'GraphQLUnionType';
const tagOf = (type: GraphQLOutputType): TypeTag => (type as unknown as { [Symbol.toStringTag]: TypeTag })[Symbol.toStringTag];

// isValidLeafValue from @apollo/federation-internals (values.js), on graphql-js types of the API schema.
function leafCheck(type: GraphQLScalarType | GraphQLEnumType): (value: unknown) => boolean {
  if (tagOf(type) === 'GraphQLEnumType') {
    const values = new Set((type as GraphQLEnumType).getValues().map((v) => v.name));
    return (value) => typeof value === 'string' && values.has(value);
  }
  if (type.name === 'Boolean') return (value) => typeof value === 'boolean';
  if (type.name === 'Int' || type.name === 'ID') {
    const isId = type.name === 'ID';
    return (value) => (typeof value === 'number' && Number.isFinite(value) && INT.test(String(value))) || (isId && typeof value === 'string');
  }
  if (type.name === 'Float') return (value) => typeof value === 'number' && Number.isFinite(value);
  if (type.name === 'String') return (value) => typeof value === 'string';
  return () => true; // custom scalar: passed through as is
}

function shapeOf(type: GraphQLOutputType, selectionSet: SelectionSetNode | undefined, fragments: ReadonlyMap<string, FragmentDefinitionNode>, depth: number): Shape {
  const tag = tagOf(type);
  if (tag === 'GraphQLNonNull') return { kind: 'nonNull', of: shapeOf((type as GraphQLNonNull<GraphQLOutputType>).ofType, selectionSet, fragments, depth) };
  if (tag === 'GraphQLList') return { kind: 'list', of: shapeOf((type as GraphQLList<GraphQLOutputType>).ofType, selectionSet, fragments, depth) };
  if (tag === 'GraphQLObjectType') {
    if (!selectionSet) throw new Ineligible('object without selections');
    const object = type as GraphQLObjectType;
    return { kind: 'object', typeName: object.name, selections: compileSelections(object, selectionSet, fragments, depth + 1) };
  }
  if (tag === 'GraphQLScalarType' || tag === 'GraphQLEnumType') {
    if (selectionSet) throw new Ineligible('selections on a leaf');
    return { kind: 'leaf', check: leafCheck(type as GraphQLScalarType | GraphQLEnumType) };
  }
  throw new Ineligible(`abstract type ${String(type)}`);
}

function compileSelections(parent: GraphQLObjectType, set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, depth: number): Selection[] {
  if (depth > 64) throw new Ineligible('too deep'); // fragment cycles are rejected by validation; this is a backstop
  const out: Selection[] = [];
  for (const node of set.selections) {
    const conditions = conditionsOf(node.directives);
    if (node.kind === Kind.FIELD) {
      const name = node.name.value;
      const key = node.alias?.value ?? name;
      if (name === '__typename') {
        out.push({ kind: 'typename', key, typeName: parent.name, conditions });
        continue;
      }
      if (name.startsWith('__')) throw new Ineligible('introspection');
      const field = parent.getFields()[name];
      if (!field) throw new Ineligible(`unknown field ${parent.name}.${name}`);
      out.push({ kind: 'field', key, shape: shapeOf(field.type, node.selectionSet, fragments, depth), conditions });
      continue;
    }
    const fragment = node.kind === Kind.INLINE_FRAGMENT ? node : fragments.get(node.name.value);
    if (!fragment) throw new Ineligible('unknown fragment');
    if (fragment.typeCondition && fragment.typeCondition.name.value !== parent.name) throw new Ineligible('type condition');
    if (node.kind === Kind.FRAGMENT_SPREAD && fragment.directives?.length) throw new Ineligible('directives on a fragment definition');
    out.push({ kind: 'group', selections: compileSelections(parent, fragment.selectionSet, fragments, depth + 1), conditions });
  }
  return out;
}

function defaultsOf(operation: OperationDefinitionNode): Record<string, unknown> {
  const defaults: Record<string, unknown> = Object.create(null);
  for (const definition of operation.variableDefinitions ?? []) {
    const value = definition.defaultValue;
    if (!value) continue;
    // Only booleans matter here (@skip/@include); any other default makes a condition on it non-boolean → replay.
    defaults[definition.variable.name.value] = value.kind === Kind.BOOLEAN ? value.value : value.kind === Kind.NULL ? null : REPLAY;
  }
  return defaults;
}

/** The compiled plan, or undefined when the fast path does not apply to it. */
export function compileSingleFetch(plan: QueryPlan, schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledPlan | undefined {
  const node = plan.node;
  if (!node || node.kind !== 'Fetch') return undefined;
  if (node.requires || node.inputRewrites?.length || node.outputRewrites?.length || node.contextRewrites?.length || node.hasDefers) return undefined;
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation || operation.operation !== node.operationKind) return undefined;
  const root = operation.operation === 'query' ? schema.getQueryType() : operation.operation === 'mutation' ? schema.getMutationType() : undefined;
  if (!root) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  try {
    if (operation.directives?.length) throw new Ineligible('operation directives');
    return { fetch: node, variableDefinitions: operation.variableDefinitions, root: compileSelections(root, operation.selectionSet, fragments, 0), defaults: defaultsOf(operation) };
  } catch (error) {
    if (error instanceof Ineligible) return undefined;
    throw error;
  }
}

// --- shaping (per request): computeResponse's applySelectionSet/updateOutputValue for the compiled subset ---

type Json = Record<string, unknown>;

function skipped(conditions: readonly Condition[], variables: Readonly<Record<string, unknown>>): boolean {
  for (const c of conditions) {
    let value = c.value;
    if (typeof value !== 'boolean') {
      const v = Object.prototype.hasOwnProperty.call(variables, value.variable) ? variables[value.variable] : undefined;
      if (typeof v !== 'boolean') throw REPLAY;
      value = v;
    }
    if (c.skip ? value : !value) return true;
  }
  return false;
}

function applySelections(input: Json, selections: readonly Selection[], output: Json, variables: Readonly<Record<string, unknown>>): void {
  for (const selection of selections) {
    if (skipped(selection.conditions, variables)) continue;
    if (selection.kind === 'group') {
      applySelections(input, selection.selections, output, variables);
      continue;
    }
    const received = Object.prototype.hasOwnProperty.call(input, selection.key) ? input[selection.key] : undefined;
    if (selection.kind === 'typename') {
      if (received !== undefined && received !== null && received !== selection.typeName) throw REPLAY;
      if (output[selection.key] === undefined) output[selection.key] = selection.typeName;
      continue;
    }
    output[selection.key] = complete(output[selection.key], selection.shape, received ?? null, variables);
  }
}

function complete(existing: unknown, shape: Shape, input: unknown, variables: Readonly<Record<string, unknown>>): unknown {
  // A field selected twice: leaves keep their first value, objects merge (computeResponse's rule).
  if (existing === null || (existing !== undefined && shape.kind === 'leaf')) return existing;
  switch (shape.kind) {
    case 'nonNull': {
      const value = complete(existing, shape.of, input, variables);
      if (value === null) throw REPLAY; // null bubbling and its error: the normal path's job
      return value;
    }
    case 'list': {
      if (input === null) return null;
      if (!Array.isArray(input)) throw REPLAY;
      if (existing !== undefined && (!Array.isArray(existing) || existing.length !== input.length)) throw REPLAY;
      const before = existing as unknown[] | undefined;
      const out = new Array<unknown>(input.length);
      for (let i = 0; i < input.length; i++) out[i] = complete(before?.[i], shape.of, input[i], variables);
      return out;
    }
    case 'object': {
      if (input === null) return null;
      if (typeof input !== 'object' || Array.isArray(input)) throw REPLAY;
      const typename = (input as Json).__typename;
      if (typename !== undefined && typename !== shape.typeName) throw REPLAY;
      const out = (existing as Json | undefined) ?? (Object.create(null) as Json);
      applySelections(input as Json, shape.selections, out, variables);
      return out;
    }
    case 'leaf':
      if (input === null) return null;
      if (!shape.check(input)) throw REPLAY;
      return input;
  }
}

/** The client's data from the subgraph's, or undefined when the normal path must decide. */
export function shapeSingleFetch(compiled: CompiledPlan, data: Json, requestVariables: Readonly<Record<string, unknown>> | undefined): Json | undefined {
  const variables = { __proto__: null, ...compiled.defaults, ...requestVariables } as Record<string, unknown>;
  const output = Object.create(null) as Json;
  try {
    applySelections(data, compiled.root, output, variables);
    return output;
  } catch (error) {
    if (error instanceof Replay) return undefined;
    throw error;
  }
}

// --- wiring into ApolloGateway ---

/** What the data source replays instead of fetching again (one-shot, per request). */
export type Prefetched =
  | { readonly serviceName: string; readonly response: GatewayGraphQLResponse }
  | { readonly serviceName: string; readonly error: unknown };

export interface SingleFetchOptions {
  readonly gateway: ApolloGateway;
  readonly dataSources: ReadonlyMap<string, GraphQLDataSource<GatewayContext>>;
  /** Counts fast / replayed / normal executions. */
  readonly onOutcome?: (outcome: 'fast' | 'replay' | 'normal') => void;
}

// GraphQLDataSourceRequestKind.INCOMING_OPERATION: the enum's value is not exported from the package root.
const INCOMING_OPERATION = 'incoming operation' as GraphQLDataSourceProcessOptions<GatewayContext>['kind'] & 'incoming operation';

interface PlanStore {
  get(key: string): Promise<QueryPlan | undefined>;
}

/**
 * Wraps the gateway's executor (call before ApolloServer.start()). The plan key is computed as
 * ApolloGateway.executor computes it, so the fast path sees exactly the plans the normal path cached.
 */
export function installSingleFetchFastPath(options: SingleFetchOptions): void {
  const internals = options.gateway as unknown as { executor: GatewayExecutor; queryPlanStore: PlanStore };
  const normal = internals.executor;
  // Keyed by the plan object: a plan belongs to one document and operation name.
  const compiledPlans = new WeakMap<QueryPlan, CompiledPlan | null>();

  internals.executor = async (untyped: GatewayGraphQLRequestContext) => {
    const requestContext = untyped as GatewayGraphQLRequestContext<GatewayContext>;
    const { request, queryHash } = requestContext;
    const key = request.operationName ? createHash('sha256').update(queryHash).update(request.operationName).digest('hex') : queryHash;
    const plan = await internals.queryPlanStore.get(key);
    let compiled = plan ? compiledPlans.get(plan) : null;
    if (plan && compiled === undefined) {
      compiled = compileSingleFetch(plan, requestContext.schema, requestContext.document, request.operationName) ?? null;
      compiledPlans.set(plan, compiled);
    }
    const dataSource = compiled ? options.dataSources.get(compiled.fetch.serviceName) : undefined;
    if (!compiled || !dataSource) {
      options.onOutcome?.('normal');
      return normal(untyped);
    }
    // ApolloGateway.validateIncomingRequest, per request: the plan is per document, variables are not.
    if (compiled.variableDefinitions?.length) {
      const { errors } = graphqlCjs.getVariableValues(requestContext.schema, compiled.variableDefinitions, request.variables ?? {});
      if (errors) {
        options.onOutcome?.('normal');
        return { errors };
      }
    }
    // executeFetch's variable selection: only the fetch's variables, only those provided.
    const variables: Record<string, unknown> = Object.create(null);
    const provided = request.variables;
    for (const name of compiled.fetch.variableUsages ?? []) {
      if (provided && Object.prototype.hasOwnProperty.call(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }
    let response: GatewayGraphQLResponse;
    try {
      response = await dataSource.process({
        kind: INCOMING_OPERATION,
        request: { query: compiled.fetch.operation, variables, operationName: compiled.fetch.operationName },
        incomingRequestContext: requestContext,
        context: requestContext.context,
        document: compiled.fetch.operationDocumentNode,
        pathInIncomingRequest: [],
      });
    } catch (error) {
      // A subgraph that is down or times out: the normal path turns the same error into its response.
      options.onOutcome?.('replay');
      requestContext.context.facts.prefetched = { serviceName: compiled.fetch.serviceName, error };
      return normal(untyped);
    }
    const data = !response.errors && response.data ? shapeSingleFetch(compiled, response.data, request.variables) : undefined;
    if (data) {
      options.onOutcome?.('fast');
      return { data };
    }
    options.onOutcome?.('replay');
    requestContext.context.facts.prefetched = { serviceName: compiled.fetch.serviceName, response };
    return normal(untyped);
  };
}
