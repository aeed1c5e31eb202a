/**
 * Operation checks: which known operations (trusted documents, recorded operations) a proposed
 * API schema breaks, and which schema coordinates each operation touches.
 */
import { createRequire } from 'node:module';
import type { DocumentNode } from 'graphql';
import { usedCoordinates } from '../../lib/schemaCoordinates.js';

// The CommonJS copy of graphql, as lib/schemaCoordinates.ts walks schemas with (one copy per schema).
const { buildSchema, getNamedType, isInputObjectType, parse, validate } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

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
      coordinates: usedCoordinates(published, document),
    };
  });
}

/** A change at `Type.field` affects operations using `Type.field` or any of its arguments. */
export function touches(coordinates: ReadonlySet<string>, changeCoordinate: string): boolean {
  if (coordinates.has(changeCoordinate)) return true;
  for (const c of coordinates) if (c.startsWith(`${changeCoordinate}.`)) return true;
  return false;
}

/** Input object type → the argument coordinates (`Type.field.arg`) whose type carries it, directly or nested. */
export function argumentsCarrying(apiSdl: string): Map<string, string[]> {
  const schema = buildSchema(apiSdl);
  const out = new Map<string, string[]>();
  const reach = (typeName: string, coordinate: string, seen: Set<string>): void => {
    if (seen.has(typeName)) return;
    seen.add(typeName);
    const list = out.get(typeName) ?? [];
    list.push(coordinate);
    out.set(typeName, list);
    const type = schema.getType(typeName);
    if (isInputObjectType(type)) for (const f of Object.values(type.getFields())) {
      const named = getNamedType(f.type);
      if (isInputObjectType(named)) reach(named.name, coordinate, seen);
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || !('getFields' in type) || isInputObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      for (const arg of 'args' in field ? field.args : []) {
        const named = getNamedType(arg.type);
        if (isInputObjectType(named)) reach(named.name, `${type.name}.${field.name}.${arg.name}`, new Set());
      }
    }
  }
  return out;
}
