/**
 * Private to the EPUB pipeline: a bounded, read-only view of a zip held in memory.
 *
 * yauzl reads the central directory and inflates entries; this file adds the bounds. Sizes
 * declared in zip headers are attacker-controlled, so they are only used to refuse early:
 * every entry is also measured while it inflates and abandoned the moment it passes a bound.
 */
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { EpubError } from './errors.js';
import type { EpubLimits } from './limits.js';

export interface ZipArchive {
  /** Entry names (files only), in central-directory order. */
  readonly names: readonly string[];
  /** The stored name for `path`: exact match first, then case-insensitive (sloppy OPF hrefs). */
  resolve(path: string): string | undefined;
  /** Inflates one entry, at most `maxBytes` (default: the per-entry limit). */
  read(name: string, maxBytes?: number): Promise<Buffer>;
  close(): void;
}

const formatMiB = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

/** `..` segments, absolute paths, drive letters, backslashes and NULs: none belong in an EPUB. */
export function isUnsafeEntryName(name: string): boolean {
  return (
    name.length === 0 ||
    name.includes('\\') ||
    name.includes('\0') ||
    name.startsWith('/') ||
    /^[a-zA-Z]:/.test(name) ||
    name.split('/').includes('..')
  );
}

export async function openZip(bytes: Buffer, limits: EpubLimits): Promise<ZipArchive> {
  if (bytes.length > limits.maxCompressedBytes) {
    throw new EpubError(
      'TOO_LARGE',
      `The file (${bytes.length.toLocaleString('en-US')} bytes) is larger than the ${formatMiB(limits.maxCompressedBytes)} limit.`,
    );
  }
  let zip: ZipFile;
  try {
    // decodeStrings off: yauzl would refuse unsafe names with a generic error and turn
    // backslashes into slashes; we decode names ourselves and refuse them with a reason.
    zip = await yauzl.fromBufferPromise(bytes, {
      lazyEntries: true,
      autoClose: false,
      decodeStrings: false,
      validateEntrySizes: false,
    });
  } catch (cause) {
    throw new EpubError('NOT_A_ZIP', 'The file is not a zip archive, so it cannot be an EPUB.', { cause });
  }
  try {
    const entries = await readDirectory(zip, limits);
    return new BoundedZip(zip, entries, limits);
  } catch (error) {
    zip.close();
    throw error;
  }
}

async function readDirectory(zip: ZipFile, limits: EpubLimits): Promise<Map<string, Entry>> {
  const tooMany = (): EpubError =>
    new EpubError('TOO_MANY_ENTRIES', `The archive has more than ${limits.maxEntries} entries.`);
  if (zip.entryCount > limits.maxEntries) throw tooMany();
  const entries = new Map<string, Entry>();
  let seen = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      if (++seen > limits.maxEntries) throw tooMany();
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
      if (isUnsafeEntryName(name)) {
        throw new EpubError('PATH_TRAVERSAL', `The archive has an unsafe entry name: ${JSON.stringify(name.slice(0, 200))}.`);
      }
      if (name.endsWith('/')) continue;
      // Two entries with one name would let a checker and a reader see different files.
      if (entries.has(name)) throw new EpubError('CORRUPT_ZIP', `The archive has two entries named "${name}".`);
      entries.set(name, entry);
    }
  } catch (error) {
    if (error instanceof EpubError) throw error;
    throw new EpubError('CORRUPT_ZIP', 'The zip directory is damaged.', { cause: error });
  }
  return entries;
}

class BoundedZip implements ZipArchive {
  readonly names: readonly string[];
  private readonly lowerCase = new Map<string, string>();
  private inflatedTotal = 0;

  constructor(
    private readonly zip: ZipFile,
    private readonly entries: Map<string, Entry>,
    private readonly limits: EpubLimits,
  ) {
    this.names = [...entries.keys()];
    for (const name of this.names) {
      const lower = name.toLowerCase();
      if (!this.lowerCase.has(lower)) this.lowerCase.set(lower, name);
    }
  }

  resolve(path: string): string | undefined {
    return this.entries.has(path) ? path : this.lowerCase.get(path.toLowerCase());
  }

  async read(name: string, maxBytes = this.limits.maxEntryBytes): Promise<Buffer> {
    const entry = this.entries.get(name);
    if (!entry) throw new Error(`No entry "${name}" (resolve names first).`);
    const bound = Math.min(maxBytes, this.limits.maxEntryBytes);
    if (entry.isEncrypted()) throw new EpubError('ENCRYPTED', `"${name}" is encrypted.`);
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
      throw new EpubError('CORRUPT_ZIP', `"${name}" uses unsupported compression method ${entry.compressionMethod}.`);
    }
    // Early refusals from the declared sizes; the counting below is what actually holds.
    this.checkRatio(name, entry.uncompressedSize, entry.compressedSize);
    this.checkSize(name, entry.uncompressedSize, bound);

    const chunks: Buffer[] = [];
    let inflated = 0;
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        inflated += chunk.length;
        if (inflated > entry.uncompressedSize) {
          throw new EpubError('ZIP_BOMB', `"${name}" inflates past the size its header declares.`);
        }
        // Implied by the check above plus the early refusals, but kept so that no bound rests
        // on a single comparison.
        this.checkRatio(name, inflated, entry.compressedSize);
        this.checkSize(name, inflated, bound);
        if (this.inflatedTotal + inflated > this.limits.maxUncompressedBytes) {
          throw new EpubError(
            'TOO_LARGE',
            `The book inflates past ${formatMiB(this.limits.maxUncompressedBytes)} in total.`,
          );
        }
        chunks.push(chunk);
      }
    } catch (error) {
      if (error instanceof EpubError) throw error;
      throw new EpubError('CORRUPT_ZIP', `"${name}" could not be decompressed.`, { cause: error });
    }
    if (inflated !== entry.uncompressedSize) {
      throw new EpubError('CORRUPT_ZIP', `"${name}" is truncated.`);
    }
    this.inflatedTotal += inflated;
    return Buffer.concat(chunks, inflated);
  }

  close(): void {
    this.zip.close();
  }

  private checkRatio(name: string, inflated: number, compressed: number): void {
    if (inflated < this.limits.ratioCheckMinBytes) return;
    if (inflated > Math.max(compressed, 1) * this.limits.maxCompressionRatio) {
      throw new EpubError(
        'ZIP_BOMB',
        `"${name}" expands more than ${this.limits.maxCompressionRatio}:1; refusing a likely zip bomb.`,
      );
    }
  }

  private checkSize(name: string, inflated: number, bound: number): void {
    if (inflated > bound) {
      throw new EpubError('TOO_LARGE', `"${name}" is larger than ${formatMiB(bound)} uncompressed.`);
    }
  }
}
