/**
 * Background compaction of the embedded engine's journal: the files stay within a bound of the
 * live data however long writes go on; writes keep being acknowledged while a compaction runs;
 * and a restart at any point of a compaction (sealed segments, a half-written snapshot) or after
 * one that a failed write abandoned reads back exactly the acknowledged writes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStorage, type FolioDb, type ObjectId, type Storage } from '../index.js';
import type { EmbeddedDatabase } from './engine.js';
import { engineOf, openEmbeddedStorage } from './index.js';
import { fileIo, type JournalIo } from './journal.js';

type Loose = { _id?: string | number | ObjectId; [key: string]: any };

const dirs: string[] = [];
const storages: Storage[] = [];
afterEach(async () => {
  for (const s of storages.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'folio-compact-'));
  dirs.push(dir);
  return dir;
}

function open(dir: string, options: Parameters<typeof openEmbeddedStorage>[1] = {}): { db: FolioDb; engine: EmbeddedDatabase; storage: Storage } {
  const storage = openEmbeddedStorage(dir, options);
  storages.push(storage);
  const db = storage.db('k');
  return { db, engine: engineOf(db)!, storage };
}

async function reopen(dir: string): Promise<FolioDb> {
  const storage = await openStorage({ dataDir: dir });
  storages.push(storage);
  return storage.db('k');
}

// Compaction runs in the background: a file listed may be renamed or deleted before its stat.
const filesBytes = (dir: string): number => fs.readdirSync(dir).reduce((n, f) => n + (fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);

async function contents(db: FolioDb): Promise<Map<string, unknown>> {
  const docs = await db.collection<Loose>('c').find({}).toArray();
  return new Map(docs.map((d) => [String(d._id), d.v]));
}

describe('journal compaction', () => {
  it('keeps the files within about twice the live data however many updates', async () => {
    const dir = tmp();
    const { db, engine, storage } = open(dir, { compactAtBytes: 16 * 1024 });
    const c = db.collection<Loose>('c');
    for (let i = 0; i < 50; i++) await c.insertOne({ _id: i, v: 0, pad: 'x'.repeat(200) });
    let maxBytes = 0;
    for (let round = 1; round <= 60; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => c.updateOne({ _id: i }, { $set: { v: round } })));
      maxBytes = Math.max(maxBytes, filesBytes(path.join(dir, 'k')));
    }
    await engine.compactionIdle();
    const { snapshot, journal } = engine.storedBytes;
    // ~13 KiB live; 3,000 updates journaled would be ~600 KiB without compaction.
    expect(snapshot).toBeGreaterThan(10 * 1024);
    expect(snapshot).toBeLessThan(20 * 1024);
    expect(journal).toBeLessThanOrEqual(Math.max(16 * 1024, snapshot) + 64 * 1024);
    expect(maxBytes).toBeLessThan(4 * Math.max(16 * 1024, snapshot) + 128 * 1024);
    expect(fs.readdirSync(path.join(dir, 'k')).filter((f) => f.startsWith('journal-'))).toEqual([]);
    await storage.close();
    const again = await contents(await reopen(dir));
    expect(again.size).toBe(50);
    expect([...again.values()].every((v) => v === 60)).toBe(true);
  });

  it('acknowledges writes while a compaction runs, and a restart at any point of it loses nothing', async () => {
    const dir = tmp();
    // Small slices: the compaction takes many turns of the event loop.
    const { db, engine } = open(dir, { compactAtBytes: 64 * 1024, compactSliceOps: 20 });
    const c = db.collection<Loose>('c');
    const model = new Map<string, unknown>();
    for (let i = 0; i < 2000; i += 100) {
      await c.insertMany(Array.from({ length: 100 }, (_, j) => ({ _id: i + j, v: `a${i + j}`, pad: 'p'.repeat(40) })));
      for (let j = 0; j < 100; j++) model.set(String(i + j), `a${i + j}`);
    }
    const kdir = path.join(dir, 'k');
    // Writes until a compaction has started (a sealed segment appears), then during it, copying
    // the directory now and then: each copy is what a crash at that moment leaves behind.
    const copies: Array<{ dir: string; model: Map<string, unknown>; sealed: boolean; tmp: boolean }> = [];
    let during = 0;
    for (let n = 0; n < 2000; n++) {
      const id = n % 2100;
      if (n % 7 === 3) {
        await c.deleteOne({ _id: id });
        model.delete(String(id));
      } else {
        await c.updateOne({ _id: id }, { $set: { v: `u${n}` } }, { upsert: true });
        model.set(String(id), `u${n}`);
      }
      const names = fs.readdirSync(kdir);
      const sealed = names.some((f) => f.startsWith('journal-'));
      if (sealed) during++;
      if (n % 250 === 0 || (sealed && n % 20 === 0)) {
        const copy = tmp();
        fs.mkdirSync(path.join(copy, 'k'));
        for (const f of fs.readdirSync(kdir)) if (f !== 'LOCK') fs.copyFileSync(path.join(kdir, f), path.join(copy, 'k', f));
        copies.push({ dir: copy, model: new Map(model), sealed, tmp: names.includes('snapshot.jsonl.tmp') });
      }
    }
    await engine.compactionIdle();
    // Writes were acknowledged while a compaction was under way, and copies were taken mid-way.
    expect(during).toBeGreaterThan(10);
    expect(copies.some((x) => x.sealed)).toBe(true);
    expect(fs.existsSync(path.join(kdir, 'snapshot.jsonl'))).toBe(true);
    for (const copy of copies) expect(await contents(await reopen(copy.dir))).toEqual(copy.model);
    expect(await contents(db)).toEqual(model);
  });

  it('never installs a snapshot that may hold a write that failed during the compaction', async () => {
    const dir = tmp();
    // A disk whose fdatasync fails for the batch holding the ghost, and holds the trigger's batch
    // until the ghost is queued (so the ghost lands in memory after the seal, in a batch of its own).
    const lastWrite = new Map<number, string>();
    let ghostFailed = false;
    let ghostQueued!: () => void;
    const ghostIsQueued = new Promise<void>((resolve) => (ghostQueued = resolve));
    const io: JournalIo = {
      ...fileIo,
      write: (fd, buf, offset, length) => {
        lastWrite.set(fd, buf.toString('utf8', offset, offset + length));
        return fileIo.write(fd, buf, offset, length);
      },
      fdatasync: async (fd) => {
        const last = lastWrite.get(fd) ?? '';
        lastWrite.delete(fd);
        // Once: the ghost's own batch (a snapshot holding it syncs only after that batch settled).
        if (last.includes('"ghost"') && !ghostFailed && (ghostFailed = true)) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', syscall: 'fdatasync' });
        if (last.includes('"trigger"')) await ghostIsQueued;
        return fileIo.fdatasync(fd);
      },
    };
    const threshold = 32 * 1024;
    const { db, engine, storage } = open(dir, { compactAtBytes: threshold, io });
    const c = db.collection<Loose>('c');
    for (let i = 0; i < 100; i++) await c.insertOne({ _id: i, v: 'first', pad: 'p'.repeat(40) });
    for (let n = 0; engine.storedBytes.journal < threshold - 4096; n++) await c.updateOne({ _id: n % 100 }, { $set: { v: `second ${n}` } });
    expect(fs.readdirSync(path.join(dir, 'k')).some((f) => f.startsWith('journal-'))).toBe(false);
    // The trigger crosses the threshold: after its batch the journal is sealed and a compaction starts.
    const trigger = c.insertOne({ _id: 'trigger', pad: 'x'.repeat(8192) });
    await new Promise((resolve) => setImmediate(resolve));
    const ghost = c.updateOne({ _id: 'ghost' }, { $set: { v: 'never durable' } }, { upsert: true });
    await new Promise((resolve) => setImmediate(resolve));
    ghostQueued();
    await trigger;
    await expect(ghost).rejects.toBeTruthy();
    await engine.compactionIdle();
    // The compaction was abandoned: its sealed segment is still there, for the next one to fold.
    expect(fs.readdirSync(path.join(dir, 'k')).filter((f) => f.startsWith('journal-'))).toEqual(['journal-1.log']);
    expect(fs.existsSync(path.join(dir, 'k', 'snapshot.jsonl'))).toBe(false);
    expect(await c.findOne({ _id: 'ghost' })).toBeNull();
    await c.insertOne({ _id: 'after', v: 'ok' });
    await storage.close();
    const again = await reopen(dir);
    expect(await again.collection<Loose>('c').findOne({ _id: 'ghost' })).toBeNull();
    expect(await again.collection<Loose>('c').countDocuments()).toBe(102);
  });
});
