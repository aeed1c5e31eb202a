/**
 * Private to lib/storage. The embedded backend: one EmbeddedDatabase per `<dataDir>/<dbName>`,
 * shared by every Storage opened on it in this process (ref-counted), locked against other
 * processes.
 */
import path from 'node:path';
import type { Document } from 'mongodb';
import { StorageServerError } from '../errors.js';
import type { FolioDb, Storage, StorageHealth } from '../index.js';
import type { DocCollection } from '../types.js';
import { EmbeddedCollection } from './collection.js';
import { EmbeddedDatabase, type EngineOptions, type TxState } from './engine.js';
import type { CommitStats } from './journal.js';

const open = new Map<string, { db: EmbeddedDatabase; refs: number }>();

// MongoDB's naming rules, kept so a name that works here works on the real server.
const DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;
const invalidNs = (msg: string): StorageServerError => new StorageServerError(73, 'InvalidNamespace', msg);

function checkCollectionName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > 120 || name.includes('$') || name.includes('\0') || name.startsWith('system.')) {
    throw invalidNs(`invalid collection name: ${JSON.stringify(name)}`);
  }
}

class EmbeddedFolioDb implements FolioDb {
  private readonly cache = new Map<string, EmbeddedCollection<Document>>();

  constructor(
    private readonly engine: EmbeddedDatabase,
    private readonly tx?: TxState,
  ) {}

  get name(): string {
    return this.engine.name;
  }

  collection<T extends Document>(name: string): DocCollection<T> {
    let c = this.cache.get(name);
    if (!c) {
      checkCollectionName(name);
      this.cache.set(name, (c = new EmbeddedCollection(this.engine, name, this.tx)));
    }
    return c as unknown as DocCollection<T>;
  }

  transaction<R>(fn: (tx: FolioDb) => Promise<R>): Promise<R> {
    return this.engine.transaction((tx) => fn(tx === this.tx ? this : new EmbeddedFolioDb(this.engine, tx)));
  }

  health(): Promise<StorageHealth> {
    return this.engine.health();
  }
}

export function openEmbeddedStorage(dataDir: string, options: EngineOptions = {}): Storage {
  const root = path.resolve(dataDir);
  const mine = new Map<string, EmbeddedFolioDb>();
  let closed = false;
  return {
    kind: 'embedded',
    db(name: string): FolioDb {
      if (closed) throw new Error('storage: closed');
      let db = mine.get(name);
      if (db) return db;
      if (!DB_NAME.test(name)) throw invalidNs(`invalid database name: ${JSON.stringify(name)}`);
      const dir = path.join(root, name);
      let entry = open.get(dir);
      if (!entry) open.set(dir, (entry = { db: new EmbeddedDatabase(name, dir, options), refs: 0 }));
      entry.refs++;
      mine.set(name, (db = new EmbeddedFolioDb(entry.db)));
      return db;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const name of mine.keys()) {
        const dir = path.join(root, name);
        const entry = open.get(dir);
        if (entry && --entry.refs === 0) {
          open.delete(dir);
          await entry.db.close();
        }
      }
    },
  };
}

/** The engine behind a FolioDb (benchmarks and tests: compaction, journal size). */
export function engineOf(db: FolioDb): EmbeddedDatabase | undefined {
  return db instanceof EmbeddedFolioDb ? (db as unknown as { engine: EmbeddedDatabase }).engine : undefined;
}

/** The group-commit observer of an embedded database (metrics); undefined on MongoDB. */
export function commitObservableOf(db: FolioDb): Pick<EmbeddedDatabase, 'observeCommits'> | undefined {
  return engineOf(db);
}

/** What each embedded database open in this process holds (benchmarks: which collection grows). */
export function embeddedStoreStats(): Array<{ db: string; journalBytes: number; snapshotBytes: number; collections: Record<string, number>; commits: CommitStats }> {
  return [...open.values()].map(({ db }) => ({
    db: db.name,
    commits: db.commitStats,
    journalBytes: db.storedBytes.journal,
    snapshotBytes: db.storedBytes.snapshot,
    collections: Object.fromEntries([...db.collections.values()].map((c) => [c.name, c.docs.size])),
  }));
}

export { plannerOptions } from './query.js';
