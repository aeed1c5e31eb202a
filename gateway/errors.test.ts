import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { FolioError } from '../lib/errors.js';
import { errorResponse } from '../lib/http/respond.js';
import { createErrorFormatter, folioGraphQLError, httpErrorExtensions } from './errors.js';

const validation = (message: string) => ({ message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });

describe('the gateway’s error formatter', () => {
  const production = createErrorFormatter({ production: true });
  const development = createErrorFormatter({ production: false });

  it('removes every suggestion in production, and keeps them in development', () => {
    const messages = [
      'Cannot query field "titel" on type "Book". Did you mean "title"?',
      'Value "HYBRI" does not exist in "SearchMode" enum. Did you mean the enum value "HYBRID" or "KEYWORD"?',
      'Unknown argument "frist" on field "Query.books". Did you mean "first"?',
      'Cannot query field "titel" on type "Book". [Suggestion hidden]?',
    ];
    for (const message of messages) {
      const formatted = production(validation(message), new GraphQLError(message));
      expect(formatted.message).not.toMatch(/Did you mean|Suggestion|title|HYBRID|first"/);
      expect(formatted.message).toMatch(/^(Cannot query field|Value "HYBRI"|Unknown argument)/);
    }
    expect(development(validation(messages[0]!), new GraphQLError(messages[0]!)).message).toBe(messages[0]);
  });

  it('masks codes the catalogue does not mark client-safe, keeping path and subgraph', () => {
    const formatted = production({ message: 'connect ECONNREFUSED 10.0.0.3', path: ['a'], extensions: { code: 'INVALID_GRAPHQL', serviceName: 'ugc' } }, new Error('x'));
    expect(formatted).toEqual({ message: 'Internal server error.', path: ['a'], extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'ugc' } });
  });

  it('never lets a FolioError’s details replace its code', () => {
    const error = new FolioError('FORBIDDEN', 'No.', { details: { code: 'OK' } });
    expect(production({ message: 'x', extensions: {} }, error).extensions?.code).toBe('FORBIDDEN');
    expect(JSON.parse(errorResponse(error).body).errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('never lets details replace the code or the status Apollo answers with (operation limits, plugins)', () => {
    const details = { code: 'OK', http: { status: 200 }, limit: 'depth' };
    expect(httpErrorExtensions(new FolioError('OPERATION_LIMIT_EXCEEDED', 'Too deep.', { details }))).toEqual({ code: 'OPERATION_LIMIT_EXCEEDED', limit: 'depth', http: { status: 400 } });
    expect(folioGraphQLError('FORBIDDEN', 'No.', details).extensions).toMatchObject({ code: 'FORBIDDEN', http: { status: 403 } });
  });
});
