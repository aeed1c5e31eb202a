/**
 * Counts database round trips (one per collection method call) into a Prometheus counter, so
 * "a shelf of 50 books costs a constant number of queries" can be watched in production and
 * proved in tests through `/metrics`.
 */
import { Counter, type Registry } from 'prom-client';
import type { FolioDb } from '../../lib/storage/index.js';
import type { DocCollection, Document } from '../../lib/storage/types.js';

export function countingDb(db: FolioDb, registry: Registry): FolioDb {
  const counter = new Counter({ name: 'folio_db_operations_total', help: 'Database operations by collection and method', labelNames: ['collection', 'method'], registers: [registry] });
  const wrap = (inner: FolioDb): FolioDb => ({
    name: inner.name,
    collection<T extends Document>(name: string): DocCollection<T> {
      const collection = inner.collection<T>(name);
      return new Proxy(collection, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver);
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          return (...args: unknown[]) => {
            counter.inc({ collection: name, method: property });
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    health: () => inner.health(),
  });
  return wrap(db);
}
