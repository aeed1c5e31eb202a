/**
 * Trusted documents: the allow-list of operations admins register in accounts
 * (`GET /internal/trusted-documents`, ids are the sha256 hex of the body). Partners (callers with a
 * partnerId) may run only these, by `documentId` or `extensions.persistedQuery.sha256Hash`; an
 * unknown id → PERSISTED_QUERY_NOT_FOUND, a raw query → FORBIDDEN. Anyone may run a trusted
 * document by `documentId`. The list is re-read every `refreshMs` while requests use it (never in
 * the background when idle) and on a miss (at most once per `minMissRefreshMs`), so a newly
 * registered document works within a second and a removed one stops within `refreshMs`.
 * A partner runs a document only with every scope its operation needs (lib/scopes.ts), checked here
 * before the response cache (shared by all partners) and before planning.
 */
import { parse } from 'graphql';
import { callInternal } from '../../lib/signing.js';
import { FolioError } from '../../lib/errors.js';
import type { Caller } from '../../lib/identity.js';
import { assertPartnerScopes, scopesNeeded, type ScopeNeeds } from '../../lib/scopes.js';

export interface TrustedDocument {
  readonly id: string;
  readonly body: string;
  readonly clientName: string | null;
}

export interface TrustedDocumentsOptions {
  /** Loads the current list; by default the signed accounts endpoint. */
  readonly load: () => Promise<readonly TrustedDocument[]>;
  /** Age after which the list is re-read. @default 5000 */
  readonly refreshMs?: number;
  /** Minimum interval between re-reads caused by misses. @default 1000 */
  readonly minMissRefreshMs?: number;
}

/** The GraphQL-over-HTTP body fields this plugin reads and rewrites. */
export interface GraphQLBody {
  query?: unknown;
  documentId?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}

export interface TrustedDocuments {
  /** Rewrites `body` in place to carry the trusted document's text, or throws a FolioError. */
  apply(body: GraphQLBody, caller: Caller): Promise<void>;
}

export function loadFromAccounts(secret: string, authUrl: string | undefined): () => Promise<readonly TrustedDocument[]> {
  return async () => {
    if (!authUrl) return [];
    const answer = await callInternal<{ documents: TrustedDocument[] }>({ secret, audience: 'accounts', baseUrl: authUrl }, 'GET', '/internal/trusted-documents', undefined, { timeoutMs: 3000 });
    return Array.isArray(answer?.documents) ? answer.documents.filter((d) => typeof d?.id === 'string' && typeof d.body === 'string') : [];
  };
}

const HASH = /^(sha256:)?([0-9a-f]{64})$/i;

// Per loaded document object (a refresh brings new ones), per operation name: parsed once.
const needsCache = new WeakMap<TrustedDocument, Map<string, ScopeNeeds>>();

function needsOf(document: TrustedDocument, operationName: unknown): ScopeNeeds {
  const name = typeof operationName === 'string' ? operationName : '';
  let byOperation = needsCache.get(document);
  if (!byOperation) needsCache.set(document, (byOperation = new Map()));
  let needs = byOperation.get(name);
  if (!needs) {
    try {
      needs = scopesNeeded(parse(document.body), name || null);
    } catch {
      needs = { scopes: [], unavailable: ['(a document that does not parse)'] };
    }
    if (byOperation.size < 100) byOperation.set(name, needs); // operation names come from the client
  }
  return needs;
}

function requestedId(body: GraphQLBody): string | undefined {
  if (typeof body.documentId === 'string') return body.documentId;
  const pq = (body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return typeof pq?.sha256Hash === 'string' ? pq.sha256Hash : undefined;
}

export function createTrustedDocuments(options: TrustedDocumentsOptions): TrustedDocuments {
  const refreshMs = options.refreshMs ?? 5000;
  const minMiss = options.minMissRefreshMs ?? 1000;
  let documents = new Map<string, TrustedDocument>();
  let loadedAt = -Infinity;
  let loading: Promise<void> | undefined;

  const refresh = (): Promise<void> => {
    loading ??= options
      .load()
      .then((list) => {
        documents = new Map(list.map((d) => [d.id.toLowerCase(), d]));
        loadedAt = Date.now();
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };

  async function find(id: string): Promise<TrustedDocument | undefined> {
    const age = Date.now() - loadedAt;
    try {
      if (loadedAt === -Infinity) await refresh();
      else if (age > refreshMs) void refresh().catch(() => undefined); // serve the current list meanwhile
      let found = documents.get(id);
      if (!found && Date.now() - loadedAt >= minMiss) {
        await refresh();
        found = documents.get(id);
      }
      return found;
    } catch (error) {
      if (loadedAt === -Infinity) throw new FolioError('SERVICE_UNAVAILABLE', 'Trusted documents are unavailable; retry later.', { cause: error });
      return documents.get(id);
    }
  }

  return {
    async apply(body, caller) {
      const raw = requestedId(body);
      const isPartner = caller.partnerId !== null;
      if (raw === undefined) {
        if (isPartner) throw new FolioError('FORBIDDEN', 'Partner integrations may run only trusted documents: send documentId or extensions.persistedQuery.sha256Hash.');
        return;
      }
      if (!isPartner && typeof body.documentId !== 'string') return; // app clients: Apollo's APQ handles hashes
      const match = HASH.exec(raw);
      const document = match ? await find(match[2]!.toLowerCase()) : undefined;
      if (!document) {
        throw new FolioError('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound', { details: { documentId: raw.slice(0, 80) } });
      }
      if (isPartner) assertPartnerScopes(caller, needsOf(document, body.operationName));
      body.query = document.body;
      delete body.documentId;
      // Apollo checks the hash against the text; keep them consistent.
      body.extensions = { ...(body.extensions as object | undefined), persistedQuery: { version: 1, sha256Hash: document.id.toLowerCase() } };
    },
  };
}
