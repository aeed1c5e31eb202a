/**
 * Known operations for the check: trusted documents registered in accounts and the operations the
 * gateway recorded (with their field usage), read through the
 * storage seam (the platform's configured store: MongoDB, or the embedded engine under
 * FOLIO_DATA_DIR). Run it against a stopped platform's data dir or a shared MongoDB: reading the
 * store directly needs no running services and no signed internal call.
 */
import { loadConfig } from '../../lib/config.js';
import { databaseName } from '../../lib/service.js';
import { openStorage } from '../../lib/storage/index.js';
import { clientLabel, DAY_MS, HOUR_MS, SchemaUsageStore } from '../../subgraphs/accounts/schemaUsageStore.js';
import type { SchemaOperationDoc } from '../../subgraphs/accounts/schemaUsageStore.js';
import type { TrustedDocumentDoc } from '../../subgraphs/accounts/store.js';
import type { UsageEvidence } from './check.js';
import type { KnownOperation } from './operations.js';

type UsageTotal = Awaited<ReturnType<SchemaUsageStore['totals']>>[number];

export async function loadTrustedDocuments(env: NodeJS.ProcessEnv = process.env): Promise<KnownOperation[]> {
  const config = loadConfig(env);
  const storage = await openStorage({ mongodbUri: config.mongodbUri, dataDir: config.dataDir });
  try {
    const docs = await storage.db(databaseName('accounts')).collection<TrustedDocumentDoc>('trusted_documents').find({}).toArray();
    return docs.map((d) => ({ id: d._id, body: d.body, source: 'trusted-document', clients: d.clientName ? [d.clientName] : [] }));
  } finally {
    await storage.close();
  }
}

/** Usage evidence from the per-coordinate totals the gateway recorded in accounts' `schema_usage`. */
export function usageEvidence(totals: readonly UsageTotal[], windowDays: number, coveredDays: number): UsageEvidence {
  const byCoordinate = new Map<string, UsageTotal[]>();
  for (const t of totals) byCoordinate.set(t.coordinate, [...(byCoordinate.get(t.coordinate) ?? []), t]);
  return {
    windowDays,
    coveredDays,
    // A field's own coordinate is recorded whenever it is selected, with or without arguments, so
    // the exact coordinate counts every request that used it (an argument's, those passing it).
    requests(coordinate) {
      const rows = byCoordinate.get(coordinate) ?? [];
      return { requests: rows.reduce((n, t) => n + t.requests, 0), clients: [...new Set(rows.map(clientLabel))].sort() };
    },
  };
}

/** Operations the gateway recorded in the window, with their clients (the text is normalised: literals blanked). */
export function recordedOperations(docs: readonly SchemaOperationDoc[]): KnownOperation[] {
  return docs.flatMap((d) => (d.body === null ? [] : [{ id: d._id, body: d.body, source: 'recorded' as const, clients: [...d.clients].sort() }]));
}

export interface RecordedUsage {
  evidence: UsageEvidence;
  operations: KnownOperation[];
}

/**
 * Usage and operations of the last `windowDays` days, read from accounts' store directly (not through
 * the API): with MONGODB_URI at any time; with the embedded store only while the platform is stopped
 * (one process owns a data directory, and the error says which one holds it).
 */
export async function loadRecordedUsage(windowDays: number, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<RecordedUsage> {
  const config = loadConfig(env);
  const storage = await openStorage({ mongodbUri: config.mongodbUri, dataDir: config.dataDir });
  try {
    const store = await SchemaUsageStore.open(storage.db(databaseName('accounts')), { retentionDays: config.schemaUsageRetentionDays });
    const since = new Date(now - windowDays * DAY_MS);
    const [totals, operations, first] = await Promise.all([store.totals(since), store.operationsSince(since), store.firstHour()]);
    // Pruning drops whole hour buckets, so the oldest kept one starts up to an hour after the cut.
    const coveredDays = first ? Math.min(windowDays, (now - first.getTime() + HOUR_MS) / DAY_MS) : 0;
    return { evidence: usageEvidence(totals, windowDays, coveredDays), operations: recordedOperations(operations) };
  } finally {
    await storage.close();
  }
}
