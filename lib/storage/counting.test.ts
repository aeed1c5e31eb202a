import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDataDir } from '../../test/kit/tempDir.js';
import { countingDb, type StoreOperation } from './counting.js';
import { openStorage, type Storage } from './index.js';

let storage: Storage;
let dir: string;
beforeEach(async () => {
  dir = tempDataDir();
  storage = await openStorage({ dataDir: dir });
});
afterEach(async () => {
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('countingDb', () => {
  it('reports every collection call, inside transactions too, and changes nothing else', async () => {
    const seen: StoreOperation[] = [];
    const db = countingDb(storage.db('counted'), (op) => seen.push(op));
    await db.collection<{ _id: string; n: number }>('books').insertOne({ _id: 'a', n: 1 });
    expect(await db.collection<{ _id: string; n: number }>('books').find({}).toArray()).toEqual([{ _id: 'a', n: 1 }]);
    await db.transaction(async (tx) => void (await tx.collection('events').countDocuments({})));
    expect(seen).toEqual([
      { collection: 'books', method: 'insertOne' },
      { collection: 'books', method: 'find' },
      { collection: 'events', method: 'countDocuments' },
    ]);
    expect(db.name).toBe(storage.db('counted').name);
  });
});
