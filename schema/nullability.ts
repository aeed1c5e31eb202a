/**
 * The resilience audit of the subgraph SDLs: a field whose value needs another subgraph must be
 * nullable, so that when that subgraph is down the gateway nulls the field (with an error naming
 * its path) instead of bubbling the null up to the parent entity, or to `data` itself.
 *
 * Ownership, as the SDLs declare it: an entity's owner is the one subgraph that defines it as a
 * plain `type … @key(…)` (resolvable). Subgraphs that add fields to it declare it with
 * `extend type … @key(…)` (contributors); subgraphs that only refer to it declare a stub with
 * `@key(…, resolvable: false)` holding the key fields alone. Then:
 * - every non-key field a contributor adds is nullable (e.g. ugc's `Book.rating`);
 * - every field whose type is an entity owned by another subgraph is nullable (e.g. ugc's
 *   `Review.author: User`), since selecting any non-key field of it needs the owner;
 * - each entity has exactly one owner, and a stub holds only its key fields;
 * - every `Query` field is nullable: Query is shared by all subgraphs and owned by none, and a
 *   client's operation may combine root fields of several (one non-null root field that fails
 *   would null `data` as a whole). Mutations run one root field after another and are refused
 *   or applied whole, so their results may stay non-null.
 */
import {
  Kind,
  parse,
  type ConstDirectiveNode,
  type FieldDefinitionNode,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
  type TypeNode,
} from 'graphql';

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;

interface EntityDeclaration {
  readonly subgraph: string;
  readonly role: 'owner' | 'contributor' | 'stub';
  readonly keyFields: ReadonlySet<string>;
  readonly node: ObjectNode;
}

function keyDirectives(node: ObjectNode): readonly ConstDirectiveNode[] {
  return (node.directives ?? []).filter((d) => d.name.value === 'key');
}

function stringArgument(directive: ConstDirectiveNode, name: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

function isResolvable(directive: ConstDirectiveNode): boolean {
  const value = directive.arguments?.find((a) => a.name.value === 'resolvable')?.value;
  return !(value?.kind === Kind.BOOLEAN && value.value === false);
}

/** Top-level field names of `@key(fields: "id sku { … }")` (nested selections belong to those fields). */
function keyFieldNames(fields: string): string[] {
  const names: string[] = [];
  let depth = 0;
  for (const token of fields.match(/[_A-Za-z][_0-9A-Za-z]*|[{}]/g) ?? []) {
    if (token === '{') depth += 1;
    else if (token === '}') depth -= 1;
    else if (depth === 0) names.push(token);
  }
  return names;
}

const namedType = (type: TypeNode): string => (type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type));

function declarationsOf(subgraph: string, sdl: string): EntityDeclaration[] {
  const out: EntityDeclaration[] = [];
  for (const definition of parse(sdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const keys = keyDirectives(definition);
    if (keys.length === 0) continue;
    const resolvable = keys.some(isResolvable);
    const role = !resolvable ? 'stub' : definition.kind === Kind.OBJECT_TYPE_EXTENSION ? 'contributor' : 'owner';
    const keyFields = new Set(keys.flatMap((k) => keyFieldNames(stringArgument(k, 'fields') ?? '')));
    out.push({ subgraph, role, keyFields, node: definition });
  }
  return out;
}

function objectTypesOf(sdl: string): ObjectNode[] {
  return parse(sdl).definitions.filter((d): d is ObjectNode => d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION);
}

const describeField = (subgraph: string, type: string, field: FieldDefinitionNode): string => `${subgraph}: ${type}.${field.name.value}`;

/** Every violation of the rules above, as a sentence naming the subgraph and field; empty when the SDLs pass. */
export function auditNullability(sdls: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const declarations = Object.entries(sdls).flatMap(([subgraph, sdl]) => declarationsOf(subgraph, sdl));
  const owners = new Map<string, string>();
  for (const name of new Set(declarations.map((d) => d.node.name.value))) {
    const owning = declarations.filter((d) => d.node.name.value === name && d.role === 'owner').map((d) => d.subgraph);
    if (owning.length !== 1) {
      problems.push(`${name}: an entity needs exactly one owner (a plain \`type ${name} @key\`); found ${owning.length === 0 ? 'none' : owning.join(', ')}`);
    }
    if (owning[0]) owners.set(name, owning[0]);
  }
  for (const declaration of declarations) {
    const type = declaration.node.name.value;
    for (const field of declaration.node.fields ?? []) {
      if (declaration.keyFields.has(field.name.value)) continue;
      if (declaration.role === 'stub') {
        problems.push(`${describeField(declaration.subgraph, type, field)} is declared on a reference stub (resolvable: false): a stub holds only its key fields`);
      } else if (declaration.role === 'contributor' && field.type.kind === Kind.NON_NULL_TYPE) {
        problems.push(`${describeField(declaration.subgraph, type, field)} is contributed to an entity owned by ${owners.get(type) ?? 'another subgraph'} and must be nullable`);
      }
    }
  }
  for (const [subgraph, sdl] of Object.entries(sdls)) {
    for (const object of objectTypesOf(sdl)) {
      if (object.name.value === 'Query') {
        for (const field of object.fields ?? []) {
          if (field.type.kind === Kind.NON_NULL_TYPE) problems.push(`${describeField(subgraph, 'Query', field)} is a root query field and must be nullable`);
        }
        continue;
      }
      const keys = keyDirectives(object);
      if (keys.length > 0 && !keys.some(isResolvable)) continue; // stubs are checked above
      // A key field that is itself a reference (`@key(fields: "book { id }")`) is resolved from the key.
      const keyFields = new Set(keys.flatMap((k) => keyFieldNames(stringArgument(k, 'fields') ?? '')));
      for (const field of object.fields ?? []) {
        const target = namedType(field.type);
        const owner = owners.get(target);
        if (owner === undefined || owner === subgraph || field.type.kind !== Kind.NON_NULL_TYPE || keyFields.has(field.name.value)) continue;
        problems.push(`${describeField(subgraph, object.name.value, field)} refers to ${target}, owned by ${owner}, and must be nullable`);
      }
    }
  }
  return problems;
}
