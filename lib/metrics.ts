/** Prometheus metrics: one registry per service process, default Node metrics included. */
import { LRUCache } from 'lru-cache';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ServiceMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'operation' | 'status'>;
  readonly requestDuration: Histogram<'operation'>;
  readonly errors: Counter<'code'>;
  /** The one writer of the operation-labelled series above. */
  readonly operations: OperationLabels;
}

export interface MetricsOptions {
  /** Operation names labelled at once; the least recently used beyond it lose their series. @default 200 */
  readonly maxOperationLabels?: number;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

/**
 * Bounded `operation` labels. Operation names come from clients, and each label value is a
 * permanent series: a name becomes a label only once the server ran an operation of that name (it
 * names an operation of a valid document), and only while it is among the `max` most recently
 * used. Any other name is counted as "other" (no name: "anonymous"), and an evicted name's series
 * are removed, so cardinality stays bounded however many names clients invent.
 */
/** A label's series, resolved once (prom-client hashes the label set on every `inc`/`observe` otherwise). */
interface LabelSeries {
  readonly requests: Map<string, { inc(): void }>;
  readonly duration: { observe(value: number): void };
}

export class OperationLabels {
  // Each known name with its series by status (a series is removed by its full label set).
  private readonly known: LRUCache<string, LabelSeries>;
  // "anonymous" and "other": never evicted.
  private readonly fixed = new Map<string, LabelSeries>();

  constructor(
    max: number,
    private readonly requests: Counter<'operation' | 'status'>,
    private readonly duration: Histogram<'operation'>,
  ) {
    this.known = new LRUCache<string, LabelSeries>({
      max,
      dispose: (series, operation) => {
        for (const status of series.requests.keys()) requests.remove({ operation, status });
        duration.remove({ operation });
      },
    });
  }

  private series(operation: string): LabelSeries {
    return { requests: new Map(), duration: this.duration.labels({ operation }) };
  }

  /** An operation of this name is being executed: it may be a label from now on. */
  admit(name: string | null | undefined): void {
    if (name && NAME.test(name) && !this.known.has(name)) this.known.set(name, this.series(name));
  }

  label(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    return this.known.get(name) ? name : 'other';
  }

  /** Counts one request under its bounded label. */
  record(name: string | null | undefined, status: string, seconds: number): void {
    const known = name ? this.known.get(name) : undefined;
    const operation = known ? name! : name ? 'other' : 'anonymous';
    let series = known ?? this.fixed.get(operation);
    if (!series) this.fixed.set(operation, (series = this.series(operation)));
    let counter = series.requests.get(status);
    if (!counter) series.requests.set(status, (counter = this.requests.labels({ operation, status })));
    counter.inc();
    series.duration.observe(seconds);
  }
}

export function createMetrics(service: string, options: MetricsOptions = {}): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'folio_graphql_requests_total', help: 'GraphQL requests', labelNames: ['operation', 'status'] as const, registers: [registry] });
  const requestDuration = new Histogram({
    name: 'folio_graphql_request_duration_seconds',
    help: 'GraphQL request latency',
    labelNames: ['operation'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return {
    registry,
    requests,
    requestDuration,
    errors: new Counter({ name: 'folio_graphql_errors_total', help: 'GraphQL errors by code', labelNames: ['code'], registers: [registry] }),
    operations: new OperationLabels(options.maxOperationLabels ?? 200, requests, requestDuration),
  };
}

/** What a store's group commits report (lib/storage/embedded journal: records per batch, sync time). */
export interface CommitObservable {
  observeCommits(fn: (batch: { records: number; bytes: number; syncMs: number }) => void): () => void;
}

/**
 * `folio_store_commit_batch_records` (histogram: records per group commit) and
 * `folio_store_fsyncs_total` (rate() gives fsyncs/s) and `folio_store_commit_sync_seconds`, per
 * database, for embedded stores (`commitObservableOf` in lib/storage). Returns how to stop observing.
 */
export function storeCommitMetrics(registry: Registry, db: string, store: CommitObservable | undefined): () => void {
  if (!store) return () => undefined;
  const batch = new Histogram({
    name: 'folio_store_commit_batch_records',
    help: 'Records written per group commit (one write + one fdatasync)',
    labelNames: ['db'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const fsyncs = new Counter({ name: 'folio_store_fsyncs_total', help: 'Journal fdatasyncs', labelNames: ['db'] as const, registers: [registry] });
  const sync = new Histogram({
    name: 'folio_store_commit_sync_seconds',
    help: 'Write + fdatasync time of one group commit',
    labelNames: ['db'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  return store.observeCommits(({ records, syncMs }) => {
    batch.observe({ db }, records);
    fsyncs.inc({ db });
    sync.observe({ db }, syncMs / 1000);
  });
}

/** `folio_db_operations_total{collection,method}`, fed by lib/storage/counting.ts `countingDb`. */
export function dbOperationCounter(registry: Registry): (operation: { collection: string; method: string }) => void {
  const counter = new Counter({ name: 'folio_db_operations_total', help: 'Database operations by collection and method', labelNames: ['collection', 'method'], registers: [registry] });
  // Series resolved once per collection and method (a fixed set), not hashed from labels per call.
  const series = new Map<string, Counter.Internal>();
  return ({ collection, method }) => {
    const key = `${collection}\n${method}`;
    let child = series.get(key);
    if (!child) series.set(key, (child = counter.labels({ collection, method })));
    child.inc();
  };
}
