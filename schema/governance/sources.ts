/**
 * Known operations for the check: trusted documents registered in accounts, read through the
 * storage seam (the platform's configured store: MongoDB, or the embedded engine under
 * FOLIO_DATA_DIR). Run it against a stopped platform's data dir or a shared MongoDB: reading the
 * store directly needs no running services and no signed internal call.
 */
import { loadConfig } from '../../lib/config.js';
import { databaseName } from '../../lib/service.js';
import { openStorage } from '../../lib/storage/index.js';
import type { TrustedDocumentDoc } from '../../subgraphs/accounts/store.js';
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
