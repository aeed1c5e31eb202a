import { describe, expect, it } from 'vitest';
import { FolioError } from './errors.js';
import { createLogger } from './logger.js';
import { formatSubgraphError } from './subgraphServer.js';

describe('formatSubgraphError', () => {
  const logger = createLogger('test', 'silent');

  it('keeps a FolioError’s code and details, and no detail replaces the code', () => {
    const error = new FolioError('BAD_USER_INPUT', 'Too long.', { details: { field: 'text', code: 'INTERNAL_SERVER_ERROR' } });
    expect(formatSubgraphError(logger, { message: 'x', path: ['a'] }, error)).toEqual({ message: 'Too long.', path: ['a'], extensions: { code: 'BAD_USER_INPUT', field: 'text' } });
  });

  it('masks anything else as INTERNAL_SERVER_ERROR', () => {
    expect(formatSubgraphError(logger, { message: 'ECONNREFUSED 10.0.0.3', path: ['a'] }, new Error('ECONNREFUSED 10.0.0.3'))).toEqual({ message: 'Internal server error.', path: ['a'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  });
});
