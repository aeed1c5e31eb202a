/**
 * Private to the gateway: a subgraph fetch that failed as a whole (down, timed out, answered 5xx or
 * garbage), turned into the GraphQL response that subgraph would have sent had it failed each
 * field: one error per field the fetch was asked for, with that field's path. @apollo/gateway
 * maps such paths into the client's response (`_entities`/index paths become the entity's place,
 * e.g. `books.edges.0.node.rating`), exactly as it does for errors a subgraph reports itself; a
 * fetch that throws instead yields one error without a path, and the client cannot tell which
 * fields failed.
 */
import {
  GraphQLError,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { GatewayGraphQLRequest, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';

type Path = ReadonlyArray<string | number>;
type Variables = Readonly<Record<string, unknown>>;

function included(directives: SelectionSetNode['selections'][number]['directives'], variables: Variables): boolean {
  for (const directive of directives ?? []) {
    const name = directive.name.value;
    if (name !== 'skip' && name !== 'include') continue;
    const arg: ValueNode | undefined = directive.arguments?.find((a) => a.name.value === 'if')?.value;
    const value = arg?.kind === Kind.BOOLEAN ? arg.value : arg?.kind === Kind.VARIABLE ? variables[arg.name.value] === true : false;
    if (name === 'skip' ? value : !value) return false;
  }
  return true;
}

/** Response names of the fields a selection set asks for on `typeName` (every type when undefined). */
function responseNames(set: SelectionSetNode, typeName: string | undefined, fragments: ReadonlyMap<string, FragmentDefinitionNode>, variables: Variables, out: Set<string>, depth = 0): Set<string> {
  if (depth > 32) return out;
  for (const selection of set.selections) {
    if (!included(selection.directives, variables)) continue;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value !== '__typename') out.add(selection.alias?.value ?? selection.name.value);
      continue;
    }
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : fragments.get(selection.name.value);
    if (!fragment) continue;
    const condition = fragment.typeCondition?.name.value;
    if (condition === undefined || typeName === undefined || condition === typeName) responseNames(fragment.selectionSet, typeName, fragments, variables, out, depth + 1);
  }
  return out;
}

/**
 * The paths, in the subgraph operation's own terms, of every field a failed fetch leaves null: its
 * root fields, or for an entity fetch (`_entities(representations:)`) each representation's fields.
 */
export function nulledPaths(document: DocumentNode, variables: Variables = {}): Path[] {
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) return [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const paths: Path[] = [];
  for (const name of responseNames(operation.selectionSet, undefined, fragments, variables, new Set())) {
    const field = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === name);
    const representations = variables.representations;
    if (field?.kind === Kind.FIELD && field.name.value === '_entities' && field.selectionSet && Array.isArray(representations)) {
      representations.forEach((representation: unknown, index) => {
        const typeName = (representation as { __typename?: unknown } | null)?.__typename;
        const names = responseNames(field.selectionSet!, typeof typeName === 'string' ? typeName : undefined, fragments, variables, new Set());
        for (const entityField of names) paths.push([name, index, entityField]);
      });
    } else {
      paths.push([name]);
    }
  }
  return paths;
}

/** The response of a fetch that failed as a whole: `error` repeated at the path of each field it leaves null. */
export function failedFetch(error: GraphQLError, request: GatewayGraphQLRequest, document?: DocumentNode): GatewayGraphQLResponse {
  let paths: Path[] = [];
  try {
    paths = nulledPaths(document ?? parse(request.query ?? ''), request.variables ?? {});
  } catch {
    // An unparsable fetch cannot happen (the planner wrote it); an error without a path is still an answer.
  }
  const at = (path: Path | undefined): GraphQLError =>
    new GraphQLError(error.message, { ...(path ? { path } : {}), extensions: error.extensions, originalError: error.originalError ?? error });
  return { errors: paths.length > 0 ? paths.map(at) : [at(undefined)] } as GatewayGraphQLResponse;
}
