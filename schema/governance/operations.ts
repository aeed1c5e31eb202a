/**
 * Operation checks: which known operations (trusted documents, recorded operations) a proposed
 * API schema breaks, and which schema coordinates each operation touches.
 */
import { buildSchema, getNamedType, parse, TypeInfo, validate, visit, visitWithTypeInfo } from 'graphql';
import type { DocumentNode, GraphQLSchema } from 'graphql';

export interface KnownOperation {
  /** Stable identifier: trusted document hash or operation signature. */
  id: string;
  body: string;
  /** `trusted-document` or `recorded`; clients that sent or registered it. */
  source: 'trusted-document' | 'recorded';
  clients: string[];
}

export interface OperationVerdict {
  operation: KnownOperation;
  /** Validation errors against the proposed API schema; empty when it still works. */
  errors: string[];
  /** Whether it validated against the published schema: an already-broken document blocks nothing. */
  validBefore: boolean;
  /** Coordinates the operation touches in the published schema. */
  coordinates: Set<string>;
}

/** Field and argument coordinates an operation selects (`Type.field`, `Type.field.arg`). */
export function coordinatesOf(schema: GraphQLSchema, document: DocumentNode): Set<string> {
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
      EnumValue(node) {
        const type = typeInfo.getInputType();
        if (type) out.add(`${getNamedType(type).name}.${node.value}`);
      },
    }),
  );
  return out;
}

export function checkOperations(publishedApiSdl: string, proposedApiSdl: string, operations: readonly KnownOperation[]): OperationVerdict[] {
  const published = buildSchema(publishedApiSdl);
  const proposed = buildSchema(proposedApiSdl);
  return operations.map((operation) => {
    let document: DocumentNode;
    try {
      document = parse(operation.body);
    } catch (e) {
      return { operation, errors: [`does not parse: ${(e as Error).message}`], validBefore: false, coordinates: new Set<string>() };
    }
    return {
      operation,
      errors: validate(proposed, document).map((e) => e.message),
      validBefore: validate(published, document).length === 0,
      coordinates: coordinatesOf(published, document),
    };
  });
}

/** A change at `Type.field` affects operations using `Type.field` or any of its arguments. */
export function touches(coordinates: ReadonlySet<string>, changeCoordinate: string): boolean {
  if (coordinates.has(changeCoordinate)) return true;
  for (const c of coordinates) if (c.startsWith(`${changeCoordinate}.`)) return true;
  return false;
}
