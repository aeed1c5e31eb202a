import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { FolioError } from './errors.js';
import { ANONYMOUS } from './identity.js';
import { createLogger } from './logger.js';
import { signRequest } from './signing.js';
import { formatSubgraphError, startSubgraphServer } from './subgraphServer.js';

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

describe('startSubgraphServer', () => {
  it('answers as Apollo negotiates the accept header: application/json (as the gateway sends it, left out), */* (the default of fetch) or another type', async () => {
    const secret = 'subgraph-test-secret-subgraph-test-secret';
    const server = await startSubgraphServer(
      {
        name: 'tiny',
        typeDefs: parse('type Query { hello: String }'),
        resolvers: { Query: { hello: () => 'hi' } },
        context: () => ({}),
      },
      { host: '127.0.0.1', port: 0, internalSecret: secret, logger: createLogger('test', 'silent') },
    );
    try {
      const ask = async (accept: string | undefined) => {
        const body = JSON.stringify({ query: '{ hello }' });
        const signed = signRequest(secret, { audience: 'tiny', method: 'POST', pathAndQuery: '/graphql', body }, { ...ANONYMOUS, clientAddress: '127.0.0.1' });
        const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}), ...signed }, body });
        return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
      };
      const json = { status: 200, type: 'application/json; charset=utf-8', body: { data: { hello: 'hi' } } };
      expect(await ask('application/json')).toEqual(json);
      expect(await ask(undefined)).toEqual(json);
      expect(await ask('application/graphql-response+json')).toEqual({ ...json, type: 'application/graphql-response+json; charset=utf-8' });
      expect((await ask('text/html')).status).toBe(406);
    } finally {
      await server.stop();
    }
  });
});
