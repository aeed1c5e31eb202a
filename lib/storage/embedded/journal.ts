/**
 * Private to the embedded engine. Durability for one database directory:
 *
 * - `journal.log`: append-only, one line per acknowledged write batch (`{"o":[op…]}` in relaxed
 *   EJSON, so Dates, ObjectIds and Binary keep their types). Ops are physical (put the whole
 *   document / delete an id / create an index), so replaying a line twice is harmless.
 * - Group commit: batches issued while an fdatasync is in flight are written together by the next
 *   write+fdatasync; a write's promise resolves only after the fdatasync covering it returns, so an
 *   acknowledged write survives kill -9 and power loss (as far as the disk honours fsync).
 *   fdatasync per batch (not per op) keeps throughput high under concurrency; a timer-based flush
 *   would acknowledge writes that could still be lost.
 * - `snapshot.jsonl`: compaction writes the whole state to a temp file, fsyncs, renames it over
 *   the old snapshot, fsyncs the directory, then truncates the journal. A crash between rename and
 *   truncate replays old journal lines over the new snapshot: idempotent, same final state.
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
  /** Compaction writes its snapshot synchronously. */
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
const SNAPSHOT = 'snapshot.jsonl';
const LOCK = 'LOCK';
/** Ops per snapshot line: big enough to be fast, small enough to keep lines short. */
const SNAPSHOT_OPS_PER_LINE = 500;

export const encodeOps = (ops: readonly JournalOp[]): string => `${BSON.EJSON.stringify({ o: ops }, { relaxed: true })}\n`;

export interface JournalOptions {
  /** Compact when the journal exceeds this many bytes (and the snapshot's size). */
  readonly compactAtBytes: number;
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
}

/** One queued record: its line, its writer's promise, and how to take it back out of memory. */
interface PendingRecord {
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
  readonly undo: (() => void) | undefined;
}

/** Free space a probe wants to see before it calls the disk writable again. */
const PROBE_MIN_FREE_BYTES = 64 * 1024;
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

  private constructor(
    private readonly dir: string,
    private fd: number,
    size: number,
    snapshotSize: number,
    private readonly options: JournalOptions,
  ) {
    this.size = size;
    this.snapshotSize = snapshotSize;
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
        const buf = fs.readFileSync(snapPath);
        snapshotSize = buf.length;
        const good = replay(buf, apply);
        if (good !== buf.length) throw new Error(`storage: snapshot ${snapPath} is damaged at byte ${good}`);
      }
      const jPath = path.join(dir, JOURNAL);
      const existed = fs.existsSync(jPath);
      const fd = fs.openSync(jPath, 'a+');
      let size = 0;
      if (existed) {
        const buf = fs.readFileSync(jPath);
        size = replay(buf, apply);
        // Cut a torn tail so the next append starts on a clean line.
        if (size !== buf.length) {
          fs.ftruncateSync(fd, size);
          fs.fdatasyncSync(fd);
        }
      } else {
        fsyncDir(dir);
      }
      return new Journal(dir, fd, size, snapshotSize, options);
    } catch (e) {
      releaseLock(dir);
      throw e;
    }
  }

  /**
   * Appends one batch; resolves once it is on disk. If it cannot be written, `undo` runs (newest
   * record first, for every record that failed with it) before the promise rejects.
   */
  append(ops: readonly JournalOp[], undo?: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('storage: database is closed'));
    const line = encodeOps(ops);
    const p = new Promise<void>((resolve, reject) => this.pending.push({ line, resolve, reject, undo }));
    // A microtask's delay lets every write issued in the same tick share one fdatasync.
    if (!this.flushing) this.flushing = Promise.resolve().then(() => this.flushLoop());
    return p;
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

  /** Waits for pending writes, then releases the file and the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing) await this.flushing;
    this.closed = true;
    fs.closeSync(this.fd);
    releaseLock(this.dir);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const records = this.pending;
        this.pending = [];
        const batch = Buffer.from(records.map((r) => r.line).join(''));
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
        for (const r of records) r.resolve();
        this.maybeCompact();
      }
    } finally {
      this.flushing = null;
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

  private maybeCompact(): void {
    // Only with nothing queued: a snapshot taken now must hold no write that could still fail.
    if (this.pending.length > 0 || this.size <= Math.max(this.options.compactAtBytes, this.snapshotSize, this.compactBlockedUntil)) return;
    if (!this.options.canCompact()) return;
    try {
      this.rewriteSnapshot();
    } catch {
      // The journal is still valid (compaction only replaces the snapshot by rename); try again
      // once it has grown a little, not after every append while the disk is full.
      this.compactBlockedUntil = this.size + COMPACT_RETRY_BYTES;
    }
  }

  /**
   * Rewrites the snapshot from memory and empties the journal. Synchronous on purpose: the state
   * is read in one go (no transaction can interleave), and no append runs meanwhile.
   */
  compact(): void {
    // A snapshot taken now would hold writes whose append could still fail.
    if (this.flushing || this.torn) throw new Error('storage: cannot compact while writes are in flight or after a failed append');
    this.rewriteSnapshot();
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
    fs.ftruncateSync(this.fd, 0);
    fs.fdatasyncSync(this.fd);
    this.size = 0;
  }

  get journalBytes(): number {
    return this.size;
  }
}

async function writeFully(io: JournalIo, fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) off += await io.write(fd, buf, off, buf.length - off);
}

/** Applies every complete line; returns the byte length of the good prefix. */
function replay(buf: Buffer, apply: (op: JournalOp) => void): number {
  let start = 0;
  let good = 0;
  let badAt = -1;
  while (start < buf.length) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break; // torn tail: no newline
    const line = buf.toString('utf8', start, nl);
    if (line.trim().length > 0) {
      let rec: { o?: unknown } | null;
      try {
        rec = BSON.EJSON.parse(line, { relaxed: true }) as { o?: unknown };
      } catch {
        rec = null;
      }
      if (!rec || !Array.isArray(rec.o)) {
        if (badAt < 0) badAt = start;
        start = nl + 1;
        continue;
      }
      if (badAt >= 0) throw new Error(`storage: journal is damaged at byte ${badAt} (valid records follow it)`);
      for (const op of rec.o as JournalOp[]) apply(op);
    }
    start = nl + 1;
    if (badAt < 0) good = start;
  }
  return good;
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
