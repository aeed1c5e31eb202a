/**
 * A minimal object store: bytes by key. A directory by default; S3-compatible storage (AWS,
 * MinIO, R2…) when FOLIO_S3_ENDPOINT is set. Used for derived per-user data such as private
 * search indexes.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { FolioConfig } from './config.js';

export interface ObjectStore {
  /** The stored bytes, or null when the key does not exist. */
  get(key: string): Promise<Buffer | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

/** Keys are relative paths of safe segments: no "..", no leading "/", no control characters. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._%-]{0,199}$/;

export function validateObjectKey(key: string): void {
  const segments = typeof key === 'string' ? key.split('/') : [];
  if (key.length === 0 || key.length > 1024 || !segments.every((s) => SEGMENT.test(s) && s !== '..' && s !== '.')) {
    throw new RangeError(`invalid object key ${JSON.stringify(key)}`);
  }
}

export class DirectoryObjectStore implements ObjectStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  private file(key: string): string {
    validateObjectKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.file(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename: a reader sees the old object or the new one, never half of one.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }
}

export interface S3ObjectStoreOptions {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId?: string | undefined;
  readonly secretAccessKey?: string | undefined;
  /** Prepended to every key. @default '' */
  readonly prefix?: string;
}

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;

  constructor(private readonly options: S3ObjectStoreOptions) {
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      // Path-style addressing works with MinIO and other S3-compatible servers as well as AWS.
      forcePathStyle: true,
      ...(options.accessKeyId && options.secretAccessKey
        ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
        : {}),
    });
  }

  private key(key: string): string {
    validateObjectKey(key);
    return `${this.options.prefix ?? ''}${key}`;
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return result.Body ? Buffer.from(await result.Body.transformToByteArray()) : Buffer.alloc(0);
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return null;
      throw error;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: this.key(key), Body: bytes }));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }
}

/** S3 when configured, else a directory under `<FOLIO_DATA_DIR>/objects`. */
export function createObjectStore(config: Pick<FolioConfig, 's3' | 'dataDir'>): ObjectStore {
  if (config.s3) return new S3ObjectStore(config.s3);
  return new DirectoryObjectStore(path.join(config.dataDir, 'objects'));
}
