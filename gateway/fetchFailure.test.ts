import { GraphQLError, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { failedFetch, nulledPaths } from './fetchFailure.js';

describe('paths of the fields a failed subgraph fetch leaves null', () => {
  it('names each root field by its response name, honouring @skip/@include', () => {
    const document = parse('query Q($s: Boolean!) { books(first: 3) { id } one: book(id: "x") { id } __typename me @skip(if: $s) { id } }');
    expect(nulledPaths(document, { s: true })).toEqual([['books'], ['one']]);
    expect(nulledPaths(document, { s: false })).toEqual([['books'], ['one'], ['me']]);
  });

  it('names each entity’s fields for an _entities fetch, by the representation’s type, through fragments', () => {
    const document = parse(`query($representations: [_Any!]!) {
      _entities(representations: $representations) { __typename ... on Book { rating { average } r: reviews { totalCount } } ...U }
    } fragment U on User { shelf { totalCount } }`);
    const representations = [{ __typename: 'Book', id: 'b1' }, { __typename: 'User', id: 'u1' }, { __typename: 'Book', id: 'b2' }];
    expect(nulledPaths(document, { representations })).toEqual([
      ['_entities', 0, 'rating'],
      ['_entities', 0, 'r'],
      ['_entities', 1, 'shelf'],
      ['_entities', 2, 'rating'],
      ['_entities', 2, 'r'],
    ]);
  });

  it('repeats the failure at each path, keeping its code and subgraph name', () => {
    const error = new GraphQLError('Subgraph "ugc" is unreachable.', { extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'ugc' } });
    const response = failedFetch(error, { query: '{ a b }' });
    expect(response.errors?.map((e) => ({ message: e.message, path: e.path, code: e.extensions?.code, serviceName: e.extensions?.serviceName }))).toEqual([
      { message: 'Subgraph "ugc" is unreachable.', path: ['a'], code: 'SERVICE_UNAVAILABLE', serviceName: 'ugc' },
      { message: 'Subgraph "ugc" is unreachable.', path: ['b'], code: 'SERVICE_UNAVAILABLE', serviceName: 'ugc' },
    ]);
    expect(response.data).toBeUndefined();
  });
});
