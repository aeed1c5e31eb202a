/**
 * The document storage seam. Business code calls `openStorage(config)` once, then
 * `storage.db('folio_accounts').collection<User>('users')` and uses the mongodb driver's
 * collection API (the subset in types.ts). With `mongodbUri` it is the real driver; without it,
 * the embedded engine journaled under `dataDir`. See README.md for guarantees and limits.
 */
import type { Document } from 'mongodb';
import type { CommitMode } from './embedded/engine.js';
import { openEmbeddedStorage } from './embedded/index.js';
import { openMongoStorage } from './mongo.js';
import type { DocCollection } from './types.js';

export type * from './types.js';
export { isDuplicateKeyError, isStorageFullError } from './errors.js';
export { commitObservableOf } from './embedded/index.js';
export { ObjectId, Binary } from 'mongodb';

export interface StorageOptions {
  /** Use this MongoDB (FolioConfig.mongodbUri); the embedded engine when unset. */
  mongodbUri?: string | undefined;
  /** Where the embedded engine keeps `<dbName>/journal.log` etc. (FolioConfig.dataDir). */
  dataDir: string;
  /** Embedded only: journal size below which it is never compacted. @default 4 MiB */
  compactAtBytes?: number;
  /** Embedded only: commit mode (FolioConfig.storeCommit). @default 'pipelined' */
  commit?: CommitMode | undefined;
}

export interface Storage {
  db(name: string): FolioDb;
  close(): Promise<void>;
  readonly kind: 'embedded' | 'mongodb';
}

export interface FolioDb {
  collection<T extends Document>(name: string): DocCollection<T>;
  /** Runs fn atomically: all writes made through `tx` commit together or not at all. */
  transaction<R>(fn: (tx: FolioDb) => Promise<R>): Promise<R>;
  /**
   * For readiness: resolves when the database answers (throws when it does not), saying whether
   * it takes writes now. Embedded: false after a failed journal write until a probe succeeds.
   * MongoDB: a ping, and whether the server is a writable primary.
   */
  health(): Promise<StorageHealth>;
  readonly name: string;
}

export interface StorageHealth {
  readonly writable: boolean;
  /** Why not, for operators (e.g. `OutOfDiskSpace`). */
  readonly reason?: string;
}

export async function openStorage(opts: StorageOptions): Promise<Storage> {
  if (opts.mongodbUri) return openMongoStorage(opts.mongodbUri);
  return openEmbeddedStorage(opts.dataDir, {
    ...(opts.compactAtBytes !== undefined ? { compactAtBytes: opts.compactAtBytes } : {}),
    ...(opts.commit ? { commit: opts.commit } : {}),
  });
}
