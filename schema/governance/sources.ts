/**
 * Known operations for the check: trusted documents registered in accounts, read through the
 * storage seam (the platform's configured store: MongoDB, or the embedded engine under
 * FOLIO_DATA_DIR). Run it against a stopped platform's data dir or a shared MongoDB: reading the
 * store directly needs no running services and no signed internal call.
 */
import { loadConfig } from '../../lib/config.js';
import { databaseName } from '../../lib/service.js';
import { openStorage } from '../../lib/storage/index.js';
import { clientLabel, SchemaUsageStore } from '../../subgraphs/accounts/schemaUsageStore.js';
import type { SchemaUsageDoc } from '../../subgraphs/accounts/schemaUsageStore.js';
import type { TrustedDocumentDoc } from '../../subgraphs/accounts/store.js';
import type { UsageEvidence } from './check.js';
import type { KnownOperation } from './operations.js';

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

/** Usage evidence from the buckets the gateway recorded in accounts' `schema_usage` collection. */
export function usageEvidence(docs: readonly SchemaUsageDoc[], windowDays: number): UsageEvidence {
  return {
    windowDays,
    requests(coordinate) {
      let requests = 0;
      const clients = new Set<string>();
      for (const d of docs) {
        if (!d.coordinates.some((c) => c === coordinate || c.startsWith(`${coordinate}.`))) continue;
        requests += d.requests;
        clients.add(clientLabel(d));
      }
      return { requests, clients: [...clients].sort() };
    },
  };
}

export async function loadUsageEvidence(windowDays: number, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<UsageEvidence> {
  const config = loadConfig(env);
  const storage = await openStorage({ mongodbUri: config.mongodbUri, dataDir: config.dataDir });
  try {
    const store = await SchemaUsageStore.open(storage.db(databaseName('accounts')), windowDays);
    return usageEvidence(await store.since(new Date(now - windowDays * 86_400_000)), windowDays);
  } finally {
    await storage.close();
  }
}
