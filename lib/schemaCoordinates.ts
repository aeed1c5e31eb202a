/**
 * The schema coordinates a document touches (`Type.field`, `Type.field.arg`, `Enum.VALUE`, and
 * `Input.field` for input objects written in the document; those passed in variables are not
 * seen, as variables are never looked at):
 * what the gateway records as field usage and what schema checks match changes against.
 */
import { createRequire } from 'node:module';
import type { DocumentNode, GraphQLSchema } from 'graphql';

// The CommonJS copy of graphql, the one Apollo builds the gateway's schema with: TypeInfo must come
// from the same copy as the schema it walks (under vitest an ESM import would be a second copy).
const { getNamedType, TypeInfo, visit, visitWithTypeInfo } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** Coordinates `document` selects in `schema`, introspection fields excluded. */
export function usedCoordinates(schema: GraphQLSchema, document: DocumentNode): Set<string> {
  const out = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (parent && !node.name.value.startsWith('__')) out.add(`${parent.name}.${node.name.value}`);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent && field) out.add(`${parent.name}.${field.name}.${node.name.value}`);
      },
      ObjectField(node) {
        // Entered after TypeInfo pushed the field's own type: the object it belongs to is the parent.
        const parent = typeInfo.getParentInputType();
        if (parent) out.add(`${getNamedType(parent).name}.${node.name.value}`);
      },
      EnumValue(node) {
        const type = typeInfo.getInputType();
        if (type) out.add(`${getNamedType(type).name}.${node.value}`);
      },
    }),
  );
  return out;
}
