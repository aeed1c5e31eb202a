/**
 * Automatic persisted queries for app clients: Apollo Server's own APQ protocol, stored in the
 * server's default cache (Apollo's bounded in-memory LRU, ~30 MiB, least recently used evicted).
 * Partners never register documents: trustedDocuments.ts answers their hashes before APQ sees them.
 */
import { createHash } from 'node:crypto';
import type { ApolloServerOptions } from '@apollo/server';
import { FolioError } from '../../lib/errors.js';
import type { GatewayContext } from '../context.js';
import type { GraphQLBody } from './trustedDocuments.js';

export interface ApqOptions {
  /** Lifetime of a registered document, seconds. @default 86400 (a day) */
  readonly ttlSeconds?: number;
}

export function apq(options: ApqOptions = {}): ApolloServerOptions<GatewayContext>['persistedQueries'] {
  return { ttl: options.ttlSeconds ?? 86_400 };
}

/**
 * Apollo Server answers a registration whose hash does not match its query with an error that has
 * no code (so the edge masks it as INTERNAL_SERVER_ERROR): refuse it first, as the client's error.
 */
export function checkPersistedQueryHash(body: GraphQLBody): void {
  const persisted = (body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  if (typeof body.query !== 'string' || persisted?.sha256Hash === undefined) return;
  if (persisted.sha256Hash !== createHash('sha256').update(body.query).digest('hex')) {
    throw new FolioError('BAD_REQUEST', 'The persisted query hash does not match the query (sha256 of the query text, lower-case hex).');
  }
}
