/**
 * Field usage for schema governance (README "Changing the schema"). On the request path a request
 * costs one WeakMap lookup (signature and coordinates are computed once per parsed document, and
 * Apollo caches the DocumentNode per query text) and one map increment per (hour, signature,
 * client). Everything else — expanding to per-coordinate counts, sending — happens in the flusher
 * (schemaUsageFlusher.ts), once a minute, off the request path.
 *
 * Privacy: an operation is known by its signature, the SHA-256 of its text with every string and
 * number literal blanked (`""`, `0`) and comments and formatting gone; only that normalised text is
 * ever kept, never the text as sent, never variables, never who the user was. A client is its
 * name and version headers and, for a partner, its API key id.
 *
 * Bounds: at most `maxRows` distinct (hour, signature, client) rows between flushes. Past that a
 * request still counts per coordinate (an overflow row per hour and coordinate, client
 * `(overflow)`), so no usage is lost for the schema check, only its attribution; those requests are
 * counted as dropped. Coordinates are bounded by the schema, so the overflow is bounded too.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { usedCoordinates } from '../../lib/schemaCoordinates.js';

const { Kind, print, visit } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export interface UsageClient {
  readonly name: string;
  readonly version: string;
  readonly partnerKeyId: string | null;
  /** `name|version|partnerKeyId`, built once per client value (the aggregation key). */
  readonly key?: string;
}

const clientKeyOf = (c: UsageClient): string => c.key ?? `${c.name}|${c.version}|${c.partnerKeyId ?? ''}`;

/** The client name of requests that arrived while the buffer was full (attribution dropped). */
export const OVERFLOW_CLIENT: UsageClient = { name: '(overflow)', version: '', partnerKeyId: null };

/** One normalised operation: what the schema check validates against a proposed schema. */
export interface DocumentUsage {
  readonly signature: string;
  /** The normalised text (literals blanked), or null when longer than MAX_OPERATION_BYTES. */
  readonly body: string | null;
  readonly name: string | null;
  readonly coordinates: readonly string[];
}

export interface UsageRow {
  /** Start of the UTC hour, ms. */
  readonly hour: number;
  readonly usage: DocumentUsage;
  readonly client: UsageClient;
  requests: number;
}

export interface DrainedUsage {
  readonly rows: UsageRow[];
  /** Requests past the row bound, per hour and coordinate (attributed to OVERFLOW_CLIENT). */
  readonly overflow: Map<number, Map<string, number>>;
  /** Requests whose attribution was dropped since the last drain. */
  readonly dropped: number;
}

export interface UsageAggregatorOptions {
  /** Distinct (hour, signature, client) rows held between flushes. @default 10000 */
  readonly maxRows?: number;
}

export const HOUR_MS = 3_600_000;
/** Longest normalised operation text kept (as accounts' trusted documents). */
export const MAX_OPERATION_BYTES = 20_000;

const CLIENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const CLIENT_VERSION = /^[A-Za-z0-9._+-]{1,32}$/;

const header = (headers: Record<string, string | string[] | undefined>, a: string, b: string): string | undefined => {
  const value = headers[a] ?? headers[b];
  return typeof value === 'string' ? value : undefined;
};

/** A request without client headers or partner key: one shared value, so the hot path allocates nothing for it. */
const ANONYMOUS_CLIENT: UsageClient = { name: 'unknown', version: '', partnerKeyId: null, key: 'unknown||' };

/** The client a request says it is (bounded labels; anything else is `unknown` / empty). */
export function usageClientOf(headers: Record<string, string | string[] | undefined>, partnerKeyId: string | null): UsageClient {
  const rawName = header(headers, 'apollographql-client-name', 'x-client-name');
  const rawVersion = header(headers, 'apollographql-client-version', 'x-client-version');
  if (rawName === undefined && rawVersion === undefined && partnerKeyId === null) return ANONYMOUS_CLIENT;
  const name = rawName !== undefined && CLIENT_NAME.test(rawName) ? rawName : 'unknown';
  const version = rawVersion !== undefined && CLIENT_VERSION.test(rawVersion) ? rawVersion : '';
  return { name, version, partnerKeyId, key: `${name}|${version}|${partnerKeyId ?? ''}` };
}

/**
 * The operation with every string, number and block-string literal blanked, printed canonically.
 * Enum values, booleans and null stay (they are schema, not data); input-object field names stay
 * so the text still validates where it did.
 */
export function normalizeOperation(document: DocumentNode): string {
  const blanked = visit(document, {
    StringValue: () => ({ kind: Kind.STRING, value: '' }),
    IntValue: () => ({ kind: Kind.INT, value: '0' }),
    FloatValue: () => ({ kind: Kind.FLOAT, value: '0' }),
  });
  return print(blanked);
}

export function describeDocument(schema: GraphQLSchema, document: DocumentNode): DocumentUsage {
  const text = normalizeOperation(document);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return {
    signature: createHash('sha256').update(text).digest('hex').slice(0, 32),
    body: Buffer.byteLength(text) <= MAX_OPERATION_BYTES ? text : null,
    name: operation && 'name' in operation && operation.name ? operation.name.value.slice(0, 100) : null,
    coordinates: [...usedCoordinates(schema, document)],
  };
}

export class UsageAggregator {
  private readonly perDocument = new WeakMap<DocumentNode, DocumentUsage>();
  /** hour → signature → client key → row: lookups by strings that already exist (no key built per request). */
  private rows = new Map<number, Map<string, Map<string, UsageRow>>>();
  private rowCount = 0;
  private overflow = new Map<number, Map<string, number>>();
  private readonly maxRows: number;
  private dropped = 0;
  /** The schema requests were last recorded against (the flusher reports its fields once). */
  schema: GraphQLSchema | undefined;

  constructor(options: UsageAggregatorOptions = {}) {
    this.maxRows = options.maxRows ?? 10_000;
  }

  known(document: DocumentNode): boolean {
    return this.perDocument.has(document);
  }

  /** Signature and coordinates of a document, computed on first sight only. */
  describe(schema: GraphQLSchema, document: DocumentNode): DocumentUsage {
    let usage = this.perDocument.get(document);
    if (!usage) {
      usage = describeDocument(schema, document);
      this.perDocument.set(document, usage);
    }
    return usage;
  }

  record(schema: GraphQLSchema, document: DocumentNode, client: UsageClient, now = Date.now()): DocumentUsage {
    this.schema = schema;
    const usage = this.describe(schema, document);
    this.count(usage, client, now);
    return usage;
  }

  /** Counts a request whose document was described before (a response-cache hit, a deduplicated request). */
  count(usage: DocumentUsage, client: UsageClient, now = Date.now()): void {
    const hour = now - (now % HOUR_MS);
    let bySignature = this.rows.get(hour);
    if (!bySignature) this.rows.set(hour, (bySignature = new Map()));
    let byClient = bySignature.get(usage.signature);
    if (!byClient) bySignature.set(usage.signature, (byClient = new Map()));
    const key = clientKeyOf(client);
    const row = byClient.get(key);
    if (row) {
      row.requests += 1;
    } else if (this.rowCount < this.maxRows) {
      this.rowCount += 1;
      byClient.set(key, { hour, usage, client, requests: 1 });
    } else {
      this.dropped += 1;
      let perCoordinate = this.overflow.get(hour);
      if (!perCoordinate) this.overflow.set(hour, (perCoordinate = new Map()));
      for (const c of usage.coordinates) perCoordinate.set(c, (perCoordinate.get(c) ?? 0) + 1);
    }
  }

  /** Takes the counts gathered since the last drain. */
  drain(): DrainedUsage {
    const rows: UsageRow[] = [];
    for (const bySignature of this.rows.values()) for (const byClient of bySignature.values()) rows.push(...byClient.values());
    const out: DrainedUsage = { rows, overflow: this.overflow, dropped: this.dropped };
    this.rows = new Map();
    this.rowCount = 0;
    this.overflow = new Map();
    this.dropped = 0;
    return out;
  }
}

/** What the request handler hands the plugin: who the client is, and the document's key for cache hits. */
export interface UsageFacts {
  readonly client: UsageClient;
  /** The query text as sent, or the persisted/trusted document's hash (usageDocumentKey). */
  readonly documentKey: string;
}

/** The request's document as a map key, without copying the text: the query itself, else its hash. */
export function usageDocumentKey(body: { query?: unknown; documentId?: unknown; extensions?: unknown }): string {
  if (typeof body.query === 'string') return body.query;
  const hash = (body.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery?.sha256Hash;
  return typeof hash === 'string' ? hash : typeof body.documentId === 'string' ? body.documentId : '';
}

/**
 * The gateway side of usage recording: the Apollo plugin counts every executed operation; the
 * handler counts requests answered without execution (response cache, in-flight dedup) through
 * `countKnown`, by the document key of a request executed before (a bounded map).
 */
export class UsageRecorder {
  readonly aggregator: UsageAggregator;
  private readonly byDocumentKey = new Map<string, DocumentUsage>();
  private readonly maxKnownDocuments: number;

  constructor(options: UsageAggregatorOptions & { readonly maxKnownDocuments?: number } = {}) {
    this.aggregator = new UsageAggregator(options);
    this.maxKnownDocuments = options.maxKnownDocuments ?? 1_000;
  }

  record(schema: GraphQLSchema, document: DocumentNode, facts: UsageFacts): void {
    // A document Apollo parsed anew (its document cache evicted it) but whose text was seen: no second walk.
    const known = this.aggregator.known(document) ? undefined : facts.documentKey ? this.byDocumentKey.get(facts.documentKey) : undefined;
    if (known) {
      this.aggregator.schema = schema;
      this.aggregator.count(known, facts.client);
      return;
    }
    const usage = this.aggregator.record(schema, document, facts.client);
    // Long keys are not remembered: the key is the query text (raw, literals and all: memory only,
    // never sent), and this map must stay small (≤ 1,000 × 4 KiB).
    if (facts.documentKey && facts.documentKey.length <= 4_096 && !this.byDocumentKey.has(facts.documentKey)) {
      if (this.byDocumentKey.size >= this.maxKnownDocuments) this.byDocumentKey.delete(this.byDocumentKey.keys().next().value!);
      this.byDocumentKey.set(facts.documentKey, usage);
    }
  }

  countKnown(facts: UsageFacts): void {
    const usage = facts.documentKey ? this.byDocumentKey.get(facts.documentKey) : undefined;
    if (usage) this.aggregator.count(usage, facts.client);
  }

  /** Counts each operation Apollo executes (after validation and limits: a refused one is not usage). */
  plugin<C extends { readonly usage?: UsageFacts | undefined }>(): ApolloServerPlugin<C> {
    return {
      requestDidStart: async () => ({
        executionDidStart: async ({ schema, document, contextValue }) => {
          if (contextValue.usage) this.record(schema, document, contextValue.usage);
        },
      }),
    };
  }
}
