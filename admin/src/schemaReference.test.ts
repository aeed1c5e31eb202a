import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { listQuery, listShape } from './schema.js';
import { namedTypeOf, schemaTypes, searchSchema } from './schemaReference.js';

const schema = buildSchema(/* GraphQL */ `
  "A book."
  type Book {
    id: ID!
    "ISBN-13, digits only."
    isbn: String @deprecated(reason: "Use identifiers.")
    chapters(first: Int = 20, "Which revision." revisionId: ID): [Chapter!]!
  }
  "A chapter."
  type Chapter { title: String! }
  enum Order { "Newest first." NEWEST OLDEST @deprecated(reason: "Nobody asked.") }
  input CreateBookInput { "The title." title: String! order: Order = NEWEST }
  "Partner key."
  type ApiKey { id: ID! name: String! scopes: [String!]! owner: Book old: String @deprecated(reason: "gone") }
  type Query { books(order: Order = NEWEST): [Book!]! apiKeys: [ApiKey!] keysOf(owner: ID!, first: Int): [ApiKey!] me: String }
  type Mutation { createBook(input: CreateBookInput!): Book! }
`);

describe('schema reference', () => {
  const types = schemaTypes(schema);

  it('lists roots first, then types by name, without introspection or built-in scalars', () => {
    expect(types.map((t) => t.name)).toEqual(['Query', 'Mutation', 'ApiKey', 'Book', 'Chapter', 'CreateBookInput', 'Order']);
  });

  it('reads fields with SDL types, arguments with defaults as SDL, descriptions and deprecations', () => {
    const book = types.find((t) => t.name === 'Book')!;
    expect(book).toMatchObject({ kind: 'object', description: 'A book.' });
    expect(book.members.find((m) => m.name === 'isbn')).toMatchObject({ type: 'String', description: 'ISBN-13, digits only.', deprecationReason: 'Use identifiers.' });
    expect(book.members.find((m) => m.name === 'chapters')).toMatchObject({
      type: '[Chapter!]!',
      args: [
        { name: 'first', type: 'Int', defaultValue: '20', description: null },
        { name: 'revisionId', type: 'ID', defaultValue: null, description: 'Which revision.' },
      ],
    });
    const query = types.find((t) => t.name === 'Query')!;
    expect(query.members[0]!.args[0]).toMatchObject({ name: 'order', defaultValue: 'NEWEST' });
    expect(types.find((t) => t.name === 'Order')!.members).toEqual([
      { name: 'NEWEST', type: null, description: 'Newest first.', deprecationReason: null, args: [] },
      { name: 'OLDEST', type: null, description: null, deprecationReason: 'Nobody asked.', args: [] },
    ]);
    expect(types.find((t) => t.name === 'CreateBookInput')!.members.map((m) => [m.name, m.type])).toEqual([['title', 'String!'], ['order', 'Order']]);
    expect(namedTypeOf('[Chapter!]!')).toBe('Chapter');
  });

  it('searches names, descriptions and deprecation reasons; every word must match', () => {
    expect(searchSchema(types, 'isbn')).toEqual([{ type: 'Book', member: 'isbn', deprecated: true }]);
    expect(searchSchema(types, 'ISBN deprecated')).toEqual([{ type: 'Book', member: 'isbn', deprecated: true }]);
    expect(searchSchema(types, 'nobody')).toEqual([{ type: 'Order', member: 'OLDEST', deprecated: true }]);
    expect(searchSchema(types, 'chapter').map((h) => `${h.type}.${h.member ?? ''}`)).toEqual(['Book.chapters', 'Chapter.']);
    expect(searchSchema(types, '   ')).toEqual([]);
    expect(searchSchema(types, 'isbn nothing-like-this')).toEqual([]);
    expect(searchSchema(types, 'book isbn')).toEqual([{ type: 'Book', member: 'isbn', deprecated: true }]);
  });

  it('reads a plain list field as a table: leaf columns, deprecated and object fields left out', () => {
    const shape = listShape(schema, 'apiKeys')!;
    expect(shape.columns.map((c) => c.name)).toEqual(['id', 'name', 'scopes']);
    expect(listQuery(shape, ['id', 'name'])).toBe('query ConsoleList { list: apiKeys { id name } }');
    // Arguments given are passed as variables of their own types; the others are left out.
    expect(listQuery(listShape(schema, 'keysOf')!, ['id'], ['owner'])).toBe('query ConsoleList($owner: ID!) { list: keysOf(owner: $owner) { id } }');
    expect(listShape(schema, 'me')).toBeNull();
    expect(listShape(schema, 'missing')).toBeNull();
  });
});
