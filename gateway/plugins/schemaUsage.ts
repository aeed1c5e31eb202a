/**
 * Field-usage aggregation for schema governance. Coordinates are computed once per parsed document
 * (WeakMap on the DocumentNode Apollo caches per query string), so a request costs one lookup and
 * one map increment per (hour, signature, client). Privacy: only the operation signature, client
 * name/version and partner key id are kept, never variables or user ids.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { usedCoordinates } from '../../lib/schemaCoordinates.js';

const { print } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export interface UsageClient {
  name: string;
  version: string;
  partnerKeyId: string | null;
}

export interface UsageRow {
  /** Start of the UTC hour, ms. */
  hour: number;
  signature: string;
  client: UsageClient;
  requests: number;
  coordinates: string[];
}

interface DocumentUsage {
  signature: string;
  coordinates: string[];
}

export interface UsageAggregatorOptions {
  /** Distinct (hour, signature, client) rows held between flushes; extra ones are counted as dropped. */
  maxRows?: number;
}

const HOUR_MS = 3_600_000;

export class UsageAggregator {
  private readonly perDocument = new WeakMap<DocumentNode, DocumentUsage>();
  private rows = new Map<string, UsageRow>();
  private readonly maxRows: number;
  dropped = 0;

  constructor(options: UsageAggregatorOptions = {}) {
    this.maxRows = options.maxRows ?? 10_000;
  }

  /** Signature and coordinates of a document, computed on first sight only. */
  describe(schema: GraphQLSchema, document: DocumentNode): DocumentUsage {
    let usage = this.perDocument.get(document);
    if (!usage) {
      usage = { signature: createHash('sha256').update(print(document)).digest('hex').slice(0, 32), coordinates: [...usedCoordinates(schema, document)] };
      this.perDocument.set(document, usage);
    }
    return usage;
  }

  record(schema: GraphQLSchema, document: DocumentNode, client: UsageClient, now = Date.now()): void {
    const { signature, coordinates } = this.describe(schema, document);
    const hour = now - (now % HOUR_MS);
    const key = `${hour}|${signature}|${client.name}|${client.version}|${client.partnerKeyId ?? ''}`;
    const row = this.rows.get(key);
    if (row) row.requests += 1;
    else if (this.rows.size >= this.maxRows) this.dropped += 1;
    else this.rows.set(key, { hour, signature, client, requests: 1, coordinates });
  }

  /** Takes the counts gathered since the last drain (the flusher writes them to the store). */
  drain(): UsageRow[] {
    const out = [...this.rows.values()];
    this.rows = new Map();
    return out;
  }
}

