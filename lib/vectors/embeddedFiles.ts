/**
 * On-disk format of an embedded collection (private to lib/vectors). One folder per collection:
 *   hnsw.usearch   the USearch graph (keys are slots)
 *   vectors.i8     the vectors by slot as int8 (for filtered exact search); format 1 kept f32 in
 *                  vectors.f32, which is still read (and quantised) so an upgrade needs no rebuild
 *   points.ndjson  one line per live point: slot, id, payload, sparse vector
 *   manifest.json  embedderId, dimension, tuning, size + sha256 of each file, and the log's name
 *   log-<id>.ndjson the changes since that save, one LogRecord a line, appended and fsynced by
 *                  each flush and replayed on load
 * A save writes every file under a temporary name, renames them into place, and writes the
 * manifest last, so a crash mid-save leaves a checksum mismatch that `open` reports as
 * INDEX_CORRUPT (never a silently half-written index). The index is derived data: the owner
 * rebuilds it from MongoDB.
 *
 * Why a log: a save rewrites the whole collection, and the indexer flushes after every book, so
 * loading a library cost O(library) per book, O(n²) in all (bench:scale, 100 books: saves were 31 %
 * of the platform's CPU, and the share grows with every book). A flush now appends just its
 * changes while the log stays under LOG_MAX_SHARE of the saved files; past that it saves in full
 * and starts a new log (so saves cost O(n) in all, and a load replays at most that share).
 * A torn last line (a crash mid-append, never acknowledged) is cut off on load.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { EmbeddedCollection } from './embeddedCollection.js';
import { eachLine } from './fileLines.js';
import type { HnswTuning, LogRecord } from './embeddedCollection.js';
import { openGraph } from './hnswGraph.js';
import type { HnswGraph } from './hnswGraph.js';
import { quantizeI8 } from './exact.js';
import { VectorStoreError } from './types.js';

const FORMAT = 2;
const FILES = { hnsw: 'hnsw.usearch', vectors: 'vectors.i8', points: 'points.ndjson' } as const;
type FileName = keyof typeof FILES;
/** File names by format; format 1 stored f32 vectors. */
const filesOf = (format: number): Record<FileName, string> => (format === 1 ? { ...FILES, vectors: 'vectors.f32' } : FILES);

interface Manifest {
  readonly format: number;
  readonly embedderId: string;
  readonly dimension: number;
  readonly payloadIndexes: string[];
  readonly quantization: 'f16' | 'f32';
  readonly points: number;
  readonly slots: number;
  readonly files: Record<FileName, { bytes: number; sha256: string }>;
  readonly savedAt: string;
  /** The log of changes since this save (absent in manifests written before logs). */
  readonly log?: string;
}

/** A flush appends to the log while it stays under this share of the saved files' bytes (and LOG_MIN_BYTES). */
const LOG_MAX_SHARE = 1 / 8;
const LOG_MIN_BYTES = 4 * 1024 * 1024;
/** Records serialised per slice of an append (the loop yields between slices). */
const LOG_SLICE = 500;

interface LogState {
  readonly file: string;
  bytes: number;
  readonly baseBytes: number;
}
/** Each loaded or saved collection's current log. */
const logs = new WeakMap<EmbeddedCollection, LogState>();

const savedBytes = (manifest: Manifest): number => Object.values(manifest.files).reduce((n, f) => n + f.bytes, 0);

/** Makes the collection's changes durable: appended to its log while that stays small, else a full save. */
export async function persistCollection(dir: string, collection: EmbeddedCollection): Promise<void> {
  if (!collection.dirty) return;
  const log = logs.get(collection);
  if (log && !collection.unloggedOverflow) {
    const chunks: string[] = [];
    let bytes = 0;
    let sliceStart = performance.now();
    for (let i = 0; i < collection.unlogged.length; i += LOG_SLICE) {
      const chunk = collection.unlogged.slice(i, i + LOG_SLICE).map((record) => `${JSON.stringify(record)}\n`).join('');
      chunks.push(chunk);
      bytes += Buffer.byteLength(chunk);
      // Writes wait behind this flush (EmbeddedVectorStore.exclusive): yielding cannot change the records.
      if (performance.now() - sliceStart >= 10) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
    if (log.bytes + bytes <= Math.max(LOG_MIN_BYTES, log.baseBytes * LOG_MAX_SHARE)) {
      const handle = await open(path.join(dir, log.file), 'a');
      try {
        for (const chunk of chunks) await handle.write(chunk);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      log.bytes += bytes;
      collection.unlogged.length = 0;
      collection.dirty = false;
      return;
    }
  }
  await saveCollection(dir, collection);
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function describe(file: string): Promise<{ bytes: number; sha256: string }> {
  return { bytes: (await stat(file)).size, sha256: await sha256File(file) };
}

export async function collectionExists(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}

export async function saveCollection(dir: string, collection: EmbeddedCollection): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = (name: FileName): string => path.join(dir, `${FILES[name]}.tmp`);

  // On a graph thread the native save (hundreds of ms for a large graph) runs there.
  await collection.hnsw.save(tmp('hnsw'));
  // Page by page: the store is never gathered into one buffer (tens of MB for a large collection).
  const pages = (function* () {
    for (const page of collection.vectorChunks()) yield new Uint8Array(page.buffer, page.byteOffset, page.byteLength);
  })();
  await writeFile(tmp('vectors'), pages);
  const out = createWriteStream(tmp('points'));
  let lines: string[] = [];
  let sliceStart = performance.now();
  for (const point of collection.livePoints()) {
    lines.push(JSON.stringify({ s: point.slot, id: point.id, p: point.payload, i: point.sparse.indices, v: point.sparse.values }));
    if (lines.length >= 200) {
      if (!out.write(lines.join('\n') + '\n')) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      lines = [];
      // Serialising a large collection takes seconds: yield every ~10 ms so requests keep flowing.
      // Writes are queued behind this save (EmbeddedVectorStore.exclusive), so the points cannot change meanwhile.
      if (performance.now() - sliceStart >= 10) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }
  if (lines.length > 0) out.write(lines.join('\n') + '\n');
  out.end();
  await finished(out);

  const files = {} as Record<FileName, { bytes: number; sha256: string }>;
  for (const name of Object.keys(FILES) as FileName[]) {
    files[name] = await describe(tmp(name));
    await rename(tmp(name), path.join(dir, FILES[name]));
  }
  const manifest: Manifest = {
    format: FORMAT,
    embedderId: collection.meta.embedderId,
    dimension: collection.meta.dimension,
    payloadIndexes: [...collection.meta.payloadIndexes],
    quantization: collection.tuningQuantization,
    points: collection.size,
    slots: collection.slotCount,
    files,
    savedAt: new Date().toISOString(),
    log: `log-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.ndjson`,
  };
  await writeFile(path.join(dir, 'manifest.json.tmp'), JSON.stringify(manifest, null, 2));
  await rename(path.join(dir, 'manifest.json.tmp'), path.join(dir, 'manifest.json'));
  // A collection first saved in format 1 leaves its f32 vectors behind; the manifest no longer names them.
  await rm(path.join(dir, filesOf(1).vectors), { force: true });
  // The previous log is in the files now (a crash before this rm leaves a file nothing names).
  const previous = logs.get(collection)?.file;
  if (previous && previous !== manifest.log) await rm(path.join(dir, previous), { force: true });
  logs.set(collection, { file: manifest.log!, bytes: 0, baseBytes: savedBytes(manifest) });
  collection.unlogged.length = 0;
  collection.unloggedOverflow = false;
  collection.dirty = false;
}

/** Opens a saved collection, verifying every file; throws INDEX_CORRUPT naming what is wrong. */
export async function loadCollection(dir: string, name: string, tuning: Omit<HnswTuning, 'quantization'>, graphThread = false): Promise<EmbeddedCollection> {
  const corrupt = (why: string, cause?: unknown): VectorStoreError =>
    new VectorStoreError('INDEX_CORRUPT', `embedded vector collection "${name}" at ${dir} is unusable (${why}); drop it and rebuild it from source data`, { cause });
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (error) {
    throw corrupt('manifest.json is missing or unreadable', error);
  }
  if ((manifest.format !== FORMAT && manifest.format !== 1) || typeof manifest.embedderId !== 'string' || !Number.isInteger(manifest.dimension)) {
    throw corrupt(`manifest format ${String(manifest.format)} is not understood`);
  }
  const files = filesOf(manifest.format);
  for (const fileName of Object.keys(files) as FileName[]) {
    const file = path.join(dir, files[fileName]);
    const expected = manifest.files?.[fileName];
    const actual = await describe(file).catch(() => undefined);
    if (!actual) throw corrupt(`${files[fileName]} is missing`);
    if (!expected || actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) throw corrupt(`${files[fileName]} fails its checksum`);
  }

  const fullTuning: HnswTuning = { ...tuning, quantization: manifest.quantization };
  const hnsw = openGraph(manifest.dimension, fullTuning, graphThread);
  try {
    const collection = await restoreCollection(dir, manifest, files, fullTuning, hnsw, corrupt);
    if (manifest.log) {
      const { records, bytes } = await readLog(path.join(dir, manifest.log), corrupt);
      try {
        await collection.replay(records);
      } catch (error) {
        throw corrupt(`${manifest.log} does not replay`, error);
      }
      logs.set(collection, { file: manifest.log, bytes, baseBytes: savedBytes(manifest) });
    }
    collection.dirty = false;
    return collection;
  } catch (error) {
    await hnsw.close();
    throw error;
  }
}

/** A log's records; a torn last line (no newline: its append was never acknowledged) is cut off the file. */
async function readLog(file: string, corrupt: (why: string, cause?: unknown) => VectorStoreError): Promise<{ records: LogRecord[]; bytes: number }> {
  const size = await stat(file).then((s) => s.size, () => undefined);
  if (size === undefined) return { records: [], bytes: 0 };
  const records: LogRecord[] = [];
  let bytes = 0;
  let lineNumber = 0;
  await eachLine(file, (line, end, terminated) => {
    lineNumber++;
    if (!terminated) return; // the last line, without its newline
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch (error) {
      throw corrupt(`${path.basename(file)} line ${lineNumber} is unreadable`, error);
    }
    bytes = end;
  });
  if (bytes < size) await truncate(file, bytes);
  return { records, bytes };
}

async function restoreCollection(
  dir: string,
  manifest: Manifest,
  files: Record<FileName, string>,
  fullTuning: HnswTuning,
  hnsw: HnswGraph,
  corrupt: (why: string, cause?: unknown) => VectorStoreError,
): Promise<EmbeddedCollection> {
  try {
    await hnsw.load(path.join(dir, FILES.hnsw));
  } catch (error) {
    throw corrupt('the HNSW graph does not load', error);
  }
  const raw = await readFile(path.join(dir, files.vectors));
  const width = manifest.format === 1 ? 4 : 1;
  if (raw.byteLength !== manifest.slots * manifest.dimension * width) throw corrupt(`${files.vectors} has the wrong size`);
  let vectors: Int8Array;
  if (width === 1) vectors = new Int8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  else {
    const dim = manifest.dimension;
    const floats = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    vectors = new Int8Array(manifest.slots * dim);
    for (let slot = 0; slot < manifest.slots; slot++) quantizeI8(floats.subarray(slot * dim, (slot + 1) * dim), vectors.subarray(slot * dim, (slot + 1) * dim));
  }
  const collection = new EmbeddedCollection(
    { embedderId: manifest.embedderId, dimension: manifest.dimension, payloadIndexes: manifest.payloadIndexes },
    hnsw,
    fullTuning,
  );
  // Copied into the collection's pages (the file's Buffer may be pooled memory).
  collection.restoreVectors(vectors);
  await eachLine(path.join(dir, FILES.points), (line) => {
    if (line.length === 0) return;
    const record = JSON.parse(line) as { s: number; id: string; p: Record<string, unknown>; i: number[]; v: number[] };
    collection.restore(record.s, record.id, record.p, { indices: record.i, values: record.v });
  });
  // Restored slots may end before the last allocated (dead) slot; keep allocating after all of them.
  collection.ensureSlotCount(manifest.slots);
  const graphSize = await hnsw.size();
  if (collection.size !== manifest.points || graphSize !== manifest.points) {
    throw corrupt(`point counts disagree (manifest ${manifest.points}, points ${collection.size}, graph ${graphSize})`);
  }
  collection.dirty = false;
  return collection;
}
