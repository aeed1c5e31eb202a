/**
 * Test-only (never imported by production code): a fake disk for the embedded engine's journal,
 * to fail appends with ENOSPC on demand the way a full filesystem does — a write stores what fits
 * and the next one fails — and to give the room back. Inject it with
 * `openEmbeddedStorage(dataDir, { io: disk })`; storages opened later on the same directory in
 * this process share that engine, so a whole platform started on `dataDir` writes through it.
 */
import fs from 'node:fs';
import { fileIo, type JournalIo } from '../../lib/storage/embedded/journal.js';

export class FakeDisk implements JournalIo {
  /** Bytes the disk still takes; null for no limit. */
  free: number | null = null;
  /** Appends refused so far (a write or sync that failed). */
  failures = 0;
  private syncErrors: string[] = [];
  private gate: Promise<void> | null = null;

  /** From now on nothing more fits (a write may still store part of itself if `free` > 0). */
  fill(bytesLeft = 0): void {
    this.free = bytesLeft;
  }

  /** Space was freed. */
  makeRoom(): void {
    this.free = null;
  }

  /** The next fdatasync fails with `errno` after its write went through (a lost write-back). */
  failNextSync(errno = 'EIO'): void {
    this.syncErrors.push(errno);
  }

  /** Holds every write until the returned function is called (a slow disk: a batch stays in flight). */
  pause(): () => void {
    let release!: () => void;
    this.gate = new Promise<void>((r) => (release = r));
    return () => {
      this.gate = null;
      release();
    };
  }

  async write(fd: number, buf: Buffer, offset: number, length: number): Promise<number> {
    if (this.gate) await this.gate;
    const n = this.take(length);
    return fileIo.write(fd, buf, offset, n);
  }

  async fdatasync(fd: number): Promise<void> {
    const errno = this.syncErrors.shift();
    if (errno) {
      this.failures++;
      throw errnoError(errno, 'fdatasync');
    }
    return fileIo.fdatasync(fd);
  }

  ftruncate(fd: number, length: number): Promise<void> {
    return fileIo.ftruncate(fd, length);
  }

  writeSync(fd: number, buf: Buffer): number {
    return fs.writeSync(fd, buf, 0, this.take(buf.length));
  }

  private take(length: number): number {
    if (this.free === null) return length;
    if (this.free === 0) {
      this.failures++;
      throw errnoError('ENOSPC', 'write');
    }
    const n = Math.min(length, this.free);
    this.free -= n;
    return n;
  }
}

function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  const message = code === 'ENOSPC' ? 'no space left on device' : 'i/o error';
  return Object.assign(new Error(`${code}: ${message}, ${syscall}`), { code, syscall, errno: code === 'ENOSPC' ? -28 : -5 });
}
