import { buildSchema, parse, OperationTypeNode } from 'graphql';
import type { QueryPlan } from '@apollo/query-planner';
import { describe, expect, it } from 'vitest';
import { compileSingleFetch, shapeSingleFetch } from './singleFetch.js';

const schema = buildSchema(/* GraphQL */ `
  enum Status { DRAFT PUBLISHED }
  scalar DateTime
  interface Node { id: ID! }
  type Book implements Node { id: ID! title: String! status: Status! pages: Int tags: [String!]! at: DateTime }
  union Result = Book
  type Query { book(id: ID!): Book books: [Book!]! node(id: ID!): Node search: [Result!]! count: Int }
`);

const fetchPlan = (extra: Record<string, unknown> = {}): QueryPlan =>
  ({ kind: 'QueryPlan', node: { kind: 'Fetch', serviceName: 'catalog', operation: '{ x }', operationName: undefined, operationKind: OperationTypeNode.QUERY, variableUsages: [], ...extra } }) as unknown as QueryPlan;

const compile = (query: string, plan = fetchPlan(), operationName?: string) => compileSingleFetch(plan, schema, parse(query), operationName);

describe('compileSingleFetch', () => {
  it('compiles a one-fetch plan over object types', () => {
    expect(compile('{ book(id: "1") { id ...F ... on Book { status } } } fragment F on Book { title }')).toBeDefined();
  });

  it('refuses plans and documents where shaping is not a plain projection', () => {
    expect(compile('{ book(id: "1") { id } }', { kind: 'QueryPlan', node: { kind: 'Sequence', nodes: [] } } as unknown as QueryPlan)).toBeUndefined();
    expect(compile('{ book(id: "1") { id } }', fetchPlan({ requires: [] }))).toBeUndefined();
    expect(compile('{ book(id: "1") { id } }', fetchPlan({ outputRewrites: [{ kind: 'KeyRenamer', path: [], renameKeyTo: 'x' }] }))).toBeUndefined();
    expect(compile('{ node(id: "1") { id } }')).toBeUndefined(); // interface
    expect(compile('{ search { ... on Book { id } } }')).toBeUndefined(); // union
    expect(compile('{ __schema { queryType { name } } }')).toBeUndefined(); // introspection
    expect(compile('{ book(id: "1") { id title @deprecated } }')).toBeUndefined(); // a directive other than @skip/@include
    expect(compile('mutation { count }')).toBeUndefined(); // plan is a query
  });
});

describe('shapeSingleFetch', () => {
  it('projects in the client order, with aliases, dropping what the client did not ask for', () => {
    const compiled = compile('{ b: book(id: "1") { t: title id kind: __typename } count }')!;
    const data = shapeSingleFetch(compiled, { count: 3, b: { __typename: 'Book', id: '1', t: 'T', extra: 1 } }, {});
    expect(JSON.stringify(data)).toBe('{"b":{"t":"T","id":"1","kind":"Book"},"count":3}');
  });

  it('applies @skip/@include from literals, variables and defaults, and merges repeated fields', () => {
    const compiled = compile('query($s: Boolean = true, $i: Boolean!) { book(id: "1") { id @skip(if: $s) title @include(if: $i) } book(id: "1") { status } count @include(if: false) }')!;
    const input = { book: { id: '1', title: 'T', status: 'DRAFT' }, count: 1 };
    expect(JSON.stringify(shapeSingleFetch(compiled, input, { i: true }))).toBe('{"book":{"title":"T","status":"DRAFT"}}');
    expect(JSON.stringify(shapeSingleFetch(compiled, input, { s: false, i: false }))).toBe('{"book":{"id":"1","status":"DRAFT"}}');
  });

  it('keeps lists, nulls and custom scalars as received', () => {
    const compiled = compile('{ books { tags pages at } book(id: "x") { id } }')!;
    expect(shapeSingleFetch(compiled, { books: [{ tags: ['a'], pages: null, at: { odd: true } }], book: null }, {})).toEqual({ books: [{ tags: ['a'], pages: null, at: { odd: true } }], book: null });
  });

  it('hands anything unusual to the normal path (undefined)', () => {
    const compiled = compile('query($s: Boolean) { books { id title status pages @skip(if: $s) } }')!;
    const ok = { id: '1', title: 'T', status: 'DRAFT', pages: 1 };
    expect(shapeSingleFetch(compiled, { books: [ok] }, { s: false })).toBeDefined();
    expect(shapeSingleFetch(compiled, { books: [{ ...ok, title: null }] }, { s: false })).toBeUndefined(); // null in a non-null field
    expect(shapeSingleFetch(compiled, { books: [{ ...ok, status: 'HIDDEN' }] }, { s: false })).toBeUndefined(); // enum value the API schema lacks
    expect(shapeSingleFetch(compiled, { books: [{ ...ok, pages: '1' }] }, { s: false })).toBeUndefined(); // Int as a string
    expect(shapeSingleFetch(compiled, { books: [{ ...ok, __typename: 'Other' }] }, { s: false })).toBeUndefined(); // unexpected type
    expect(shapeSingleFetch(compiled, { books: { id: '1' } }, { s: false })).toBeUndefined(); // not a list
    expect(shapeSingleFetch(compiled, { books: [ok] }, { s: 'yes' })).toBeUndefined(); // non-boolean condition
  });
});
