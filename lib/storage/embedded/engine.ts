/**
 * Private to the embedded engine. One database: its collections in memory, their indexes, the
 * write path (unique checks → apply → journal) and transactions.
 *
 * Concurrency model: JavaScript runs each operation's in-memory part synchronously, so single
 * operations are atomic ($inc, findOneAndUpdate, upserts) without locks. A transaction spans
 * awaits, so while one is open other writers wait for it (writers are serialised).
 *
 * Group commit (commit mode 'pipelined', the default): a transaction's commit record is queued to
 * the journal and the next transaction may start applying at once, while the fdatasync covering
 * the previous ones is in flight; the journal writes every queued record as one batch with one
 * fdatasync. Each caller still hears back only once its record is durable.
 *
 * Visibility: memory holds the newest state (what writers and a transaction's own reads build on),
 * and each collection keeps, for every document with a change not yet durable, its durable image
 * (`CollectionState.shadow`). Reads outside a transaction see the durable images, so nothing is
 * visible before it is durable — neither an open transaction's writes nor a queued commit — and a
 * caller sees its own writes once they are acknowledged (inside a transaction: at once).
 *
 * Failed writes: a change is applied to memory first (that is what makes single operations
 * atomic) and journaled after; if its journal write fails, the journal undoes it — together with
 * everything applied after it that is not durable yet, newest first, an open transaction included
 * — before its writer hears of the failure. So a write that fails is never visible afterwards, and
 * memory always equals what a restart would load.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Document } from 'mongodb';
import { DuplicateKeyError } from '../errors.js';
import type { StorageHealth } from '../index.js';
import { SecondaryIndex, type IndexDef } from './indexes.js';
import { Journal, type CommitBatchInfo, type CommitStats, type JournalIo, type JournalOp } from './journal.js';
import { keyOf } from './values.js';

export class CollectionState {
  /** `keyOf(_id)` → stored document (never handed out; callers get copies). */
  readonly docs = new Map<string, Document>();
  readonly indexes = new Map<string, SecondaryIndex>();
  /** Documents tested against a filter so far (like explain's totalDocsExamined); proves index use. */
  docsExamined = 0;
  /**
   * Documents changed in memory but not durable yet: their durable image (null: absent) and how
   * many queued records / open transactions hold a change to them. Reads outside transactions see
   * these images instead of memory (see query.ts matchDocs).
   */
  readonly shadow = new Map<string, { doc: Document | null; holds: number }>();

  constructor(
    readonly name: string,
    readonly ns: string,
  ) {}

  /**
   * The documents in `_id` order, built on the collection's first range query on `_id` and kept
   * up to date from then on (MongoDB's `_id_` index is ordered too). Not a declared index: not
   * listed, not journaled. Without it a range on `_id` scanned the collection: the outbox's
   * "events after my cursor", read many times a second, cost O(outbox) (issue 17's soak).
   */
  private idOrderIndex: SecondaryIndex | undefined;

  idOrder(): SecondaryIndex {
    if (!this.idOrderIndex) {
      const index = new SecondaryIndex({ name: '_id_', key: [['_id', 1]], unique: false, sparse: false }, true);
      for (const [id, doc] of this.docs) index.replace(id, null, doc);
      this.idOrderIndex = index;
    }
    return this.idOrderIndex;
  }

  /** Sets or deletes one document, maintaining indexes. No constraint checks. */
  rawPut(id: string, doc: Document | null): void {
    const prev = this.docs.get(id) ?? null;
    for (const idx of this.indexes.values()) idx.replace(id, prev, doc);
    this.idOrderIndex?.replace(id, prev, doc);
    if (doc) this.docs.set(id, doc);
    else this.docs.delete(id);
  }

  /** A change to `id` is about to be applied and is not durable yet: remember the durable image. */
  hold(id: string): void {
    const e = this.shadow.get(id);
    if (e) e.holds++;
    else this.shadow.set(id, { doc: this.docs.get(id) ?? null, holds: 1 });
  }

  /** A change to `id` became durable with `doc` (null: deleted) as its result. */
  settle(id: string, doc: Document | null): void {
    const e = this.shadow.get(id);
    if (!e) return;
    if (--e.holds <= 0) this.shadow.delete(id);
    else e.doc = doc;
  }

  /** A change to `id` was undone (memory is back to before it): the durable image stands. */
  release(id: string): void {
    const e = this.shadow.get(id);
    if (e && --e.holds <= 0) this.shadow.delete(id);
  }

  /** Throws the duplicate-key error the driver would, if storing `doc` under `id` violates a unique index. */
  checkUnique(id: string, doc: Document): void {
    for (const idx of this.indexes.values()) idx.check(this.ns, id, doc);
  }
}

/** Uncommitted state of an open transaction: first-touch images to undo, keys to journal. */
export class TxState {
  readonly before = new Map<string, { coll: CollectionState; id: string; doc: Document | null }>();
  /** Set when a journal failure undid this transaction: its later writes and its commit throw it. */
  failure: unknown = null;
  private release!: () => void;
  readonly done = new Promise<void>((r) => (this.release = r));

  /** Images of what the commit record wrote, to publish once it is durable. */
  private committed: Array<{ coll: CollectionState; id: string; doc: Document | null }> = [];

  touch(coll: CollectionState, id: string): void {
    const k = `${coll.name}\u0000${id}`;
    if (!this.before.has(k)) {
      coll.hold(id);
      this.before.set(k, { coll, id, doc: coll.docs.get(id) ?? null });
    }
  }

  /** The commit record: current images of everything touched. */
  commitOps(): JournalOp[] {
    const ops: JournalOp[] = [];
    this.committed = [];
    for (const { coll, id } of this.before.values()) {
      const cur = coll.docs.get(id);
      this.committed.push({ coll, id, doc: cur ?? null });
      ops.push(cur ? ['p', coll.name, cur] : ['d', coll.name, id]);
    }
    return ops;
  }

  /** The commit record is durable: readers may see its images. */
  settle(): void {
    for (const { coll, id, doc } of this.committed) coll.settle(id, doc);
    this.committed = [];
  }

  rollback(): void {
    for (const { coll, id, doc } of [...this.before.values()].reverse()) {
      coll.rawPut(id, doc);
      coll.release(id);
    }
    this.before.clear();
    this.committed = [];
  }

  /** Undoes the transaction now (writes it may build on were lost) and fails what it does next. */
  doom(error: unknown): void {
    if (this.failure) return;
    this.rollback();
    this.failure = error;
  }

  finish(): void {
    this.release();
  }
}

/**
 * Collects the effects of one write operation. Every mutation goes through here so that unique
 * checks, index maintenance, transaction undo and journaling cannot be forgotten.
 */
export class WriteBatch {
  readonly ops: JournalOp[] = [];
  /** How to take each change back, in the order made (outside transactions only). */
  private readonly undo: Array<() => void> = [];
  /** Each document change and its result, in the order made (outside transactions only). */
  private readonly changed: Array<{ coll: CollectionState; id: string; doc: Document | null }> = [];

  constructor(private readonly tx: TxState | undefined) {}

  /** Inserts a new document; duplicate `_id` or unique key throws before anything changes. */
  insert(coll: CollectionState, doc: Document): void {
    const id = keyOf(doc._id);
    if (coll.docs.has(id)) throw new DuplicateKeyError(coll.ns, '_id_', { _id: 1 }, { _id: doc._id });
    coll.checkUnique(id, doc);
    this.apply(coll, id, doc);
  }

  /** Replaces the stored document with the same `_id`. */
  replace(coll: CollectionState, doc: Document): void {
    const id = keyOf(doc._id);
    coll.checkUnique(id, doc);
    this.apply(coll, id, doc);
  }

  delete(coll: CollectionState, id: string): void {
    const prev = coll.docs.get(id);
    if (!prev) return;
    if (this.tx) this.tx.touch(coll, id);
    else this.held(coll, id, prev, null);
    coll.rawPut(id, null);
    if (!this.tx) this.ops.push(['d', coll.name, prev._id]);
  }

  /** Adds a built index to the collection. */
  index(coll: CollectionState, idx: SecondaryIndex): void {
    coll.indexes.set(idx.def.name, idx);
    this.undo.push(() => coll.indexes.delete(idx.def.name));
    this.ops.push(['i', coll.name, idx.def]);
  }

  /** Restores memory to what it was before this batch (its journal record was not written). */
  rollback(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]!();
  }

  /** The journal record is durable: readers may see its changes. */
  settle(): void {
    for (const { coll, id, doc } of this.changed) coll.settle(id, doc);
  }

  private held(coll: CollectionState, id: string, prev: Document | null, doc: Document | null): void {
    coll.hold(id);
    this.changed.push({ coll, id, doc });
    this.undo.push(() => {
      coll.rawPut(id, prev);
      coll.release(id);
    });
  }

  private apply(coll: CollectionState, id: string, doc: Document): void {
    if (this.tx) this.tx.touch(coll, id);
    else this.held(coll, id, coll.docs.get(id) ?? null, doc);
    coll.rawPut(id, doc);
    if (!this.tx) this.ops.push(['p', coll.name, doc]);
  }
}

export interface EngineOptions {
  /** Journal size below which it is never compacted (above it: once it outweighs the snapshot). @default 4 MiB */
  readonly compactAtBytes?: number;
  /** Ops a background compaction writes per slice before yielding. @default 2000 */
  readonly compactSliceOps?: number;
  /** Test-only: the journal's file operations (a fake full disk, see test/kit/fakeDisk.ts). @default the real fs */
  readonly io?: JournalIo;
  /**
   * 'pipelined': group commit, and the next transaction applies while the previous commits sync;
   * 'serial': group commit, but a transaction holds the write lock until its commit is durable;
   * 'single': one record per write+fdatasync, transactions serial (no group commit).
   * @default 'pipelined' (FOLIO_STORE_COMMIT)
   */
  readonly commit?: CommitMode;
  /** Test-only: bytes read at a time when replaying the files at open. @default 64 MiB */
  readonly replayChunkBytes?: number;
}

export type CommitMode = 'pipelined' | 'serial' | 'single';
export const COMMIT_MODES: readonly CommitMode[] = ['pipelined', 'serial', 'single'];


export class EmbeddedDatabase {
  readonly collections = new Map<string, CollectionState>();
  private readonly journal: Journal;
  private activeTx: TxState | null = null;
  /**
   * Which async context runs inside the open transaction. Enabled only while one is open: an
   * enabled AsyncLocalStorage makes Node 20 run a promise hook on every promise in the process and
   * takes V8's fast path off every `await` (a GraphQL read did twice the promise work; issue 14),
   * so the transaction that closes disables it and the next `run` enables it again.
   */
  private readonly txContext = new AsyncLocalStorage<TxState>();
  readonly commitMode: CommitMode;

  constructor(
    readonly name: string,
    dir: string,
    options: EngineOptions = {},
  ) {
    this.commitMode = options.commit ?? 'pipelined';
    this.journal = Journal.open(dir, (op) => this.replay(op), {
      groupCommit: this.commitMode !== 'single',
      compactAtBytes: options.compactAtBytes ?? 4 * 1024 * 1024,
      snapshot: () => this.snapshotOps(),
      canCompact: () => this.activeTx === null,
      // The open transaction's changes are newer than any failed record and may build on them.
      onFailure: (error) => this.activeTx?.doom(error),
      ...(options.io ? { io: options.io } : {}),
      ...(options.compactSliceOps ? { compactSliceOps: options.compactSliceOps } : {}),
      ...(options.replayChunkBytes ? { replayChunkBytes: options.replayChunkBytes } : {}),
    });
  }

  coll(name: string): CollectionState {
    let c = this.collections.get(name);
    if (!c) this.collections.set(name, (c = new CollectionState(name, `${this.name}.${name}`)));
    return c;
  }

  /**
   * Runs one write operation: `fn` mutates memory synchronously through the batch; outside a
   * transaction the batch is journaled and the promise resolves once it is durable. If `fn`
   * throws after a partial write (insertMany, updateMany), what it wrote is still journaled, as
   * on MongoDB, and then the error is rethrown. If the journal write fails, the batch is undone
   * (by the journal, see Journal.fail) and the storage error is thrown instead.
   */
  async write<R>(tx: TxState | undefined, fn: (batch: WriteBatch) => R): Promise<R> {
    if (!tx) await this.waitForTx();
    if (tx?.failure) throw tx.failure;
    const batch = new WriteBatch(tx);
    let result: R | undefined;
    let error: unknown;
    let failed = false;
    try {
      result = fn(batch);
    } catch (e) {
      failed = true;
      error = e;
    }
    if (batch.ops.length > 0) await this.journal.append(batch.ops, () => batch.rollback(), () => batch.settle());
    if (failed) throw error;
    return result as R;
  }

  /** Whether the caller runs inside a transaction (its reads see memory, its own writes included). */
  inTransaction(): boolean {
    return this.activeTx !== null && this.txContext.getStore() === this.activeTx;
  }

  /** Runs `fn` with exclusive write access; its writes commit as one journal record or are undone. */
  async transaction<R>(fn: (tx: TxState) => Promise<R>): Promise<R> {
    const current = this.txContext.getStore();
    if (current && current === this.activeTx) return fn(current); // nested: join the outer one
    while (this.activeTx) await this.activeTx.done;
    const tx = new TxState();
    this.activeTx = tx;
    let result: R;
    let committed: Promise<void> | null = null;
    try {
      result = await this.txContext.run(tx, () => fn(tx));
      // fn may have caught the storage error of one of its writes; the transaction still failed.
      if (tx.failure) throw tx.failure;
      const ops = tx.commitOps();
      // If the record fails, the journal undoes it (after dooming whichever transaction is open).
      if (ops.length > 0) committed = this.journal.append(ops, () => tx.rollback(), () => tx.settle());
      // Serial modes hold the write lock until durable. A read-only transaction may have read
      // commits still in flight: it answers only once they are durable (or fails with them).
      if (this.commitMode !== 'pipelined' || !committed) {
        await (committed ?? this.journal.barrier());
        if (tx.failure) throw tx.failure;
      }
    } catch (e) {
      tx.rollback();
      throw e;
    } finally {
      this.activeTx = null;
      // A context left from this transaction (a promise it did not await) is outside any transaction now.
      this.txContext.disable();
      tx.finish();
    }
    // Pipelined: the next transaction runs while this one's batch syncs.
    if (committed) await committed;
    return result;
  }

  /** Other writers wait while a transaction is open, unless they run inside it (its own context). */
  private async waitForTx(): Promise<void> {
    while (this.activeTx && this.txContext.getStore() !== this.activeTx) await this.activeTx.done;
  }

  /** Creates the index if absent (idempotent); existing documents must satisfy it. */
  async createIndex(collName: string, def: IndexDef): Promise<string> {
    return this.write(undefined, (batch) => {
      const coll = this.coll(collName);
      const existing = coll.indexes.get(def.name) ?? [...coll.indexes.values()].find((i) => sameKey(i.def, def));
      if (existing) {
        if (sameDef(existing.def, def)) return existing.def.name;
        throw Object.assign(new Error(`An existing index has the same name or key with different options: ${existing.def.name}`), {
          name: 'MongoServerError',
          code: 85,
          codeName: 'IndexOptionsConflict',
        });
      }
      const idx = new SecondaryIndex(def);
      for (const [id, doc] of coll.docs) {
        idx.check(coll.ns, id, doc);
        idx.replace(id, null, doc);
      }
      batch.index(coll, idx);
      return def.name;
    });
  }

  async close(): Promise<void> {
    while (this.activeTx) await this.activeTx.done;
    await this.journal.close();
  }

  /**
   * Whether writes reach the disk. After a failed append it probes with an empty record, so a
   * disk that has room again reports writable without waiting for a client's write.
   */
  async health(): Promise<StorageHealth> {
    if (this.journal.writable) return { writable: true };
    try {
      await this.journal.probe();
      return { writable: true };
    } catch (e) {
      const err = e as { codeName?: unknown; code?: unknown };
      return { writable: false, reason: String(err.codeName ?? err.code ?? 'journal write failed') };
    }
  }

  /** Commit records queued for the journal and not durable yet. */
  get queuedCommits(): number {
    return this.journal.queued;
  }

  /** Group-commit totals since open (tests, benchmarks). */
  get commitStats(): CommitStats {
    return { ...this.journal.stats };
  }

  /** Calls `fn` after every durable group commit (metrics: batch sizes, fsyncs/s); returns how to stop. */
  observeCommits(fn: (batch: CommitBatchInfo) => void): () => void {
    return this.journal.observeBatches(fn);
  }

  /** Resolves when no background compaction runs (tests, benchmarks). */
  compactionIdle(): Promise<void> {
    return this.journal.idle();
  }

  /** Journal bytes not yet in the snapshot, and the snapshot's size (tests, benchmarks). */
  get storedBytes(): { journal: number; snapshot: number } {
    return { journal: this.journal.journalBytes, snapshot: this.journal.snapshotBytes };
  }

  /** Compacts now, synchronously (tests and tools); normally done in the background by journal size. */
  compact(): void {
    if (this.activeTx) throw new Error('storage: cannot compact during a transaction');
    this.journal.compact();
  }

  private replay(op: JournalOp): void {
    const coll = this.coll(op[1]);
    switch (op[0]) {
      case 'p':
        coll.rawPut(keyOf(op[2]._id), op[2]);
        break;
      case 'd':
        coll.rawPut(keyOf(op[2]), null);
        break;
      case 'i':
        // Replay tolerates momentary duplicates (a later line fixes them), so no check here.
        if (!coll.indexes.has(op[2].name)) {
          const idx = new SecondaryIndex(op[2]);
          for (const [id, doc] of coll.docs) idx.replace(id, null, doc);
          coll.indexes.set(op[2].name, idx);
        }
        break;
    }
  }

  private *snapshotOps(): Iterable<JournalOp> {
    for (const coll of this.collections.values()) {
      for (const idx of coll.indexes.values()) yield ['i', coll.name, idx.def];
      for (const doc of coll.docs.values()) yield ['p', coll.name, doc];
    }
  }
}

const sameKey = (a: IndexDef, b: IndexDef): boolean => JSON.stringify(a.key) === JSON.stringify(b.key);
const sameDef = (a: IndexDef, b: IndexDef): boolean =>
  a.name === b.name &&
  sameKey(a, b) &&
  a.unique === b.unique &&
  a.sparse === b.sparse &&
  JSON.stringify(a.partialFilterExpression ?? null) === JSON.stringify(b.partialFilterExpression ?? null);
