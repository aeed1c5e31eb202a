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
 * - `LOCK` holds the owner's pid; a lock left by a dead pid is taken over.
 *
 * Why not @seald-io/nedb: see README.md ("Why not NeDB").
 */
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EJSON } from 'bson';
import type { Document } from 'mongodb';
import type { IndexDef } from './indexes.js';

export type JournalOp =
  | readonly ['p', string, Document] // put whole document
  | readonly ['d', string, unknown] // delete by _id
  | readonly ['i', string, IndexDef]; // create index

const writeAsync = promisify(fs.write);
const fdatasyncAsync = promisify(fs.fdatasync);

const JOURNAL = 'journal.log';
const SNAPSHOT = 'snapshot.jsonl';
const LOCK = 'LOCK';
/** Ops per snapshot line: big enough to be fast, small enough to keep lines short. */
const SNAPSHOT_OPS_PER_LINE = 500;

export const encodeOps = (ops: readonly JournalOp[]): string => `${EJSON.stringify({ o: ops }, { relaxed: true })}\n`;

export interface JournalOptions {
  /** Compact when the journal exceeds this many bytes (and the snapshot's size). */
  readonly compactAtBytes: number;
  /** Yields every op needed to rebuild the current state; called synchronously. */
  readonly snapshot: () => Iterable<JournalOp>;
  /** False while a transaction holds uncommitted changes in memory. */
  readonly canCompact: () => boolean;
}

export class Journal {
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;
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

  /** Appends one batch; resolves once it is on disk. */
  append(ops: readonly JournalOp[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('storage: database is closed'));
    this.pending.push(encodeOps(ops));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    // A microtask's delay lets every write issued in the same tick share one fdatasync.
    if (!this.flushing) this.flushing = Promise.resolve().then(() => this.flushLoop());
    return p;
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
        const batch = Buffer.from(this.pending.join(''));
        const waiters = this.waiters;
        this.pending = [];
        this.waiters = [];
        try {
          await writeFully(this.fd, batch);
          await fdatasyncAsync(this.fd);
          this.size += batch.length;
        } catch (e) {
          // Memory is now ahead of disk: refuse every later write instead of diverging silently.
          this.failure = e;
          for (const w of [...waiters, ...this.waiters]) w.reject(e);
          this.waiters = [];
          this.pending = [];
          return;
        }
        for (const w of waiters) w.resolve();
        if (this.size > Math.max(this.options.compactAtBytes, this.snapshotSize) && this.options.canCompact()) this.compact();
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Rewrites the snapshot from memory and empties the journal. Synchronous on purpose: the state
   * is read in one go (no transaction can interleave), and no append runs meanwhile.
   */
  compact(): void {
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    let written = 0;
    try {
      let chunk: JournalOp[] = [];
      const flush = (): void => {
        const buf = Buffer.from(encodeOps(chunk));
        fs.writeSync(fd, buf);
        written += buf.length;
        chunk = [];
      };
      for (const op of this.options.snapshot()) {
        chunk.push(op);
        if (chunk.length >= SNAPSHOT_OPS_PER_LINE) flush();
      }
      if (chunk.length > 0) flush();
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    fsyncDir(this.dir);
    fs.ftruncateSync(this.fd, 0);
    fs.fdatasyncSync(this.fd);
    this.size = 0;
    this.snapshotSize = written;
  }

  get journalBytes(): number {
    return this.size;
  }
}

async function writeFully(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) off += (await writeAsync(fd, buf, off, buf.length - off, null)).bytesWritten;
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
      let rec: { o?: unknown } | null = null;
      try {
        rec = EJSON.parse(line, { relaxed: true }) as { o?: unknown };
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
