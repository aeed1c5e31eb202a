/**
 * The schema reference page's rules, pure: which named types there are (by kind), how a type's
 * members read (fields with arguments, input fields, enum values, with deprecations), and what a
 * search finds (type names, member names, descriptions, deprecation reasons).
 */
import {
  astFromValue,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isScalarType,
  isUnionType,
  print,
  type GraphQLArgument,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/** A default as SDL writes it (`20`, `MOST_USED`, `"und"`). */
function defaultOf(arg: GraphQLArgument): string | null {
  if (arg.defaultValue === undefined) return null;
  const ast = astFromValue(arg.defaultValue, arg.type);
  return ast ? print(ast) : null;
}

export type TypeKind = 'object' | 'interface' | 'union' | 'enum' | 'input' | 'scalar';

export interface ArgumentEntry {
  readonly name: string;
  readonly type: string;
  readonly defaultValue: string | null;
  readonly description: string | null;
  readonly deprecationReason: string | null;
}

export interface MemberEntry {
  readonly name: string;
  /** The type as written in SDL (`[String!]!`); null for enum values. */
  readonly type: string | null;
  readonly description: string | null;
  readonly deprecationReason: string | null;
  readonly args: readonly ArgumentEntry[];
}

export interface TypeEntry {
  readonly name: string;
  readonly kind: TypeKind;
  readonly description: string | null;
  readonly members: readonly MemberEntry[];
  /** Interfaces it implements, or a union's members. */
  readonly related: readonly string[];
}

function kindOf(type: GraphQLNamedType): TypeKind {
  if (isObjectType(type)) return 'object';
  if (isInterfaceType(type)) return 'interface';
  if (isUnionType(type)) return 'union';
  if (isEnumType(type)) return 'enum';
  if (isInputObjectType(type)) return 'input';
  return 'scalar';
}

export function typeEntry(type: GraphQLNamedType): TypeEntry {
  const base = { name: type.name, kind: kindOf(type), description: type.description ?? null };
  if (isObjectType(type) || isInterfaceType(type)) {
    return {
      ...base,
      related: type.getInterfaces().map((i) => i.name),
      members: Object.values(type.getFields()).map((f) => ({
        name: f.name,
        type: String(f.type),
        description: f.description ?? null,
        deprecationReason: f.deprecationReason ?? null,
        args: f.args.map((a) => ({
          name: a.name,
          type: String(a.type),
          defaultValue: defaultOf(a),
          description: a.description ?? null,
          deprecationReason: a.deprecationReason ?? null,
        })),
      })),
    };
  }
  if (isInputObjectType(type)) {
    return {
      ...base,
      related: [],
      members: Object.values(type.getFields()).map((f) => ({
        name: f.name,
        type: String(f.type),
        description: f.description ?? null,
        deprecationReason: f.deprecationReason ?? null,
        args: [],
      })),
    };
  }
  if (isEnumType(type)) {
    return {
      ...base,
      related: [],
      members: type.getValues().map((v) => ({ name: v.name, type: null, description: v.description ?? null, deprecationReason: v.deprecationReason ?? null, args: [] })),
    };
  }
  if (isUnionType(type)) return { ...base, related: type.getTypes().map((t) => t.name), members: [] };
  return { ...base, related: [], members: [] };
}

/** Root types first (Query, Mutation, Subscription), then the rest by name; introspection's own types left out. */
export function schemaTypes(schema: GraphQLSchema): TypeEntry[] {
  const roots = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter((t) => t != null).map((t) => t.name);
  const named = Object.values(schema.getTypeMap()).filter((t) => !isIntrospectionType(t) && !(isScalarType(t) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(t.name)));
  named.sort((a, b) => {
    const ra = roots.indexOf(a.name);
    const rb = roots.indexOf(b.name);
    if (ra !== rb) return (ra === -1 ? roots.length : ra) - (rb === -1 ? roots.length : rb);
    return a.name.localeCompare(b.name);
  });
  return named.map(typeEntry);
}

/** The named type at the end of an SDL type string: `[Book!]!` → `Book`. */
export const namedTypeOf = (sdlType: string): string => sdlType.replace(/[[\]!]/g, '');

export interface SearchHit {
  readonly type: string;
  /** The member that matched, or null when the type itself did. */
  readonly member: string | null;
  readonly deprecated: boolean;
}

export const MAX_SEARCH_LENGTH = 200;
export const MAX_HITS = 200;

/**
 * Types and members whose name, description or deprecation reason contain every word of the query
 * (case-insensitive; a member's type name counts, but one word at least must be the member's own).
 */
export function searchSchema(types: readonly TypeEntry[], query: string): SearchHit[] {
  const words = query.slice(0, MAX_SEARCH_LENGTH).toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  const lower = (...texts: Array<string | null>): string => texts.filter(Boolean).join(' ').toLowerCase();
  const matches = (...texts: Array<string | null>): boolean => {
    const text = lower(...texts);
    return words.every((w) => text.includes(w));
  };
  const hits: SearchHit[] = [];
  for (const type of types) {
    if (matches(type.name, type.description)) hits.push({ type: type.name, member: null, deprecated: false });
    for (const m of type.members) {
      // `Book isbn` finds Book.isbn, but `book` alone finds the type, not each of its fields.
      const own = lower(m.name, m.description, m.deprecationReason, m.deprecationReason ? 'deprecated' : null);
      if (matches(type.name, own) && words.some((w) => own.includes(w))) {
        hits.push({ type: type.name, member: m.name, deprecated: m.deprecationReason !== null });
      }
      if (hits.length >= MAX_HITS) return hits;
    }
  }
  return hits;
}
