/**
 * Private to lib/storage. The MongoDB backend: driver collections handed out unchanged, and
 * transactions that pass the session into every operation made through `tx`.
 */
import { MongoClient } from 'mongodb';
import type { ClientSession, Collection, Document } from 'mongodb';
import type { FolioDb, Storage, StorageHealth } from './index.js';
import type { DocCollection } from './types.js';

type Method = Exclude<keyof DocCollection, 'collectionName'>;

/**
 * Where each method takes its options object. Typed over every DocCollection method, so adding a
 * method to the interface fails to compile until its options position is listed here.
 */
const OPTIONS_ARG: Record<Method, number> = {
  insertOne: 1,
  insertMany: 1,
  findOne: 1,
  find: 1,
  updateOne: 2,
  updateMany: 2,
  replaceOne: 2,
  deleteOne: 1,
  deleteMany: 1,
  findOneAndUpdate: 2,
  findOneAndDelete: 1,
  bulkWrite: 1,
  countDocuments: 1,
  estimatedDocumentCount: 0,
  distinct: 2,
  aggregate: 1,
  createIndex: 1,
  createIndexes: 1,
};

/** A collection whose every operation runs in `session` (a small Proxy rather than 18 wrappers). */
function inSession<T extends Document>(coll: Collection<T>, session: ClientSession): DocCollection<T> {
  return new Proxy(coll, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !Object.hasOwn(OPTIONS_ARG, prop) || typeof value !== 'function') return value;
      const at = OPTIONS_ARG[prop as Method];
      return (...args: unknown[]) => {
        const opts = args[at];
        args[at] = { ...(opts && typeof opts === 'object' ? opts : {}), session };
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as DocCollection<T>;
}

class MongoFolioDb implements FolioDb {
  constructor(
    private readonly client: MongoClient,
    readonly name: string,
    private readonly session?: ClientSession,
  ) {}

  collection<T extends Document>(name: string): DocCollection<T> {
    const coll = this.client.db(this.name).collection<T>(name);
    return this.session ? inSession(coll, this.session) : coll;
  }

  /**
   * Uses the driver's `withTransaction`, which retries `fn` on transient errors: `fn` may run more
   * than once and should do nothing but database work through `tx`. Needs a replica set.
   */
  async transaction<R>(fn: (tx: FolioDb) => Promise<R>): Promise<R> {
    if (this.session) return fn(this); // nested: join the outer transaction
    return this.client.withSession((session) => session.withTransaction(() => fn(new MongoFolioDb(this.client, this.name, session))));
  }

  async health(): Promise<StorageHealth> {
    // A full disk on the server shows up as failed writes (OutOfDiskSpace), not here; this says
    // whether the server answers and whether this connection can write at all.
    const hello = (await this.client.db(this.name).command({ hello: 1 })) as { isWritablePrimary?: boolean };
    return hello.isWritablePrimary === false ? { writable: false, reason: 'NotWritablePrimary' } : { writable: true };
  }
}

export async function openMongoStorage(uri: string): Promise<Storage> {
  const client = await MongoClient.connect(uri);
  return {
    kind: 'mongodb',
    db: (name: string) => new MongoFolioDb(client, name),
    close: () => client.close(),
  };
}
