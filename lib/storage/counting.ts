/**
 * Counts store round trips: every collection method called through the returned database (and
 * the transactions it runs) is reported as `{ collection, method }`. Services export the count as
 * `folio_db_operations_total{collection,method}` (lib/metrics.ts), so "a shelf of 100 books is one
 * `books` read" can be watched in production and proved in tests.
 */
import type { FolioDb } from './index.js';
import type { DocCollection, Document } from './types.js';

export interface StoreOperation {
  readonly collection: string;
  readonly method: string;
}

export function countingDb(db: FolioDb, count: (operation: StoreOperation) => void): FolioDb {
  const wrap = (inner: FolioDb): FolioDb => ({
    name: inner.name,
    collection<T extends Document>(name: string): DocCollection<T> {
      // One counted wrapper per method, made on its first call: stores hold their collections for
      // the process, and a wrapper and an operation record per call were allocation on every read.
      const wrappers = new Map<string, { readonly method: unknown; readonly counted: unknown }>();
      return new Proxy(inner.collection<T>(name), {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          const known = wrappers.get(property);
          if (known && known.method === value) return known.counted;
          const operation: StoreOperation = { collection: name, method: property };
          const counted = (...args: unknown[]): unknown => {
            count(operation);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
          wrappers.set(property, { method: value, counted });
          return counted;
        },
      });
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    health: () => inner.health(),
  });
  return wrap(db);
}
