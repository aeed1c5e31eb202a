import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { usedCoordinates } from './schemaCoordinates.js';

// The CommonJS copy, as the module under test walks with (see its comment).
const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const schema = buildSchema(`
  enum Mode { KEYWORD SEMANTIC }
  input Range { start: Int! end: Int! }
  input Filter { language: String range: Range mode: Mode }
  type Book { id: ID! title(short: Boolean): String }
  type Query { books(filter: Filter, first: Int): [Book!]! }
`);

describe('usedCoordinates', () => {
  it('names fields, arguments, enum values and input fields written in the document', () => {
    const doc = parse('{ books(first: 2, filter: { language: "en", range: { start: 1, end: 2 }, mode: SEMANTIC }) { id title(short: true) __typename } }');
    expect([...usedCoordinates(schema, doc)].sort()).toEqual(
      ['Book.id', 'Book.title', 'Book.title.short', 'Filter.language', 'Filter.mode', 'Filter.range', 'Mode.SEMANTIC', 'Query.books', 'Query.books.filter', 'Query.books.first', 'Range.end', 'Range.start'].sort(),
    );
  });

  it('cannot see input fields passed in variables (variables are never read)', () => {
    const doc = parse('query($f: Filter) { books(filter: $f) { id } }');
    expect([...usedCoordinates(schema, doc)].sort()).toEqual(['Book.id', 'Query.books', 'Query.books.filter']);
  });
});
