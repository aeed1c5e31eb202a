/**
 * The console builds itself from the schema it reads by introspection: forms from input types,
 * tables from connections. Everything here is pure (no React) so it reads as the rules it is.
 */
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { request } from './api.js';

export async function loadSchema(token: string): Promise<GraphQLSchema> {
  const data = await request<IntrospectionQuery>(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), {}, token);
  return buildClientSchema(data);
}

/** How one input field is edited and turned back into a GraphQL value. */
export type FieldKind =
  | { readonly kind: 'text'; readonly numeric?: 'Int' | 'Float' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'enum'; readonly values: ReadonlyArray<{ readonly name: string; readonly description: string | null }> }
  | { readonly kind: 'list'; readonly item: FieldKind }
  | { readonly kind: 'object'; readonly type: GraphQLInputObjectType };

export interface FormField {
  readonly name: string;
  readonly required: boolean;
  readonly description: string | null;
  readonly deprecationReason: string | null;
  readonly kind: FieldKind;
}

function kindOf(type: GraphQLInputType): FieldKind {
  const inner = getNullableType(type);
  if (isListType(inner)) return { kind: 'list', item: kindOf(inner.ofType as GraphQLInputType) };
  if (isEnumType(inner)) return { kind: 'enum', values: inner.getValues().map((v) => ({ name: v.name, description: v.description ?? null })) };
  if (isInputObjectType(inner)) return { kind: 'object', type: inner };
  if (inner.name === 'Boolean') return { kind: 'boolean' };
  if (inner.name === 'Int' || inner.name === 'Float') return { kind: 'text', numeric: inner.name };
  return { kind: 'text' };
}

export function formFields(type: GraphQLInputObjectType): FormField[] {
  return Object.values(type.getFields()).map((field: GraphQLInputField) => ({
    name: field.name,
    // Required means the server refuses the input without it: non-null and no default.
    required: isNonNullType(field.type) && field.defaultValue === undefined,
    description: field.description ?? null,
    deprecationReason: field.deprecationReason ?? null,
    kind: kindOf(field.type),
  }));
}

/** Form state is strings (what inputs hold); this turns it into the input object the API takes. */
export type FormValue = string | boolean | FormValues;
export interface FormValues {
  [name: string]: FormValue;
}

export class FormProblem extends Error {}

function convert(kind: FieldKind, value: FormValue | undefined, label: string): unknown {
  switch (kind.kind) {
    case 'boolean':
      return value === true;
    case 'object':
      return toInput(kind.type, typeof value === 'object' ? value : {}, `${label}.`);
    case 'list': {
      const text = typeof value === 'string' ? value : '';
      const items = text.split('\n').map((s) => s.trim()).filter((s) => s !== '');
      return items.map((item) => convert(kind.item, item, label));
    }
    case 'enum':
      return value === '' ? undefined : value;
    case 'text': {
      const text = typeof value === 'string' ? value : '';
      if (!kind.numeric) return text;
      const number = Number(text.trim());
      if (text.trim() === '' || !Number.isFinite(number) || (kind.numeric === 'Int' && !Number.isInteger(number))) {
        throw new FormProblem(`${label}: enter ${kind.numeric === 'Int' ? 'a whole number' : 'a number'}.`);
      }
      return number;
    }
  }
}

function isEmpty(kind: FieldKind, value: FormValue | undefined): boolean {
  if (value === undefined) return true;
  if (kind.kind === 'boolean') return false;
  if (kind.kind === 'object') return typeof value !== 'object' || Object.values(value).every((v) => v === '' || v === false);
  return typeof value === 'string' && value.trim() === '';
}

/** Empty optional fields are left out (the server's default applies); empty required ones are a problem. */
export function toInput(type: GraphQLInputObjectType, values: FormValues, prefix = ''): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const field of formFields(type)) {
    const value = values[field.name];
    const label = `${prefix}${field.name}`;
    if (isEmpty(field.kind, value)) {
      if (field.required) throw new FormProblem(`${label} is required.`);
      continue;
    }
    const converted = convert(field.kind, value, label);
    if (converted !== undefined) input[field.name] = converted;
  }
  return input;
}

/** A connection field of Query: `edges { cursor node }` and `pageInfo`; its node type's plain columns. */
export interface ConnectionShape {
  readonly field: GraphQLField<unknown, unknown>;
  readonly node: GraphQLObjectType;
  readonly columns: ReadonlyArray<{ readonly name: string; readonly description: string | null; readonly list: boolean }>;
  readonly filterType: GraphQLInputObjectType | null;
}

export function connectionShape(schema: GraphQLSchema, fieldName: string): ConnectionShape | null {
  const field = schema.getQueryType()?.getFields()[fieldName];
  if (!field) return null;
  const connection = getNamedType(field.type);
  if (!isObjectType(connection)) return null;
  const edges = connection.getFields().edges;
  if (!edges || !connection.getFields().pageInfo) return null;
  const edge = getNamedType(edges.type);
  if (!isObjectType(edge)) return null;
  const nodeField = edge.getFields().node;
  const node = nodeField ? getNamedType(nodeField.type) : undefined;
  if (!node || !isObjectType(node)) return null;
  // Columns: fields a table can show without arguments or sub-selections (scalars, enums, lists of them).
  const columns = Object.values(node.getFields())
    .filter((f) => !f.deprecationReason && f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined) && isLeafType(getNamedType(f.type)))
    .map((f) => ({ name: f.name, description: f.description ?? null, list: isListType(getNullableType(f.type)) }));
  const filterArg = field.args.find((a) => a.name === 'filter');
  const filterType = filterArg ? getNamedType(filterArg.type) : null;
  return { field, node, columns, filterType: filterType && isInputObjectType(filterType) ? filterType : null };
}

/** The list query for a connection: names come from the schema itself, values go in variables. */
export function connectionQuery(shape: ConnectionShape, columns: readonly string[]): string {
  const filter = shape.filterType ? `$filter: ${shape.filterType.name}, ` : '';
  const filterArg = shape.filterType ? 'filter: $filter, ' : '';
  return `query ConsoleList(${filter}$first: Int, $after: String) {
  list: ${shape.field.name}(${filterArg}first: $first, after: $after) {
    edges { cursor node { ${columns.join(' ')} } }
    pageInfo { hasNextPage endCursor }
  }
}`;
}

/**
 * The reverse of toInput: an object the API returned (e.g. a Book) as form state for an input type
 * (e.g. UpdateBookInput), so an edit form starts from the current values. Fields the object lacks
 * stay empty; lists become one item per line.
 */
export function formValuesFrom(type: GraphQLInputObjectType, source: Readonly<Record<string, unknown>>, depth = 0): FormValues {
  const values: FormValues = {};
  for (const field of formFields(type)) {
    const value = source[field.name];
    if (value === null || value === undefined) continue;
    const kind = field.kind;
    if (kind.kind === 'boolean') values[field.name] = value === true;
    else if (kind.kind === 'object') {
      if (depth < 3 && typeof value === 'object' && !Array.isArray(value)) values[field.name] = formValuesFrom(kind.type, value as Record<string, unknown>, depth + 1);
    } else if (kind.kind === 'list') {
      if (Array.isArray(value)) values[field.name] = value.filter((v) => v !== null && typeof v !== 'object').map(String).join('\n');
    } else if (typeof value !== 'object') values[field.name] = String(value);
  }
  return values;
}

/** Only what changed: an update input that leaves every untouched field out (the server keeps it). */
export function changedInput(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(after).filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(before[name])));
}

/** The leaf fields of an object type that an input type can also set (what an edit form must read). */
export function editableFields(object: GraphQLObjectType, input: GraphQLInputObjectType): string[] {
  const fields = object.getFields();
  return formFields(input)
    .filter((f) => f.kind.kind !== 'object')
    .map((f) => f.name)
    .filter((name) => {
      const field = fields[name];
      return field !== undefined && isLeafType(getNamedType(field.type)) && field.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined);
    });
}

/** A Query field returning a plain list of objects; its item type's plain columns. */
export interface ListShape {
  readonly field: GraphQLField<unknown, unknown>;
  readonly item: GraphQLObjectType;
  readonly columns: ReadonlyArray<{ readonly name: string; readonly description: string | null; readonly list: boolean }>;
}

/** Fields a table can show without arguments or sub-selections (scalars, enums, lists of them), deprecated ones left out. */
function plainColumns(type: GraphQLObjectType): ListShape['columns'] {
  return Object.values(type.getFields())
    .filter((f) => !f.deprecationReason && f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined) && isLeafType(getNamedType(f.type)))
    .map((f) => ({ name: f.name, description: f.description ?? null, list: isListType(getNullableType(f.type)) }));
}

export function listShape(schema: GraphQLSchema, fieldName: string): ListShape | null {
  const field = schema.getQueryType()?.getFields()[fieldName];
  if (!field || !isListType(getNullableType(field.type))) return null;
  const item = getNamedType(field.type);
  if (!isObjectType(item)) return null;
  return { field, item, columns: plainColumns(item) };
}

/** The list's query; `args` names the field's arguments to pass (as variables of the same names). */
export function listQuery(shape: ListShape, columns: readonly string[], args: readonly string[] = []): string {
  const used = shape.field.args.filter((a) => args.includes(a.name));
  const variables = used.length ? `(${used.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
  const call = used.length ? `(${used.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  return `query ConsoleList${variables} { list: ${shape.field.name}${call} { ${columns.join(' ')} } }`;
}
