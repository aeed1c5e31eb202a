/**
 * Errors shaped like the driver's, so code that inspects `code`, `keyPattern` or `keyValue` works
 * the same on both backends. These are internal errors (never shown to clients); services turn
 * a duplicate key into a FolioError CONFLICT themselves.
 */
import type { Document } from 'mongodb';

/** Like the driver's MongoServerError: `code`, `codeName`, `errmsg`. */
export class StorageServerError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly errmsg: string;

  constructor(code: number, codeName: string, message: string) {
    super(message);
    this.name = 'MongoServerError';
    this.code = code;
    this.codeName = codeName;
    this.errmsg = message;
  }
}

export class DuplicateKeyError extends StorageServerError {
  readonly keyPattern: Document;
  readonly keyValue: Document;
  readonly index: string;

  constructor(ns: string, index: string, keyPattern: Document, keyValue: Document) {
    const dup = Object.entries(keyValue)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join(', ');
    super(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${index} dup key: { ${dup} }`);
    this.keyPattern = keyPattern;
    this.keyValue = keyValue;
    this.index = index;
  }
}

export interface WriteErrorInfo {
  readonly index: number;
  readonly code: number;
  readonly errmsg: string;
  readonly keyPattern?: Document;
  readonly keyValue?: Document;
}

/**
 * Like the driver's MongoBulkWriteError (from insertMany/bulkWrite): the first write error's code
 * plus every write error, and what was written before the failure.
 */
export class BulkWriteError extends StorageServerError {
  readonly writeErrors: WriteErrorInfo[];
  readonly result: Document;
  readonly insertedCount: number;
  readonly insertedIds: Record<number, unknown>;
  readonly keyPattern: Document | undefined;
  readonly keyValue: Document | undefined;

  constructor(writeErrors: WriteErrorInfo[], result: Document & { insertedCount: number; insertedIds: Record<number, unknown> }) {
    const first = writeErrors[0]!;
    super(first.code, first.code === 11000 ? 'DuplicateKey' : 'WriteError', first.errmsg);
    this.name = 'MongoBulkWriteError';
    this.writeErrors = writeErrors;
    this.result = result;
    this.insertedCount = result.insertedCount;
    this.insertedIds = result.insertedIds;
    this.keyPattern = first.keyPattern;
    this.keyValue = first.keyValue;
  }
}

export const badValue = (message: string): StorageServerError => new StorageServerError(2, 'BadValue', message);
export const immutableId = (): StorageServerError =>
  new StorageServerError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");

/** True for a unique-index violation from either backend (code 11000), bulk errors included. */
export function isDuplicateKeyError(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const err = e as { code?: unknown; writeErrors?: unknown };
  if (err.code === 11000) return true;
  return Array.isArray(err.writeErrors) && err.writeErrors.some((w: { code?: unknown }) => w?.code === 11000);
}

/** Errno codes that mean "no room": a full filesystem, or the user's disk quota used up. */
const FULL_ERRNOS = new Set(['ENOSPC', 'EDQUOT']);
/** MongoDB's OutOfDiskSpace: what the server answers when it cannot store a write for lack of disk. */
const OUT_OF_DISK_SPACE = 14031;

/**
 * A write was not stored because the disk is full (MongoDB's OutOfDiskSpace, code 14031). The
 * embedded engine throws it after rolling the write back, so it was never visible.
 */
export class StorageFullError extends StorageServerError {
  constructor(cause: unknown) {
    super(OUT_OF_DISK_SPACE, 'OutOfDiskSpace', `storage is full: ${(cause as Error | undefined)?.message ?? String(cause)}`);
    this.cause = cause;
  }
}

/**
 * True when `e` (or an error it wraps) means the disk is full, on either backend: MongoDB's
 * OutOfDiskSpace, the embedded engine's StorageFullError, or a raw ENOSPC/EDQUOT from a file write
 * (object store, uploads). Services let these through; each server's edge answers STORAGE_FULL.
 */
export function isStorageFullError(e: unknown): boolean {
  for (let cur = e, depth = 0; cur !== null && typeof cur === 'object' && depth < 5; depth++) {
    const err = cur as { code?: unknown; cause?: unknown };
    if (err.code === OUT_OF_DISK_SPACE || (typeof err.code === 'string' && FULL_ERRNOS.has(err.code))) return true;
    cur = err.cause;
  }
  return false;
}

/** The errno-level error of a failed journal write as the engine reports it to callers. */
export function journalWriteError(e: unknown): unknown {
  return isStorageFullError(e) && !(e instanceof StorageFullError) ? new StorageFullError(e) : e;
}
