/**
 * Private to the embedded engine. Durability for one database directory:
 *
 * - `journal.log`: append-only, one line per acknowledged write record (`{"o":[op…]}` in relaxed
 *   EJSON, so Dates, ObjectIds and Binary keep their types). Ops are physical (put the whole
 *   document / delete an id / create an index), so replaying a line twice is harmless.
 * - Group commit: records issued while an fdatasync is in flight are written together by the next
 *   write+fdatasync, as one frame: a header line `#<bytes>:<crc32 hex>` then the records' lines.
 *   A frame whose body is short or fails its checksum at the end of the file is a torn batch (a
 *   crash mid-write) and is dropped whole, so after a restart a batch is all there or not at all;
 *   anywhere else it is corruption. A record's promise resolves (and its `onDurable` runs) only
 *   after the fdatasync covering it returns, so an acknowledged write survives kill -9 and power
 *   loss (as far as the disk honours fsync). fdatasync per batch (not per record) keeps throughput
 *   high under concurrency; a timer-based flush would acknowledge writes that could still be lost.
 *   Unframed record lines (older journals, snapshots) are still read.
 * - Compaction, off the write path: once the journal outweighs the snapshot (and at least
 *   `compactAtBytes`), `journal.log` is sealed (renamed `journal-<n>.log`, n rising) and appends go
 *   on into a fresh `journal.log`. The state is then written to `snapshot.jsonl.tmp` in slices
 *   that yield to the event loop between them, fsynced, renamed over `snapshot.jsonl`, and the
 *   sealed segments are deleted. The snapshot is fuzzy (each slice reads memory as it is then), and
 *   that is safe because ops are physical and idempotent: everything before the seal is in the
 *   snapshot, anything that changed during the slices is in the new `journal.log`, and on open
 *   the snapshot, then the sealed segments, then `journal.log` are replayed in order, so every
 *   document ends at its last journaled state whichever step a crash interrupted. A slice never
 *   reads while a transaction holds uncommitted changes, and the snapshot is renamed in only once
 *   every write it may contain is durable and none failed meanwhile (a failed write is undone in
 *   memory and must not survive in a snapshot). Compacting whole-state synchronously at 64 MiB
 *   stalled every request for the length of the rewrite and let the journal grow far past the
 *   live data (issue 17's soak).
 * - A torn tail (a crash mid-append) is dropped on load and cut off; a bad line followed by good
 *   lines is corruption and stops the open with an error rather than silently losing data.
 * - A failed append (ENOSPC, EIO) is not fatal: every record in the failed batch and every record
 *   queued behind it is undone in memory (newest first) and rejected, and whatever part of the
 *   batch reached the file is cut off before the next append, so the file stays a clean prefix of
 *   acknowledged records. The next append simply tries again, so writes resume by themselves when
 *   space returns.
 * - `LOCK` holds the owner's pid; a lock left by a dead pid is taken over.
 *
 * Why not @seald-io/nedb: see README.md ("Why not NeDB").
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { BSON, type Document } from 'mongodb';
import { journalWriteError } from '../errors.js';
import type { IndexDef } from './indexes.js';

export type JournalOp =
  | readonly ['p', string, Document] // put whole document
  | readonly ['d', string, unknown] // delete by _id
  | readonly ['i', string, IndexDef]; // create index

/**
 * The file operations that appends and compaction perform: the real `fs`, or a test's fake disk
 * (test/kit/fakeDisk.ts) that fails them with ENOSPC on demand. Open-time reads stay on `fs`.
 */
export interface JournalIo {
  write(fd: number, buf: Buffer, offset: number, length: number): Promise<number>;
  fdatasync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  /** `compact()` (tests and tools) writes its snapshot synchronously; background compaction uses `write`. */
  writeSync(fd: number, buf: Buffer): number;
}

const writeAsync = promisify(fs.write);
const fdatasyncAsync = promisify(fs.fdatasync);
const ftruncateAsync = promisify(fs.ftruncate);

export const fileIo: JournalIo = {
  write: async (fd, buf, offset, length) => (await writeAsync(fd, buf, offset, length, null)).bytesWritten,
  fdatasync: (fd) => fdatasyncAsync(fd),
  ftruncate: (fd, length) => ftruncateAsync(fd, length),
  writeSync: (fd, buf) => fs.writeSync(fd, buf),
};

const JOURNAL = 'journal.log';
/** A sealed journal segment: `journal-<n>.log`, replayed in order of n before `journal.log`. */
const SEGMENT = /^journal-(\d{1,15})\.log$/;
const segmentName = (n: number): string => `journal-${n}.log`;
const SNAPSHOT = 'snapshot.jsonl';
const LOCK = 'LOCK';
/** Ops per snapshot line: big enough to be fast, small enough to keep lines short. */
const SNAPSHOT_OPS_PER_LINE = 500;

export const encodeOps = (ops: readonly JournalOp[]): string => `${BSON.EJSON.stringify({ o: ops }, { relaxed: true })}\n`;

const encodeOp = (op: JournalOp): string => BSON.EJSON.stringify(op, { relaxed: true });

/** Lines of already encoded ops, as `encodeOps` writes them (EJSON encodes an array element-wise). */
function snapshotLines(encoded: readonly string[]): string {
  let out = '';
  for (let i = 0; i < encoded.length; i += SNAPSHOT_OPS_PER_LINE) out += `{"o":[${encoded.slice(i, i + SNAPSHOT_OPS_PER_LINE).join(',')}]}\n`;
  return out;
}

export interface JournalOptions {
  /** Compact when the journal exceeds this many bytes and the snapshot's size. */
  readonly compactAtBytes: number;
  /** Most ops per background compaction slice (it also yields after ~8 ms). @default 2000 */
  readonly compactSliceOps?: number;
  /** Yields every op needed to rebuild the current state; called synchronously. */
  readonly snapshot: () => Iterable<JournalOp>;
  /** False while a transaction holds uncommitted changes in memory. */
  readonly canCompact: () => boolean;
  /**
   * Called synchronously when a batch fails, before its records are undone: the owner undoes
   * whatever it applied after them that is not a record yet (an open transaction).
   */
  readonly onFailure?: (error: unknown) => void;
  /** @default fileIo */
  readonly io?: JournalIo;
  /** False: one record per write+fdatasync (no group commit; benchmarks' baseline). @default true */
  readonly groupCommit?: boolean;
  /** Bytes read at a time when replaying files at open (tests make it small). @default 64 MiB */
  readonly replayChunkBytes?: number;
}

/** What one group commit wrote: its records, its bytes, and how long write+fdatasync took. */
export interface CommitBatchInfo {
  readonly records: number;
  readonly bytes: number;
  readonly syncMs: number;
}

/** Totals since open (tests, benchmarks, metrics). */
export interface CommitStats {
  batches: number;
  records: number;
  fsyncs: number;
  bytes: number;
  largestBatch: number;
}

/** One queued record: its line, its writer's promise, and how to take it back out of memory. */
interface PendingRecord {
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  readonly undo: (() => void) | undefined;
  readonly onDurable: (() => void) | undefined;
}

/** Free space a probe wants to see before it calls the disk writable again. */
const PROBE_MIN_FREE_BYTES = 64 * 1024;
/** A background compaction slice yields after this long (or compactSliceOps ops), whichever first. */
const COMPACT_SLICE_MS = 8;
/** Encoded characters after which a compaction slice is written out whatever the clock says. */
const COMPACT_SLICE_BYTES = 1024 * 1024;
/** After a failed compaction, wait for the journal to grow this much before trying again. */
const COMPACT_RETRY_BYTES = 1024 * 1024;

export class Journal {
  private pending: PendingRecord[] = [];
  private flushing: Promise<void> | null = null;
  /** The error of the last failed append, until an append succeeds again. */
  private lastError: unknown = null;
  /** Size of the last batch that failed: the room a probe wants to see before it tries. */
  private lastFailedBytes = 0;
  /** Bytes past `size` may be in the file (an append failed part-way): cut them before appending. */
  private torn = false;
  private compactBlockedUntil = 0;
  private readonly io: JournalIo;
  private size: number;
  private snapshotSize: number;
  private closed = false;
  /** Sealed segments not yet folded into the snapshot: their numbers and total bytes. */
  private sealed: number[];
  private sealedBytes: number;
  /** The background compaction in progress, if any. */
  private compacting: Promise<void> | null = null;
  /** Records queued so far, records durable so far, appends failed so far: a compaction's fences. */
  private enqueued = 0;
  private durable = 0;
  private failures = 0;
  private readonly durableWaiters: Array<{ upTo: number; resolve: () => void }> = [];
  readonly stats: CommitStats = { batches: 0, records: 0, fsyncs: 0, bytes: 0, largestBatch: 0 };
  private readonly batchObservers = new Set<(batch: CommitBatchInfo) => void>();

  private constructor(
    private readonly dir: string,
    private fd: number,
    size: number,
    snapshotSize: number,
    sealed: Array<{ n: number; bytes: number }>,
    private readonly options: JournalOptions,
  ) {
    this.size = size;
    this.snapshotSize = snapshotSize;
    this.sealed = sealed.map((s) => s.n);
    this.sealedBytes = sealed.reduce((sum, s) => sum + s.bytes, 0);
    this.io = options.io ?? fileIo;
  }

  /**
   * Locks `dir`, replays snapshot then journal through `apply`, and returns the open journal.
   * Synchronous: it runs once per database at start-up.
   */
  static open(dir: string, apply: (op: JournalOp) => void, options: JournalOptions): Journal {
    fs.mkdirSync(dir, { recursive: true });
    acquireLock(dir);
    try {
      const snapPath = path.join(dir, SNAPSHOT);
      let snapshotSize = 0;
      if (fs.existsSync(snapPath)) {
        const { good, size } = replayFile(snapPath, apply, options.replayChunkBytes);
        snapshotSize = size;
        if (good !== size) throw new Error(`storage: snapshot ${snapPath} is damaged at byte ${good}`);
      }
      // Sealed segments: a compaction was cut short (or failed) after sealing them.
      const sealed = fs
        .readdirSync(dir)
        .flatMap((name) => {
          const m = SEGMENT.exec(name);
          return m ? [{ n: Number(m[1]), name }] : [];
        })
        .sort((a, b) => a.n - b.n)
        .map(({ n, name }) => {
          const segPath = path.join(dir, name);
          // A segment was sealed only after its last append was durable: any damage is corruption.
          const { good, size } = replayFile(segPath, apply, options.replayChunkBytes);
          if (good !== size) throw new Error(`storage: journal segment ${segPath} is damaged at byte ${good}`);
          return { n, bytes: size };
        });
      const jPath = path.join(dir, JOURNAL);
      const existed = fs.existsSync(jPath);
      const fd = fs.openSync(jPath, 'a+');
      let size = 0;
      if (existed) {
        const replayed = replayFile(jPath, apply, options.replayChunkBytes);
        size = replayed.good;
        // Cut a torn tail so the next append starts on a clean line.
        if (size !== replayed.size) {
          fs.ftruncateSync(fd, size);
          fs.fdatasyncSync(fd);
        }
      } else {
        fsyncDir(dir);
      }
      return new Journal(dir, fd, size, snapshotSize, sealed, options);
    } catch (e) {
      releaseLock(dir);
      throw e;
    }
  }

  /**
   * Appends one record; resolves once it is on disk. Once the batch holding it is durable,
   * `onDurable` runs synchronously (before any writer of that batch hears back). If it cannot be
   * written, `undo` runs (newest record first, for every record that failed with it) before the
   * promise rejects.
   */
  append(ops: readonly JournalOp[], undo?: () => void, onDurable?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('storage: database is closed'));
    const line = encodeOps(ops);
    this.enqueued++;
    const p = new Promise<void>((resolve, reject) => this.pending.push({ line, resolve, reject, undo, onDurable }));
    // A microtask's delay lets every write issued in the same tick share one fdatasync.
    if (!this.flushing) this.flushing = Promise.resolve().then(() => this.flushLoop());
    return p;
  }

  /** Calls `fn` after every durable group commit (metrics); returns how to stop. */
  observeBatches(fn: (batch: CommitBatchInfo) => void): () => void {
    this.batchObservers.add(fn);
    return () => this.batchObservers.delete(fn);
  }

  /** False from a failed append until one succeeds again. */
  get writable(): boolean {
    return this.lastError === null;
  }

  /**
   * Appends an empty record (`{"o":[]}`, replayed as nothing) to learn whether the disk takes
   * writes again; readiness calls it while the journal is not writable. A record that small can
   * fit in the slack of the file's last block while real writes still cannot, so it first asks
   * the filesystem for room for the batch that failed (and at least PROBE_MIN_FREE_BYTES).
   */
  async probe(): Promise<void> {
    if (this.lastError !== null) {
      const st = await fs.promises.statfs(this.dir).catch(() => null);
      if (st && st.bavail * st.bsize < Math.max(this.lastFailedBytes, PROBE_MIN_FREE_BYTES)) throw this.lastError;
    }
    return this.append([]);
  }

  /** Waits for pending writes and a running compaction, then releases the file and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.compacting) {
      await this.flushing;
      await this.compacting;
    }
    this.closed = true;
    fs.closeSync(this.fd);
    releaseLock(this.dir);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const records = this.options.groupCommit === false ? this.pending.splice(0, 1) : this.pending.splice(0);
        const batch = frame(records.map((r) => r.line).join(''));
        const started = performance.now();
        try {
          if (this.torn) await this.cutTornTail();
          this.torn = true; // until fdatasync returns, part of the batch may be in the file
          await writeFully(this.io, this.fd, batch);
          await this.io.fdatasync(this.fd);
          this.torn = false;
          this.size += batch.length;
          this.lastError = null;
        } catch (e) {
          this.lastFailedBytes = batch.length;
          this.fail(records, journalWriteError(e));
          continue;
        }
        this.durable += records.length;
        this.noteBatch({ records: records.length, bytes: batch.length, syncMs: performance.now() - started });
        // Visibility first (synchronously, in order), then the writers hear back.
        for (const r of records) r.onDurable?.();
        for (const r of records) r.resolve();
        this.wakeDurableWaiters();
        await this.maybeCompact();
      }
    } finally {
      this.flushing = null;
    }
  }

  private noteBatch(info: CommitBatchInfo): void {
    const s = this.stats;
    s.batches++;
    s.fsyncs++;
    s.records += info.records;
    s.bytes += info.bytes;
    if (info.records > s.largestBatch) s.largestBatch = info.records;
    for (const fn of this.batchObservers) {
      try {
        fn(info);
      } catch {
        /* an observer (metrics) must not break commits */
      }
    }
  }

  /**
   * Takes back everything not yet durable: the failed batch and every record queued behind it
   * (their changes may build on the failed ones). The owner's open transaction goes first, then
   * the records newest first, so each undo restores exactly the state its record started from.
   * Only then are the writers told, so no one learns of the failure while its write is visible.
   */
  private fail(records: PendingRecord[], error: unknown): void {
    const failed = [...records, ...this.pending];
    this.pending = [];
    this.lastError = error;
    this.failures++;
    // Failed records count as settled for a compaction's fence (which then sees `failures` moved).
    this.durable += failed.length;
    this.wakeDurableWaiters();
    this.options.onFailure?.(error);
    for (let i = failed.length - 1; i >= 0; i--) failed[i]!.undo?.();
    for (const r of failed) r.reject(error);
  }

  /** Cuts what a failed append left past the last durable record, so the next line starts clean. */
  private async cutTornTail(): Promise<void> {
    await this.io.ftruncate(this.fd, this.size);
    await this.io.fdatasync(this.fd);
    this.torn = false;
  }

  /** Journal bytes not yet in the snapshot: the active file and the sealed segments. */
  private get unfoldedBytes(): number {
    return this.size + this.sealedBytes;
  }

  private async maybeCompact(): Promise<void> {
    // Called between batches, so the seal lands between two durable records. Records still queued
    // are already in memory; they go to the fresh journal.log and the fence below covers them.
    if (this.compacting || this.torn || this.closed) return;
    if (this.unfoldedBytes <= Math.max(this.options.compactAtBytes, this.snapshotSize, this.compactBlockedUntil)) return;
    // A failed seal or snapshot leaves the journal and its sealed segments valid (the snapshot only
    // changes by rename): try again once it has grown a little, not after every append while the disk is full.
    const blocked = (): void => {
      this.compactBlockedUntil = this.unfoldedBytes + COMPACT_RETRY_BYTES;
    };
    const sealing = this.seal();
    // Compacting from the seal on, so idle() never returns while a sealed segment waits for its snapshot.
    this.compacting = sealing
      .then(() => this.writeSnapshotInSlices(), blocked)
      .catch(blocked)
      .finally(() => {
        this.compacting = null;
      });
    // The flush loop goes on once the rename is done: no append is in flight on the old file.
    await sealing.catch(() => undefined);
  }

  /**
   * Renames the active journal to the next sealed segment and opens a fresh one. Runs inside the
   * flush loop between batches, so no append is in flight on the old file.
   */
  private async seal(): Promise<void> {
    const n = (this.sealed.at(-1) ?? 0) + 1;
    await fs.promises.rename(path.join(this.dir, JOURNAL), path.join(this.dir, segmentName(n)));
    let fd: number;
    try {
      fd = await promisify(fs.open)(path.join(this.dir, JOURNAL), 'a+');
    } catch (e) {
      // Appends must go on into journal.log: take the segment back.
      await fs.promises.rename(path.join(this.dir, segmentName(n)), path.join(this.dir, JOURNAL));
      throw e;
    }
    await fsyncDirAsync(this.dir);
    fs.close(this.fd, () => undefined);
    this.fd = fd;
    this.sealed.push(n);
    this.sealedBytes += this.size;
    this.size = 0;
  }

  /** Records appended and not durable (or failed) yet. */
  get queued(): number {
    return this.enqueued - this.durable;
  }

  /** Resolves once every record queued until now is durable or failed. */
  barrier(): Promise<void> {
    return this.settled(this.enqueued);
  }

  /** Resolves once every record queued so far is durable or failed. */
  private settled(upTo: number): Promise<void> {
    if (this.durable >= upTo) return Promise.resolve();
    return new Promise((resolve) => this.durableWaiters.push({ upTo, resolve }));
  }

  private wakeDurableWaiters(): void {
    for (let i = this.durableWaiters.length - 1; i >= 0; i--) {
      const w = this.durableWaiters[i]!;
      if (this.durable >= w.upTo) {
        this.durableWaiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /**
   * Background compaction: writes the state to a temporary snapshot a slice at a time (yielding to
   * the event loop between slices, waiting while a transaction is open), then installs it and
   * drops the sealed segments it covers. See the header for why the fuzzy read is safe.
   */
  private async writeSnapshotInSlices(): Promise<void> {
    const sealedUpTo = this.sealed.at(-1)!;
    const failuresAtStart = this.failures;
    const sliceOps = this.options.compactSliceOps ?? 2000;
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const handle = await fs.promises.open(tmp, 'w');
    let written = 0;
    let ok = false;
    try {
      const ops = this.options.snapshot()[Symbol.iterator]();
      let done = false;
      while (!done) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.closed) throw new Error('storage: closed during compaction');
        // Uncommitted transaction changes must not reach a snapshot: wait for the commit or rollback.
        if (!this.options.canCompact()) continue;
        // Encoding is the slice's real cost (a chapter document is tens of KiB), so the clock and the
        // byte bound count it: one slice never blocks the loop much past COMPACT_SLICE_MS.
        const encoded: string[] = [];
        let bytes = 0;
        const sliceEnds = performance.now() + COMPACT_SLICE_MS;
        while (encoded.length < sliceOps && bytes < COMPACT_SLICE_BYTES && performance.now() < sliceEnds) {
          const next = ops.next();
          if (next.done) {
            done = true;
            break;
          }
          const op = encodeOp(next.value);
          encoded.push(op);
          bytes += op.length;
        }
        if (encoded.length === 0) continue;
        const buf = Buffer.from(snapshotLines(encoded));
        await writeFully(this.io, handle.fd, buf);
        written += buf.length;
      }
      // Every write the slices may have read must be durable before the snapshot counts, and none
      // may have failed (a failed write is undone in memory but could sit in the snapshot).
      await this.settled(this.enqueued);
      if (this.failures !== failuresAtStart) throw new Error('storage: an append failed during compaction');
      await this.io.fdatasync(handle.fd);
      ok = true;
    } finally {
      await handle.close();
      if (!ok) await fs.promises.rm(tmp, { force: true });
    }
    await fs.promises.rename(tmp, path.join(this.dir, SNAPSHOT));
    await fsyncDirAsync(this.dir);
    this.snapshotSize = written;
    // The snapshot holds everything in these segments; a crash before they are gone replays them
    // (and then journal.log) over it, which ends at the same state.
    for (const n of this.sealed.filter((s) => s <= sealedUpTo)) {
      const segPath = path.join(this.dir, segmentName(n));
      const bytes = (await fs.promises.stat(segPath).catch(() => null))?.size ?? 0;
      await fs.promises.rm(segPath, { force: true });
      this.sealedBytes -= bytes;
    }
    this.sealed = this.sealed.filter((s) => s > sealedUpTo);
    if (this.sealed.length === 0) this.sealedBytes = 0;
  }

  /**
   * Rewrites the snapshot from memory synchronously and empties the journal (tests and tools; the
   * platform compacts in the background). The state is read in one go, and no append runs meanwhile.
   */
  compact(): void {
    // A snapshot taken now would hold writes whose append could still fail.
    if (this.flushing || this.torn || this.compacting) throw new Error('storage: cannot compact while writes are in flight, a compaction runs, or after a failed append');
    this.rewriteSnapshot();
  }

  /** Resolves when no background compaction is running (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.compacting) await this.compacting;
  }

  private rewriteSnapshot(): void {
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    let written = 0;
    try {
      let chunk: JournalOp[] = [];
      const flush = (): void => {
        const buf = Buffer.from(encodeOps(chunk));
        let off = 0;
        while (off < buf.length) off += this.io.writeSync(fd, off === 0 ? buf : buf.subarray(off));
        written += buf.length;
        chunk = [];
      };
      for (const op of this.options.snapshot()) {
        chunk.push(op);
        if (chunk.length >= SNAPSHOT_OPS_PER_LINE) flush();
      }
      if (chunk.length > 0) flush();
      fs.fdatasyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    fsyncDir(this.dir);
    // From here the snapshot holds everything; a failed truncate leaves old lines that replay
    // idempotently over it.
    this.snapshotSize = written;
    for (const n of this.sealed) fs.rmSync(path.join(this.dir, segmentName(n)), { force: true });
    this.sealed = [];
    this.sealedBytes = 0;
    fs.ftruncateSync(this.fd, 0);
    fs.fdatasyncSync(this.fd);
    this.size = 0;
  }

  /** Journal bytes not yet folded into the snapshot (the active file and sealed segments). */
  get journalBytes(): number {
    return this.unfoldedBytes;
  }

  get snapshotBytes(): number {
    return this.snapshotSize;
  }
}

async function writeFully(io: JournalIo, fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await io.write(fd, buf, off, buf.length - off);
}

const FRAME_HEADER = /^#(\d{1,12}):([0-9a-f]{8})$/;

/** One group commit's bytes: `#<body bytes>:<crc32 of body, 8 hex>\n` then the body (record lines). */
export function frame(body: string): Buffer {
  const data = Buffer.from(body);
  const header = Buffer.from(`#${data.length}:${crc32(data).toString(16).padStart(8, '0')}\n`);
  return Buffer.concat([header, data]);
}

/**
 * Files are replayed a chunk at a time: `readFileSync` refuses files over 2 GiB (Node's I/O limit),
 * which a snapshot reaches at about twice the 10,000-book library, and a chunk keeps start-up's
 * peak memory at a chunk instead of the file.
 */
const REPLAY_CHUNK_BYTES = 64 * 1024 * 1024;

/** Where a replay stands: the end of the good prefix and the first bad byte (absolute offsets; -1: none). */
interface ReplayState {
  good: number;
  badAt: number;
}

/**
 * Applies every complete record of `file`, framed (a group commit) or not (older journals,
 * snapshots); returns the byte length of the good prefix and of the file. A frame cut short or
 * failing its checksum is a torn batch when nothing follows it (dropped whole), corruption otherwise.
 */
function replayFile(file: string, apply: (op: JournalOp) => void, chunkBytes = REPLAY_CHUNK_BYTES): { good: number; size: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const state: ReplayState = { good: 0, badAt: -1 };
    // One buffer, reused: what a chunk left unfinished moves to its front and the next read lands
    // after it (concatenating fresh chunks cost more than the reads: every copy faulted in new pages).
    let buf = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(size, 1)));
    let filled = 0;
    let base = 0; // file offset of buf[0]
    let read = 0;
    while (read < size) {
      if (filled === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2); // a record longer than the buffer
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const n = fs.readSync(fd, buf, filled, Math.min(buf.length - filled, size - read), read);
      if (n === 0) break; // the file shrank under us: replay what was read
      read += n;
      const data = buf.subarray(0, filled + n);
      const used = replayChunk(data, base, read >= size, state, apply);
      filled = data.length - used;
      buf.copyWithin(0, used, data.length);
      base += used;
    }
    return { good: state.good, size };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Applies the complete records of `buf` (which starts at file offset `base`); returns how many
 * bytes it used. Unless `final`, it stops before a record that may continue in the next chunk.
 */
function replayChunk(buf: Buffer, base: number, final: boolean, state: ReplayState, apply: (op: JournalOp) => void): number {
  let start = 0;
  while (start < buf.length) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) {
      if (final) break; // torn tail: no newline
      return start;
    }
    const line = buf.toString('utf8', start, nl);
    const header = line.startsWith('#') ? FRAME_HEADER.exec(line) : null;
    if (header) {
      const bodyStart = nl + 1;
      const bodyEnd = bodyStart + Number(header[1]);
      const body = bodyEnd <= buf.length ? buf.subarray(bodyStart, bodyEnd) : null;
      const intact = body !== null && crc32(body).toString(16).padStart(8, '0') === header[2];
      if (!intact) {
        // Not all here yet, or the end of the file decides what it is.
        if (!final && bodyEnd >= buf.length) return start;
        // The last thing written: a batch torn by a crash before its fdatasync. Drop it whole.
        if (bodyEnd >= buf.length && state.badAt < 0) break;
        if (state.badAt < 0) state.badAt = base + start;
        start = Math.min(bodyEnd, buf.length);
        continue;
      }
      if (state.badAt >= 0) throw new Error(`storage: journal is damaged at byte ${state.badAt} (valid records follow it)`);
      // Decode the whole batch before applying any of it: a batch is applied all or nothing.
      const ops: JournalOp[] = [];
      let at = 0;
      while (at < body!.length) {
        const end = body!.indexOf(10, at);
        if (end < 0) throw new Error(`storage: journal is damaged at byte ${base + bodyStart + at} (a batch passed its checksum but a record has no end)`);
        const rec = parseRecord(body!.toString('utf8', at, end));
        if (!rec) throw new Error(`storage: journal is damaged at byte ${base + bodyStart + at} (a batch passed its checksum but holds a bad record)`);
        for (const op of rec) ops.push(op);
        at = end + 1;
      }
      for (const op of ops) apply(op);
      start = bodyEnd;
      state.good = base + start;
      continue;
    }
    if (line.trim().length > 0) {
      const rec = parseRecord(line);
      if (!rec) {
        if (state.badAt < 0) state.badAt = base + start;
        start = nl + 1;
        continue;
      }
      if (state.badAt >= 0) throw new Error(`storage: journal is damaged at byte ${state.badAt} (valid records follow it)`);
      for (const op of rec) apply(op);
    }
    start = nl + 1;
    if (state.badAt < 0) state.good = base + start;
  }
  return start;
}

/** A record line's ops, or null when it is not a record. */
function parseRecord(line: string): JournalOp[] | null {
  try {
    const rec = BSON.EJSON.parse(line, { relaxed: true }) as { o?: unknown } | null;
    return rec && Array.isArray(rec.o) ? (rec.o as JournalOp[]) : null;
  } catch {
    return null;
  }
}

async function fsyncDirAsync(dir: string): Promise<void> {
  // As fsyncDir, off the event loop (a directory fsync can take long on a busy disk).
  try {
    const handle = await fs.promises.open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}

function fsyncDir(dir: string): void {
  // Makes a created or renamed entry durable; not supported on every platform (e.g. Windows).
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    /* best effort */
  }
}

function acquireLock(dir: string): void {
  const lock = path.join(dir, LOCK);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(lock, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number.parseInt(fs.readFileSync(lock, 'utf8').trim(), 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new Error(`storage: ${dir} is in use by process ${owner} (remove ${lock} if that is wrong)`);
    }
    // Stale (dead owner, garbage, or our own pid left by a crashed earlier run that reused it).
    fs.rmSync(lock, { force: true });
  }
  throw new Error(`storage: could not lock ${dir}`);
}

function releaseLock(dir: string): void {
  const lock = path.join(dir, LOCK);
  try {
    if (fs.readFileSync(lock, 'utf8').trim() === String(process.pid)) fs.rmSync(lock, { force: true });
  } catch {
    /* already gone */
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
