/**
 * Conformance suite: the same tests hold the embedded engine (always) and MongoDB (when
 * MONGODB_URI is set) to the same behaviour for every DocCollection operation.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Binary, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDuplicateKeyError, openStorage, type DocCollection, type Document, type FolioDb, type Storage } from './index.js';

/** Test documents with any `_id` type (the driver's default schema assumes ObjectId). */
type Loose = { _id?: string | number | ObjectId; [key: string]: any };

const MONGODB_URI = process.env.MONGODB_URI;
const here = path.dirname(fileURLToPath(import.meta.url));

interface Backend {
  readonly name: 'embedded' | 'mongodb';
  readonly skip: boolean;
  readonly uri: string | undefined;
}

const backends: Backend[] = [
  { name: 'embedded', skip: false, uri: undefined },
  { name: 'mongodb', skip: !MONGODB_URI, uri: MONGODB_URI },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`storage contract: ${backend.name}`, () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-storage-'));
    const dbName = `folio_contract_${process.pid}_${Date.now() % 100000}`;
    let storage: Storage;
    let db: FolioDb;
    let counter = 0;
    const open = (): Promise<Storage> => openStorage({ dataDir, mongodbUri: backend.uri });
    const fresh = <T extends Document = Loose>(): DocCollection<T> => db.collection<T>(`c${++counter}`);

    beforeAll(async () => {
      storage = await open();
      db = storage.db(dbName);
    });
    afterAll(async () => {
      await storage.close();
      if (backend.uri) {
        const client = await MongoClient.connect(backend.uri);
        await client.db(dbName).dropDatabase();
        await client.close();
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('reports its kind', () => {
      expect(storage.kind).toBe(backend.name);
      expect(db.name).toBe(dbName);
    });

    it('insertOne assigns an ObjectId (also on the input) and returns copies', async () => {
      const c = fresh();
      const input: Document = { sku: 'a', nested: { a: 1 } };
      const r = await c.insertOne(input);
      expect(r.acknowledged).toBe(true);
      expect(r.insertedId).toBeInstanceOf(ObjectId);
      expect(input._id).toEqual(r.insertedId);
      const got = await c.findOne({ _id: r.insertedId });
      got!.nested!.a = 99;
      got!.sku = 'changed';
      const again = await c.findOne({ sku: 'a' });
      expect(again!.nested!.a).toBe(1);
      input.sku = 'mutated-after-insert';
      expect((await c.findOne({ _id: r.insertedId }))!.sku).toBe('a');
    });

    it('round-trips Dates, ObjectIds, Binary, nested docs, arrays and null with their types', async () => {
      const c = fresh();
      const ref = new ObjectId();
      const at = new Date('2024-05-06T07:08:09.123Z');
      await c.insertOne({ _id: 'types', at, ref, bin: Buffer.from([1, 2, 255]), deep: { list: [{ d: at }, 2, 'x'], nil: null }, big: 2 ** 40, f: 1.5 });
      const check = (doc: Document | null): void => {
        expect(doc!.at).toBeInstanceOf(Date);
        expect((doc!.at as Date).toISOString()).toBe(at.toISOString());
        expect(doc!.ref).toBeInstanceOf(ObjectId);
        expect((doc!.ref as ObjectId).equals(ref)).toBe(true);
        expect(doc!.bin).toBeInstanceOf(Binary);
        expect([...(doc!.bin as Binary).buffer]).toEqual([1, 2, 255]);
        expect(doc!.deep.list[0].d).toBeInstanceOf(Date);
        expect(doc!.deep.nil).toBeNull();
        expect(doc!.big).toBe(2 ** 40);
        expect(doc!.f).toBe(1.5);
      };
      check(await c.findOne({ _id: 'types' }));
      check(await c.findOne({ at }));
      check(await c.findOne({ ref }));
      const other = await open();
      check(await other.db(dbName).collection<Loose>(c.collectionName).findOne({ _id: 'types' }));
      await other.close();
    });

    it('enforces unique indexes with the driver error shape (insert, update, upsert, replace)', async () => {
      const c = fresh();
      expect(await c.createIndex({ sku: 1 }, { unique: true })).toBe('sku_1');
      expect(await c.createIndex({ sku: 1 }, { unique: true })).toBe('sku_1'); // idempotent
      await c.insertOne({ sku: 'x', qty: 1 });
      await c.insertOne({ sku: 'y', qty: 2 });
      const err = await c.insertOne({ sku: 'x' }).catch((e: unknown) => e);
      expect(isDuplicateKeyError(err)).toBe(true);
      expect(err).toMatchObject({ code: 11000, keyPattern: { sku: 1 }, keyValue: { sku: 'x' } });
      expect(isDuplicateKeyError(await c.updateOne({ sku: 'y' }, { $set: { sku: 'x' } }).catch((e: unknown) => e))).toBe(true);
      expect(isDuplicateKeyError(await c.updateOne({ qty: 7 }, { $set: { sku: 'x' } }, { upsert: true }).catch((e: unknown) => e))).toBe(true);
      expect(isDuplicateKeyError(await c.replaceOne({ sku: 'y' }, { sku: 'x' }).catch((e: unknown) => e))).toBe(true);
      expect(isDuplicateKeyError(await c.insertOne({ _id: (await c.findOne({ sku: 'x' }))!._id, sku: 'z' }).catch((e: unknown) => e))).toBe(true);
      expect(await c.countDocuments()).toBe(2);
      expect((await c.findOne({ sku: 'y' }))!.qty).toBe(2);
      expect(isDuplicateKeyError(new Error('x'))).toBe(false);
    });

    it('supports compound, sparse and partial unique indexes, and refuses an index the data violates', async () => {
      const c = fresh();
      expect(await c.createIndexes([{ key: { sku: 1, qty: -1 }, unique: true, name: 'sku_qty' }])).toEqual(['sku_qty']);
      await c.insertMany([{ sku: 'a', qty: 1 }, { sku: 'a', qty: 2 }, { sku: 'b', qty: 1 }, { other: 1 }]);
      const dup = await c.insertOne({ sku: 'a', qty: 1 }).catch((e: unknown) => e);
      expect(dup).toMatchObject({ code: 11000, keyPattern: { sku: 1, qty: -1 }, keyValue: { sku: 'a', qty: 1 } });
      // Not sparse: a second document missing both fields collides on (null, null), as on MongoDB.
      expect(isDuplicateKeyError(await c.insertOne({ other: 2 }).catch((e: unknown) => e))).toBe(true);
      const partial = fresh();
      await partial.createIndex({ email: 1 }, { unique: true, partialFilterExpression: { active: true } });
      await partial.insertMany([{ email: 'e', active: false }, { email: 'e', active: false }, { email: 'e', active: true }]);
      expect(isDuplicateKeyError(await partial.insertOne({ email: 'e', active: true }).catch((e: unknown) => e))).toBe(true);
      const sparse = fresh();
      await sparse.createIndex({ code: 1 }, { unique: true, sparse: true });
      await sparse.insertMany([{ code: 'k' }, { other: 1 }, { other: 2 }]); // sparse: missing codes don't collide
      expect(isDuplicateKeyError(await sparse.insertOne({ code: 'k' }).catch((e: unknown) => e))).toBe(true);
      const d = fresh();
      await d.insertMany([{ sku: 'q' }, { sku: 'q' }]);
      expect(isDuplicateKeyError(await d.createIndex({ sku: 1 }, { unique: true }).catch((e: unknown) => e))).toBe(true);
    });

    it('insertMany stops at a duplicate when ordered and continues when unordered', async () => {
      const c = fresh();
      await c.createIndex({ sku: 1 }, { unique: true });
      const ordered = await c.insertMany([{ sku: '1' }, { sku: '2' }, { sku: '1' }, { sku: '3' }]).catch((e: unknown) => e);
      expect(isDuplicateKeyError(ordered)).toBe(true);
      expect((ordered as { writeErrors: Array<{ index: number }> }).writeErrors[0]!.index).toBe(2);
      expect(await c.distinct('sku')).toEqual(['1', '2']);
      const unordered = await c.insertMany([{ sku: '4' }, { sku: '1' }, { sku: '5' }], { ordered: false }).catch((e: unknown) => e);
      expect(isDuplicateKeyError(unordered)).toBe(true);
      expect(((await c.distinct('sku')) as string[]).sort()).toEqual(['1', '2', '4', '5']);
      const ok = await c.insertMany([{ sku: '6' }, { sku: '7' }]);
      expect(ok.insertedCount).toBe(2);
      expect(ok.insertedIds[1]).toBeInstanceOf(ObjectId);
    });

    it('finds with query operators, sort, skip, limit, projection and cursors', async () => {
      const c = fresh();
      await c.createIndex({ qty: 1 });
      await c.insertMany(
        Array.from({ length: 20 }, (_, i) => ({ _id: i, sku: `s${i % 4}`, qty: i, tags: i % 2 ? ['odd'] : ['even', 'x'], nested: { a: i * 10, b: `b${i}` } })),
      );
      expect((await c.find({ qty: { $gte: 5, $lt: 8 } }).toArray()).map((d) => d._id).sort()).toEqual([5, 6, 7]);
      expect((await c.find({ qty: { $gt: 17 } }).toArray()).length).toBe(2);
      expect((await c.find({ qty: { $lte: 1 } }).toArray()).length).toBe(2);
      expect((await c.find({ sku: { $in: ['s1', 's2'] }, tags: 'odd' }).toArray()).length).toBe(5);
      expect((await c.find({ 'nested.a': { $gt: 150 } }).toArray()).length).toBe(4);
      expect((await c.find({ sku: /^s[03]$/ }).toArray()).length).toBe(10);
      expect(await c.find({ nope: { $exists: true } }).toArray()).toEqual([]);
      const page = await c.find({}, { sort: { qty: -1 }, skip: 2, limit: 3, projection: { qty: 1 } }).toArray();
      expect(page).toEqual([{ _id: 17, qty: 17 }, { _id: 16, qty: 16 }, { _id: 15, qty: 15 }]);
      const chained = await c.find({ sku: 's1' }).sort({ qty: 1 }).skip(1).limit(2).project<{ sku: string }>({ _id: 0, sku: 1, 'nested.b': 1 }).toArray();
      expect(chained).toEqual([{ sku: 's1', nested: { b: 'b5' } }, { sku: 's1', nested: { b: 'b9' } }]);
      expect(await c.findOne({ sku: 's2' }, { sort: { qty: -1 }, projection: { _id: 0, qty: 1 } })).toEqual({ qty: 18 });
      expect(await c.findOne({ sku: 'none' })).toBeNull();
      const excluded = await c.findOne({ _id: 3 }, { projection: { nested: 0, tags: 0 } });
      expect(excluded).toEqual({ _id: 3, sku: 's3', qty: 3 });
      const seen: number[] = [];
      for await (const d of c.find({ qty: { $lt: 4 } }).sort({ qty: 1 })) seen.push(d.qty!);
      expect(seen).toEqual([0, 1, 2, 3]);
      const cursor = c.find({}).sort('qty', -1).limit(2);
      expect((await cursor.next())!.qty).toBe(19);
      expect((await cursor.next())!.qty).toBe(18);
      expect(await cursor.next()).toBeNull();
      await cursor.close();
      expect((await c.find({ sku: 's0' }, { sort: [['qty', -1]] }).toArray())[0]!.qty).toBe(16);
    });

    it('sorts and pages through compound indexes: equality prefix, either direction, ranges, keyset on (key, _id)', async () => {
      const c = fresh();
      await c.createIndex({ shelf: 1, title: 1 });
      await c.createIndex({ at: -1, _id: -1 });
      // Duplicate titles and timestamps, so ties must be broken by _id where the sort says so.
      const docs = Array.from({ length: 120 }, (_, i) => ({ _id: i, shelf: `s${i % 3}`, title: `t${String((i * 37) % 40).padStart(2, '0')}`, at: new Date(1000 + ((i * 13) % 50)) }));
      await c.insertMany(docs.map((d) => ({ ...d })));
      await c.deleteMany({ _id: { $in: [5, 50, 95] } });
      await c.updateOne({ _id: 7 }, { $set: { title: 't00', at: new Date(2000) } });
      const live = docs.filter((d) => ![5, 50, 95].includes(d._id)).map((d) => (d._id === 7 ? { ...d, title: 't00', at: new Date(2000) } : d));
      const byTitle = (a: (typeof live)[number], b: (typeof live)[number]): number => a.title.localeCompare(b.title) || a._id - b._id;
      const ids = (list: { _id?: unknown }[]): unknown[] => list.map((d) => d._id);

      // Equality on the prefix, sort on the next field (ties by _id), both directions, with limit.
      const s1 = live.filter((d) => d.shelf === 's1').sort(byTitle);
      expect(ids(await c.find({ shelf: 's1' }).sort({ title: 1, _id: 1 }).limit(7).toArray())).toEqual(ids(s1.slice(0, 7)));
      expect(ids(await c.find({ shelf: 's1' }).sort({ title: -1, _id: -1 }).limit(7).toArray())).toEqual(ids([...s1].reverse().slice(0, 7)));
      // A range on the sort field, with both bounds, skip and limit.
      const ranged = s1.filter((d) => d.title > 't10' && d.title <= 't30');
      expect(ids(await c.find({ shelf: 's1', title: { $gt: 't10', $lte: 't30' } }).sort({ title: 1, _id: 1 }).skip(2).limit(5).toArray())).toEqual(ids(ranged.slice(2, 7)));
      expect(ids(await c.find({ shelf: 's1', title: { $lt: 't20' } }).sort({ title: -1, _id: -1 }).toArray())).toEqual(ids([...s1].reverse().filter((d) => d.title < 't20')));

      // Keyset pagination over (at desc, _id desc) until exhausted: every document exactly once, in order.
      const newest = [...live].sort((a, b) => b.at.getTime() - a.at.getTime() || b._id - a._id);
      const seen: unknown[] = [];
      let last: { at: Date; _id: number } | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const f: Document = last ? { $or: [{ at: { $lt: last.at } }, { at: last.at, _id: { $lt: last._id } }] } : {};
        const page = await c.find(f).sort({ at: -1, _id: -1 }).limit(9).toArray();
        if (page.length === 0) break;
        seen.push(...ids(page));
        last = page.at(-1) as { at: Date; _id: number };
      }
      expect(seen).toEqual(ids(newest));
      // The same index read backwards; and a range on its leading field.
      expect(ids(await c.find({}).sort({ at: 1, _id: 1 }).limit(10).toArray())).toEqual(ids([...newest].reverse().slice(0, 10)));
      const window = newest.filter((d) => d.at >= new Date(1010) && d.at < new Date(1020));
      expect(ids(await c.find({ at: { $gte: new Date(1010), $lt: new Date(1020) } }).sort({ at: -1, _id: -1 }).toArray())).toEqual(ids(window));
      // Keyset on a plain string key ($gt the last one seen), as books(first:, after:) pages.
      const titles = [...new Set(live.filter((d) => d.shelf === 's2').map((d) => d.title))].sort();
      const keyset: string[] = [];
      let after: string | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const page: Loose[] = await c.find(after === null ? { shelf: 's2' } : { shelf: 's2', title: { $gt: after } }).sort({ title: 1 }).limit(4).toArray();
        if (page.length === 0) break;
        // Titles repeat within a shelf: skip to the last distinct one (what a unique sort key gives for free).
        for (const d of page) if (keyset.at(-1) !== d.title) keyset.push(d.title!);
        after = page.at(-1)!.title!;
      }
      expect(keyset).toEqual(titles);
      // findOne and findOneAndUpdate follow the sort through the index too.
      expect((await c.findOne({ shelf: 's0' }, { sort: { title: -1, _id: -1 } }))!._id).toBe(ids([...live.filter((d) => d.shelf === 's0').sort(byTitle)].reverse())[0]);
      const bumped = await c.findOneAndUpdate({ shelf: 's2' }, { $set: { bumped: true } }, { sort: { title: 1, _id: 1 }, returnDocument: 'after' });
      expect(bumped!._id).toBe(live.filter((d) => d.shelf === 's2').sort(byTitle)[0]!._id);
    });

    it('updates with operators and counts matched/modified; upserts with $setOnInsert', async () => {
      const c = fresh();
      await c.insertMany([{ _id: 1, sku: 'a', qty: 1, tags: [] }, { _id: 2, sku: 'b', qty: 2, tags: [] }, { _id: 3, sku: 'b', qty: 3 }]);
      const one = await c.updateOne({ sku: 'a' }, { $inc: { qty: 5 }, $push: { tags: 't' } as never, $set: { 'nested.a': 1 } });
      expect(one).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null });
      expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, sku: 'a', qty: 6, tags: ['t'], nested: { a: 1 } });
      const noop = await c.updateOne({ _id: 1 }, { $set: { qty: 6 } });
      expect(noop).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
      const many = await c.updateMany({ sku: 'b' }, { $unset: { tags: '' }, $mul: { qty: 10 } });
      expect(many).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
      expect((await c.find({ sku: 'b' }).sort({ _id: 1 }).toArray()).map((d) => [d.qty, d.tags])).toEqual([[20, undefined], [30, undefined]]);
      const miss = await c.updateOne({ sku: 'zz' }, { $set: { qty: 1 } });
      expect(miss).toMatchObject({ matchedCount: 0, modifiedCount: 0, upsertedCount: 0 });
      const up = await c.updateOne({ sku: 'new', 'nested.a': 7 }, { $set: { qty: 1 }, $setOnInsert: { at: new Date(0) } }, { upsert: true });
      expect(up.upsertedCount).toBe(1);
      expect(up.upsertedId).toBeInstanceOf(ObjectId);
      expect(await c.findOne({ _id: up.upsertedId! }, { projection: { _id: 0 } })).toEqual({ sku: 'new', nested: { a: 7 }, qty: 1, at: new Date(0) });
      const again = await c.updateOne({ sku: 'new' }, { $set: { qty: 2 }, $setOnInsert: { at: new Date(5) } }, { upsert: true });
      expect(again).toMatchObject({ matchedCount: 1, upsertedCount: 0 });
      expect((await c.findOne({ sku: 'new' }))!.at).toEqual(new Date(0));
      const upMany = await c.updateMany({ sku: 'many' }, { $set: { qty: 9 } }, { upsert: true });
      expect(upMany.upsertedCount).toBe(1);
      const pipeline = await c.updateOne({ _id: 1 }, [{ $set: { double: { $multiply: ['$qty', 2] } } }]);
      expect(pipeline.modifiedCount).toBe(1);
      expect((await c.findOne({ _id: 1 }))!.double).toBe(12);
      await expect(c.updateOne({ _id: 1 }, { $set: { _id: 5 } })).rejects.toMatchObject({ code: 66 });
      // `_id` may be named again when it keeps the document's id, as an idempotent upsert does.
      const sameId = await c.updateOne({ _id: 40 }, { $setOnInsert: { _id: 40, sku: 'seeded' } }, { upsert: true });
      expect(sameId).toMatchObject({ upsertedCount: 1, upsertedId: 40 });
      expect(await c.updateOne({ _id: 40 }, { $setOnInsert: { _id: 40, sku: 'ignored' } }, { upsert: true })).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
      expect(await c.findOne({ _id: 40 })).toEqual({ _id: 40, sku: 'seeded' });
      await c.updateOne({ sku: 'fresh-id' }, { $setOnInsert: { _id: 41 } }, { upsert: true });
      expect(await c.findOne({ sku: 'fresh-id' })).toEqual({ _id: 41, sku: 'fresh-id' });
      await expect(c.updateOne({ _id: 1 }, { $set: { _id: 1, qty: 7 } })).resolves.toMatchObject({ modifiedCount: 1 });
      await expect(c.updateOne({ _id: 1 }, { qty: 1 } as never)).rejects.toThrow();
    });

    it('replaceOne keeps _id and upserts', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'r', sku: 'old', qty: 1 });
      const r = await c.replaceOne({ _id: 'r' }, { sku: 'new' });
      expect(r).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
      expect(await c.findOne({ _id: 'r' })).toEqual({ _id: 'r', sku: 'new' });
      const up = await c.replaceOne({ _id: 'u' }, { sku: 'u' }, { upsert: true });
      expect(up.upsertedId).toBe('u');
      expect(await c.findOne({ _id: 'u' })).toEqual({ _id: 'u', sku: 'u' });
      expect((await c.replaceOne({ _id: 'none' }, { sku: 'x' })).matchedCount).toBe(0);
    });

    it('deleteOne and deleteMany', async () => {
      const c = fresh();
      await c.insertMany([{ sku: 'a' }, { sku: 'a' }, { sku: 'a' }, { sku: 'b' }]);
      expect((await c.deleteOne({ sku: 'a' })).deletedCount).toBe(1);
      expect((await c.deleteMany({ sku: 'a' })).deletedCount).toBe(2);
      expect((await c.deleteOne({ sku: 'none' })).deletedCount).toBe(0);
      expect(await c.countDocuments()).toBe(1);
      expect((await c.deleteMany({})).deletedCount).toBe(1);
    });

    it('findOneAndUpdate returns before/after, upserts, sorts, projects; null when nothing matches', async () => {
      const c = fresh();
      await c.insertMany([{ _id: 1, sku: 'a', qty: 1 }, { _id: 2, sku: 'a', qty: 5 }]);
      const before = await c.findOneAndUpdate({ sku: 'a' }, { $inc: { qty: 1 } }, { sort: { qty: -1 } });
      expect(before).toEqual({ _id: 2, sku: 'a', qty: 5 });
      const after = await c.findOneAndUpdate({ sku: 'a' }, { $inc: { qty: 1 } }, { sort: { qty: 1 }, returnDocument: 'after', projection: { qty: 1, _id: 0 } });
      expect(after).toEqual({ qty: 2 });
      expect(await c.findOneAndUpdate({ sku: 'none' }, { $set: { qty: 1 } })).toBeNull();
      expect(await c.findOneAndUpdate({ sku: 'up' }, { $set: { qty: 1 } }, { upsert: true })).toBeNull();
      const upAfter = await c.findOneAndUpdate({ sku: 'up2' }, { $inc: { qty: 1 } }, { upsert: true, returnDocument: 'after' });
      expect(upAfter).toMatchObject({ sku: 'up2', qty: 1 });
      expect(upAfter!._id).toBeInstanceOf(ObjectId);
    });

    it('findOneAndDelete honours sort and projection', async () => {
      const c = fresh();
      await c.insertMany([{ _id: 1, sku: 'a', qty: 1 }, { _id: 2, sku: 'a', qty: 5 }]);
      expect(await c.findOneAndDelete({ sku: 'a' }, { sort: { qty: -1 }, projection: { _id: 1 } })).toEqual({ _id: 2 });
      expect(await c.countDocuments({ sku: 'a' })).toBe(1);
      expect(await c.findOneAndDelete({ sku: 'zz' })).toBeNull();
    });

    it('bulkWrite runs every operation kind in order and reports counts and write errors', async () => {
      const c = fresh();
      await c.createIndex({ sku: 1 }, { unique: true });
      const r = await c.bulkWrite([
        { insertOne: { document: { _id: 1, sku: 'a', qty: 1 } } },
        { insertOne: { document: { _id: 2, sku: 'b', qty: 1 } } },
        { insertOne: { document: { _id: 3, sku: 'c', qty: 1 } } },
        { updateOne: { filter: { _id: 1 }, update: { $inc: { qty: 1 } } } },
        { updateMany: { filter: { qty: { $gte: 1 } }, update: { $set: { seen: true } } } },
        { updateOne: { filter: { sku: 'd' }, update: { $set: { qty: 4 } }, upsert: true } },
        { replaceOne: { filter: { _id: 2 }, replacement: { sku: 'b2' } } },
        { deleteOne: { filter: { _id: 3 } } },
        { deleteMany: { filter: { sku: 'none' } } },
      ]);
      expect(r).toMatchObject({ insertedCount: 3, matchedCount: 5, modifiedCount: 5, deletedCount: 1, upsertedCount: 1 });
      expect(r.upsertedIds[5]).toBeInstanceOf(ObjectId);
      expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, sku: 'b2' });
      const err = await c
        .bulkWrite([{ insertOne: { document: { _id: 10, sku: 'x' } } }, { updateOne: { filter: { _id: 10 }, update: { $set: { sku: 'a' } } } }, { insertOne: { document: { _id: 11, sku: 'y' } } }])
        .catch((e: unknown) => e);
      expect(isDuplicateKeyError(err)).toBe(true);
      expect((err as { writeErrors: Array<{ index: number }> }).writeErrors[0]!.index).toBe(1);
      expect(await c.findOne({ _id: 10 })).toEqual({ _id: 10, sku: 'x' });
      expect(await c.findOne({ _id: 11 })).toBeNull();
    });

    it('counts and distinct values', async () => {
      const c = fresh();
      await c.insertMany([{ sku: 'a', tags: ['x', 'y'] }, { sku: 'b', tags: ['y'] }, { sku: 'a' }]);
      expect(await c.countDocuments()).toBe(3);
      expect(await c.countDocuments({ sku: 'a' })).toBe(2);
      expect(await c.countDocuments({}, { limit: 1 })).toBe(1);
      expect(await c.estimatedDocumentCount()).toBe(3);
      expect(((await c.distinct('sku')) as string[]).sort()).toEqual(['a', 'b']);
      expect(((await c.distinct('tags')) as string[]).sort()).toEqual(['x', 'y']);
      expect(await c.distinct('tags', { sku: 'b' })).toEqual(['y']);
    });

    it('aggregates with $match $group $sort $skip $limit $project $addFields $set $unwind $count', async () => {
      const c = fresh();
      await c.insertMany([
        { sku: 'a', qty: 1, tags: ['x', 'y'] },
        { sku: 'a', qty: 3, tags: ['y'] },
        { sku: 'b', qty: 5, tags: [] },
        { sku: 'c', qty: 7, tags: ['x'] },
      ]);
      const grouped = await c
        .aggregate([
          { $match: { qty: { $gte: 1 } } },
          { $group: { _id: '$sku', total: { $sum: '$qty' }, n: { $sum: 1 }, avg: { $avg: '$qty' }, max: { $max: '$qty' }, min: { $min: '$qty' }, first: { $first: '$qty' }, all: { $push: '$qty' }, set: { $addToSet: '$sku' } } },
          { $sort: { total: -1 } },
          { $skip: 1 },
          { $limit: 2 },
          { $project: { _id: 1, total: 1, n: 1, avg: 1, max: 1, min: 1, first: 1, all: 1, set: 1 } },
        ])
        .toArray();
      expect(grouped).toEqual([
        { _id: 'b', total: 5, n: 1, avg: 5, max: 5, min: 5, first: 5, all: [5], set: ['b'] },
        { _id: 'a', total: 4, n: 2, avg: 2, max: 3, min: 1, first: 1, all: [1, 3], set: ['a'] },
      ]);
      const tags = await c.aggregate<{ _id: string; n: number }>([{ $unwind: '$tags' }, { $group: { _id: '$tags', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
      expect(tags).toEqual([{ _id: 'x', n: 2 }, { _id: 'y', n: 2 }]);
      const added = await c.aggregate([{ $match: { sku: 'c' } }, { $addFields: { d: { $multiply: ['$qty', 2] } } }, { $set: { e: 1 } }, { $project: { _id: 0, d: 1, e: 1 } }]).toArray();
      expect(added).toEqual([{ d: 14, e: 1 }]);
      expect(await c.aggregate([{ $match: { qty: { $gt: 2 } } }, { $count: 'n' }]).toArray()).toEqual([{ n: 3 }]);
      const seen: unknown[] = [];
      for await (const d of c.aggregate([{ $sort: { qty: 1 } }, { $limit: 2 }, { $project: { _id: 0, qty: 1 } }])) seen.push(d);
      expect(seen).toEqual([{ qty: 1 }, { qty: 3 }]);
    });

    it('applies 100 parallel $inc atomically', async () => {
      const c = fresh();
      await c.insertOne({ _id: 'counter', n: 0 });
      const results = await Promise.all(Array.from({ length: 100 }, () => c.findOneAndUpdate({ _id: 'counter' }, { $inc: { n: 1 } }, { returnDocument: 'after' })));
      expect((await c.findOne({ _id: 'counter' }))!.n).toBe(100);
      expect(new Set(results.map((r) => r!.n)).size).toBe(100); // every caller saw a distinct value
      await Promise.all(Array.from({ length: 100 }, () => c.updateOne({ _id: 'counter' }, { $inc: { n: 1 } })));
      expect((await c.findOne({ _id: 'counter' }))!.n).toBe(200);
    });

    it('commits a transaction as a whole and rolls back every write on failure', async () => {
      const name = `tx${++counter}`;
      const c = db.collection<Loose>(name);
      await c.createIndex({ sku: 1 }, { unique: true });
      await c.insertMany([{ _id: 1, sku: 'a', qty: 1 }, { _id: 2, sku: 'b', qty: 1 }]);
      const out = await db.transaction(async (tx) => {
        const t = tx.collection<Loose>(name);
        await t.insertOne({ _id: 3, sku: 'c' });
        await t.updateOne({ _id: 1 }, { $inc: { qty: 10 } });
        await t.deleteOne({ _id: 2 });
        return (await t.findOne({ _id: 3 }))!.sku;
      });
      expect(out).toBe('c');
      expect((await c.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.qty])).toEqual([[1, 11], [3, undefined]]);
      const err = await db
        .transaction(async (tx) => {
          const t = tx.collection<Loose>(name);
          await t.insertOne({ _id: 4, sku: 'd' });
          await t.updateOne({ _id: 1 }, { $set: { qty: 0 } });
          await t.deleteOne({ _id: 3 });
          await t.insertOne({ _id: 5, sku: 'a' }); // duplicate: aborts everything above
        })
        .catch((e: unknown) => e);
      expect(isDuplicateKeyError(err)).toBe(true);
      expect((await c.find({}).sort({ _id: 1 }).toArray()).map((d) => [d._id, d.qty])).toEqual([[1, 11], [3, undefined]]);
      await expect(
        db.transaction(async (tx) => {
          await tx.collection<Loose>(name).insertOne({ _id: 6, sku: 'f' });
          throw new Error('business rule failed');
        }),
      ).rejects.toThrow('business rule failed');
      expect(await c.findOne({ _id: 6 })).toBeNull();
      // Committed and rolled-back state both survive a reopen.
      const other = await open();
      expect((await other.db(dbName).collection<Loose>(name).find({}).sort({ _id: 1 }).toArray()).map((d) => d._id)).toEqual([1, 3]);
      await other.close();
    });

    it('persists every write across close and reopen', async () => {
      const s1 = await open();
      const c1 = s1.db(`${dbName}_p`).collection<Loose>('items');
      await c1.createIndex({ sku: 1 }, { unique: true });
      await c1.insertMany([{ _id: 1, sku: 'a' }, { _id: 2, sku: 'b' }, { _id: 3, sku: 'c' }]);
      await c1.updateOne({ _id: 1 }, { $set: { qty: 5, at: new Date(7) } });
      await c1.deleteOne({ _id: 2 });
      await s1.close();
      const s2 = await open();
      const c2 = s2.db(`${dbName}_p`).collection<Loose>('items');
      expect(await c2.find({}).sort({ _id: 1 }).toArray()).toEqual([{ _id: 1, sku: 'a', qty: 5, at: new Date(7) }, { _id: 3, sku: 'c' }]);
      expect(isDuplicateKeyError(await c2.insertOne({ sku: 'c' }).catch((e: unknown) => e))).toBe(true); // index survived
      await s2.close();
      if (backend.uri) {
        const client = await MongoClient.connect(backend.uri);
        await client.db(`${dbName}_p`).dropDatabase();
        await client.close();
      }
    });

    it('keeps every acknowledged write when the writer is SIGKILLed right after acknowledging', async () => {
      const crashDb = `${dbName}_crash`;
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, '../../test/kit/storageCrashChild.ts'), dataDir, crashDb, 'writes', backend.uri ?? ''], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      expect(signal, err).toBe('SIGKILL');
      const acked = out.split('\n').filter(Boolean);
      expect(acked.length).toBeGreaterThanOrEqual(150);
      const s = await open(); // takes over the dead child's lock
      const c = s.db(crashDb).collection<{ _id: string }>('writes');
      const stored = new Set((await c.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
      await s.close();
      if (backend.uri) {
        const client = await MongoClient.connect(backend.uri);
        await client.db(crashDb).dropDatabase();
        await client.close();
      }
    }, 30_000);
  });
}
