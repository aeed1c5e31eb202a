import { describe, expect, it } from 'vitest';
import { lintApiSchema } from './lint.js';

const sdl = `
  """A book."""
  type Book { """Its id.""" id: ID!, title: String @deprecated, subtitle: String @deprecated(reason: "use title") }
  type BookConnection { """Page.""" edges: [BookEdge!]!, """Total.""" total: Int }
  """Edge."""
  type BookEdge { """Node.""" node: Book! }
  type Query { """Books.""" books: BookConnection! }
  type Mutation { """Add.""" addBook(title: String!, author: String!, year: Int): Book, """Good.""" rename(input: String!): Book }
`;

describe('conventions lint', () => {
  const warnings = lintApiSchema(sdl);
  const at = (rule: string) => warnings.filter((w) => w.rule === rule).map((w) => w.coordinate);

  it('flags missing descriptions with their coordinates', () => {
    expect(at('description')).toEqual(expect.arrayContaining(['BookConnection', 'Book.title', 'Book.subtitle']));
    expect(at('description')).not.toContain('Book');
    expect(at('description')).not.toContain('Query');
  });

  it('flags a deprecation without a reason only', () => {
    expect(at('deprecation-reason')).toEqual(['Book.title']);
  });

  it('flags mutations with more than two arguments', () => {
    expect(at('mutation-input')).toEqual(['Mutation.addBook']);
  });

  it('flags a connection missing cursor and pageInfo', () => {
    const relay = warnings.filter((w) => w.rule === 'relay-connection').map((w) => w.message);
    expect(relay).toEqual(expect.arrayContaining([expect.stringContaining('cursor'), expect.stringContaining('pageInfo')]));
  });
});
