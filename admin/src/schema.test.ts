import { buildSchema, isInputObjectType, type GraphQLInputObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { changedInput, connectionQuery, connectionShape, editableFields, formFields, FormProblem, formValuesFrom, toInput } from './schema.js';

// A slice of the catalog's SDL, plus what a later schema might add: the console must follow it.
const SDL = /* GraphQL */ `
  enum BookStatus { DRAFT PUBLISHED UNPUBLISHED }
  "How a book is sold."
  enum Format { EPUB PDF }
  input Dimensions { "Millimetres." widthMm: Int! heightMm: Int }
  input CreateBookInput {
    title: String!
    authors: [String!]
    "A BCP 47 tag."
    language: String = "und"
    pages: Int
    format: Format!
    featured: Boolean
    size: Dimensions
    old: String @deprecated(reason: "Use title.")
  }
  input BookFilter { query: String status: BookStatus }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type Book { id: ID! title: String! authors: [String!]! status: BookStatus! chapters(revisionId: ID!): [String!]! license: License }
  type License { territories: [String!]! }
  type BookEdge { cursor: String! node: Book! }
  type BookConnection { edges: [BookEdge!]! pageInfo: PageInfo! }
  input UpdateBookInput { title: String authors: [String!] description: String featured: Boolean license: Dimensions "Added later: the edit form must follow." subtitle: String }
  type Query { books(filter: BookFilter, first: Int = 20, after: String): BookConnection me: String }
`;
const schema = buildSchema(SDL);
const input = schema.getType('CreateBookInput') as GraphQLInputObjectType;

describe('forms from input types', () => {
  it('marks required fields, turns enums into choices and keeps descriptions and deprecations', () => {
    expect(isInputObjectType(input)).toBe(true);
    const fields = Object.fromEntries(formFields(input).map((f) => [f.name, f]));
    expect(Object.keys(fields)).toEqual(['title', 'authors', 'language', 'pages', 'format', 'featured', 'size', 'old']);
    expect(fields.title).toMatchObject({ required: true, kind: { kind: 'text' } });
    expect(fields.authors).toMatchObject({ required: false, kind: { kind: 'list', item: { kind: 'text' } } });
    // Non-null with a default is not required: the server fills it in.
    expect(fields.language).toMatchObject({ required: false, description: 'A BCP 47 tag.' });
    expect(fields.pages?.kind).toEqual({ kind: 'text', numeric: 'Int' });
    expect(fields.format).toMatchObject({ required: true, kind: { kind: 'enum', values: [{ name: 'EPUB' }, { name: 'PDF' }] } });
    expect(fields.featured?.kind).toEqual({ kind: 'boolean' });
    expect(fields.size?.kind.kind).toBe('object');
    expect(fields.old?.deprecationReason).toBe('Use title.');
  });

  it('converts form state to the input the API takes, leaving empty optional fields out', () => {
    expect(toInput(input, { title: 'Dune', authors: 'Frank Herbert\n\n  Brian Herbert ', pages: '412', format: 'EPUB', featured: true, size: { widthMm: '130', heightMm: '' }, language: '' })).toEqual({
      title: 'Dune',
      authors: ['Frank Herbert', 'Brian Herbert'],
      pages: 412,
      format: 'EPUB',
      featured: true,
      size: { widthMm: 130 },
    });
  });

  it('refuses missing required fields and bad numbers before sending', () => {
    expect(() => toInput(input, { format: 'EPUB' })).toThrow(new FormProblem('title is required.'));
    expect(() => toInput(input, { title: 'x', format: '' })).toThrow('format is required.');
    expect(() => toInput(input, { title: 'x', format: 'PDF', pages: '1.5' })).toThrow('pages: enter a whole number.');
    expect(() => toInput(input, { title: 'x', format: 'PDF', size: { heightMm: '3' } })).toThrow('size.widthMm is required.');
  });
});

describe('tables from connections', () => {
  it('shows plain fields without required arguments, filters from the filter input, pages by cursor', () => {
    const shape = connectionShape(schema, 'books');
    expect(shape?.columns.map((c) => c.name)).toEqual(['id', 'title', 'authors', 'status']);
    expect(shape?.filterType?.name).toBe('BookFilter');
    expect(connectionQuery(shape!, ['title', 'status'])).toContain('list: books(filter: $filter, first: $first, after: $after)');
    expect(connectionShape(schema, 'me')).toBeNull();
    expect(connectionShape(schema, 'missing')).toBeNull();
  });
});

describe('edit forms start from the current values', () => {
  const update = schema.getType('UpdateBookInput') as GraphQLInputObjectType;
  const book = { id: 'b1', title: 'Dune', authors: ['Frank Herbert', 'Brian Herbert'], description: null, featured: true, status: 'DRAFT' };

  it('reads the fields the object has and the input type can set (a new input field is read once Book has it)', () => {
    const bookType = schema.getType('Book');
    if (!bookType || !('getFields' in bookType) || isInputObjectType(bookType)) throw new Error('Book missing');
    // featured and subtitle are not on Book; license is an object on both, not a leaf.
    expect(editableFields(bookType as Parameters<typeof editableFields>[0], update)).toEqual(['title', 'authors']);
    const values = formValuesFrom(update, book);
    expect(values).toEqual({ title: 'Dune', authors: 'Frank Herbert\nBrian Herbert', featured: true });
    // Round trip: unchanged form state is the same input.
    expect(toInput(update, values)).toEqual({ title: 'Dune', authors: ['Frank Herbert', 'Brian Herbert'], featured: true });
  });

  it('sends only what changed', () => {
    const before = toInput(update, formValuesFrom(update, book));
    const after = toInput(update, { ...formValuesFrom(update, book), authors: 'Frank Herbert', description: 'Sand.' });
    expect(changedInput(before, after)).toEqual({ authors: ['Frank Herbert'], description: 'Sand.' });
    expect(changedInput(before, before)).toEqual({});
  });
});
