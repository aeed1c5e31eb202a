/**
 * EPUB files as fixed-size Binary chunks in the catalog database (GridFS's layout, by hand: the
 * storage seam exposes the collection API only, and a MongoDB document is at most 16 MB). Range
 * reads touch only the chunks they need. Files are immutable once complete.
 */
import { createHash } from 'node:crypto';
import { Binary, ObjectId } from '../../lib/storage/index.js';
import type { CatalogStore, FileDoc } from './store.js';

/** 512 KiB: small enough that a Range read wastes little, large enough that a 16 MiB book is 32 documents. */
export const FILE_CHUNK_BYTES = 512 * 1024;

export class FileStore {
  constructor(private readonly store: Pick<CatalogStore, 'files' | 'fileChunks'>) {}

  async put(bytes: Buffer): Promise<FileDoc> {
    const doc: FileDoc = {
      _id: new ObjectId().toHexString(),
      sizeBytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      chunkSize: FILE_CHUNK_BYTES,
      chunkCount: Math.ceil(bytes.length / FILE_CHUNK_BYTES),
      complete: false,
      createdAt: new Date(),
    };
    await this.store.files.insertOne(doc);
    // A few chunks per write keeps each batch bounded in memory and in the journal.
    for (let n = 0; n < doc.chunkCount; n += 8) {
      const batch = [];
      for (let i = n; i < Math.min(n + 8, doc.chunkCount); i++) {
        const data = bytes.subarray(i * FILE_CHUNK_BYTES, (i + 1) * FILE_CHUNK_BYTES);
        batch.push({ _id: `${doc._id}:${i}`, fileId: doc._id, n: i, data: new Binary(data) });
      }
      await this.store.fileChunks.insertMany(batch);
    }
    await this.store.files.updateOne({ _id: doc._id }, { $set: { complete: true } });
    return { ...doc, complete: true };
  }

  get(fileId: string): Promise<FileDoc | null> {
    return this.store.files.findOne({ _id: fileId, complete: true });
  }

  /** Bytes [start, end) of a file, in chunk-sized pieces. */
  async *stream(file: FileDoc, start = 0, end = file.sizeBytes): AsyncGenerator<Buffer> {
    if (start >= end) return;
    const first = Math.floor(start / file.chunkSize);
    const last = Math.floor((end - 1) / file.chunkSize);
    // A few chunks per query: bounded memory, few round trips.
    for (let from = first; from <= last; from += 4) {
      const to = Math.min(from + 3, last);
      const chunks = await this.store.fileChunks.find({ fileId: file._id, n: { $gte: from, $lte: to } }).sort({ n: 1 }).toArray();
      if (chunks.length !== to - from + 1) throw new Error(`file ${file._id} is missing chunks ${from}..${to}`);
      for (const chunk of chunks) {
        const data = Buffer.from(chunk.data.buffer);
        const offset = chunk.n * file.chunkSize;
        yield data.subarray(Math.max(0, start - offset), Math.min(data.length, end - offset));
      }
    }
  }

  async read(fileId: string): Promise<Buffer> {
    const file = await this.store.files.findOne({ _id: fileId, complete: true });
    if (!file) throw new Error(`file ${fileId} not found`);
    const parts: Buffer[] = [];
    for await (const part of this.stream(file)) parts.push(part);
    return Buffer.concat(parts);
  }

  async delete(fileId: string): Promise<void> {
    await this.store.fileChunks.deleteMany({ fileId });
    await this.store.files.deleteOne({ _id: fileId });
  }
}
