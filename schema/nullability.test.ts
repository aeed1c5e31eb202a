import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES } from '../lib/config.js';
import { auditNullability } from './nullability.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])';

describe('nullability audit of the subgraph SDLs', () => {
  it('passes for the four Folio subgraphs: nothing another subgraph serves can blank an entity or the response', () => {
    const sdls = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, readFileSync(new URL(`${name}.graphql`, import.meta.url), 'utf8')]));
    expect(auditNullability(sdls)).toEqual([]);
  });

  it('finds a non-null field contributed to an entity another subgraph owns', () => {
    const problems = auditNullability({
      catalog: `${LINK} type Book @key(fields: "id") { id: ID! title: String! }`,
      ugc: `${LINK} extend type Book @key(fields: "id") { id: ID! rating: BookRating! reviews: [String!] } type BookRating { count: Int! }`,
    });
    expect(problems).toEqual(['ugc: Book.rating is contributed to an entity owned by catalog and must be nullable']);
  });

  it('finds a non-null reference to an entity another subgraph owns, but not one to its own or a key', () => {
    const problems = auditNullability({
      accounts: `${LINK} type User @key(fields: "id") { id: ID! name: String! }`,
      ugc: `${LINK}
        extend type User @key(fields: "id") { id: ID! }
        type Review @key(fields: "id") { id: ID! author: User! self: Review! }
        type Shelf @key(fields: "owner { id }") { owner: User! books: [User!]! }
        type Query { reviews: [Review!] }`,
    });
    expect(problems).toEqual([
      'ugc: Review.author refers to User, owned by accounts, and must be nullable',
      'ugc: Shelf.books refers to User, owned by accounts, and must be nullable',
    ]);
  });

  it('finds a non-null root query field', () => {
    const problems = auditNullability({ search: `${LINK} type Query { search(q: String!): [String!]! ask: String } type Mutation { index: Boolean! }` });
    expect(problems).toEqual(['search: Query.search is a root query field and must be nullable']);
  });

  it('requires exactly one owner per entity and only key fields on reference stubs', () => {
    const problems = auditNullability({
      accounts: `${LINK} type User @key(fields: "id") { id: ID! }`,
      ugc: `${LINK} type User @key(fields: "id") { id: ID! shelfCount: Int }`,
      search: `${LINK} type Book @key(fields: "id", resolvable: false) { id: ID! title: String }`,
    });
    expect(problems).toEqual([
      'User: an entity needs exactly one owner (a plain `type User @key`); found accounts, ugc',
      'Book: an entity needs exactly one owner (a plain `type Book @key`); found none',
      'search: Book.title is declared on a reference stub (resolvable: false): a stub holds only its key fields',
    ]);
  });
});
