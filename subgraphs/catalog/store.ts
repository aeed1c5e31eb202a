/** The catalog database (`folio_catalog`): collections, their documents and indexes. */
import type { FolioDb } from '../../lib/storage/index.js';
import type { DocCollection } from '../../lib/storage/types.js';
import type { Binary } from '../../lib/storage/index.js';

export type BookStatus = 'DRAFT' | 'PUBLISHED' | 'UNPUBLISHED';

export interface LicenseDoc {
  startsAt: Date | null;
  endsAt: Date | null;
  /** ISO 3166-1 alpha-2, upper case; empty = worldwide. */
  territories: string[];
  partnerIds: string[];
  updatedAt: Date;
}

export interface BookDoc {
  _id: string;
  title: string;
  /** Lower-cased title + id: the stable sort key of `books`. */
  sortKey: string;
  authors: string[];
  /** Lower-cased authors, for the exact author filter. */
  authorKeys: string[];
  language: string;
  description: string | null;
  /** Lower-cased. */
  tags: string[];
  isbn: string | null;
  coverUrl: string | null;
  status: BookStatus;
  /** The revision readers see while PUBLISHED (kept while UNPUBLISHED, for re-publishing). */
  publishedRevisionId: string | null;
  /** The newest STORED revision (a draft until published). */
  latestRevisionId: string | null;
  revisionCount: number;
  publishedAt: Date | null;
  license: LicenseDoc | null;
  /** Set by bulk ingest: the first stored revision overwrites the metadata with the EPUB's. */
  metadataFromContent: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface RevisionDoc {
  _id: string;
  bookId: string;
  number: number;
  contentHash: string;
  chapterCount: number;
  paragraphCount: number;
  wordCount: number;
  /** The EPUB file (files collection). */
  fileId: string;
  sizeBytes: number;
  sha256: string;
  language: string;
  jobId: string;
  createdBy: string;
  createdAt: Date;
  publishedAt: Date | null;
  /** The cover image found in the EPUB, stored as a file. Absent when the book has none. */
  cover?: CoverDoc;
}

export interface CoverDoc {
  fileId: string;
  mediaType: string;
  sizeBytes: number;
  /** Pixels, when the image's header could be read. */
  width: number | null;
  height: number | null;
}

export interface ParagraphSpan {
  index: number;
  startOffset: number;
  endOffset: number;
}

export interface ChapterDoc {
  /** `<revisionId>.c<index>`: immutable, and a paragraph id `<chapterId>.p<n>` finds its chapter. */
  _id: string;
  bookId: string;
  revisionId: string;
  index: number;
  title: string;
  text: string;
  html: string;
  wordCount: number;
  contentHash: string;
  paragraphCount: number;
  paragraphs: ParagraphSpan[];
  /**
   * Set when `text` or `html` was too long for one document (see chapterBodies.ts): the stored
   * fields hold the first part, and `chapter_parts` holds the rest. Absent on ordinary chapters.
   */
  overflow?: { textParts: number; htmlParts: number };
}

/** The continuation of a long chapter's text or HTML (see chapterBodies.ts). */
export interface ChapterPartDoc {
  /** `<chapterId>:<field>:<n>`, n from 1 (part 0 is in the chapter document). */
  _id: string;
  chapterId: string;
  revisionId: string;
  field: 'text' | 'html';
  n: number;
  value: string;
}

/** A chapter as the table of contents loads it: no text, html or paragraph spans. */
export type ChapterSummary = Omit<ChapterDoc, 'text' | 'html' | 'paragraphs'> & Partial<Pick<ChapterDoc, 'text' | 'html' | 'paragraphs'>>;

export type JobStatus = 'QUEUED' | 'FORMATTING' | 'PARSING' | 'SPLITTING' | 'STORED' | 'FAILED';

export interface JobDoc {
  _id: string;
  bookId: string;
  status: JobStatus;
  stages: Array<{ stage: JobStatus; startedAt: Date }>;
  failureCode: string | null;
  failureReason: string | null;
  /** Pre-assigned, so a retried job rewrites the same revision instead of leaving orphans. */
  revisionId: string;
  /** The uploaded EPUB (files collection). */
  fileId: string;
  sizeBytes: number;
  attempts: number;
  /** A worker holds the job until this time (renewed while working); another takes it after. */
  leaseOwner: string | null;
  leaseUntil: Date | null;
  /** Its worker stopped mid-way (a crash or restart) and no worker has resumed it yet. Absent on older jobs. */
  interrupted?: boolean;
  /** What the parser skipped or doubted (see epub/warnings.ts), set when the job is STORED. Absent on older jobs. */
  warnings?: Array<{ code: string; message: string }>;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface FileDoc {
  _id: string;
  sizeBytes: number;
  sha256: string;
  chunkSize: number;
  chunkCount: number;
  /** False until every chunk is written: a crash mid-write leaves an incomplete, unused file. */
  complete: boolean;
  createdAt: Date;
}

export interface FileChunkDoc {
  /** `<fileId>:<n>` */
  _id: string;
  fileId: string;
  n: number;
  data: Binary;
}

export interface MetaDoc {
  _id: string;
  at: Date;
}

export interface CatalogStore {
  readonly db: FolioDb;
  readonly books: DocCollection<BookDoc>;
  readonly revisions: DocCollection<RevisionDoc>;
  readonly chapters: DocCollection<ChapterDoc>;
  readonly chapterParts: DocCollection<ChapterPartDoc>;
  readonly jobs: DocCollection<JobDoc>;
  readonly files: DocCollection<FileDoc>;
  readonly fileChunks: DocCollection<FileChunkDoc>;
  readonly meta: DocCollection<MetaDoc>;
}

export function catalogCollections(db: FolioDb): CatalogStore {
  return {
    db,
    books: db.collection<BookDoc>('books'),
    revisions: db.collection<RevisionDoc>('revisions'),
    chapters: db.collection<ChapterDoc>('chapters'),
    chapterParts: db.collection<ChapterPartDoc>('chapter_parts'),
    jobs: db.collection<JobDoc>('upload_jobs'),
    files: db.collection<FileDoc>('files'),
    fileChunks: db.collection<FileChunkDoc>('file_chunks'),
    meta: db.collection<MetaDoc>('meta'),
  };
}

export async function openCatalogStore(db: FolioDb): Promise<CatalogStore> {
  const store = catalogCollections(db);
  await Promise.all([
    store.books.createIndex({ sortKey: 1 }, { name: 'books_order' }),
    store.books.createIndex({ status: 1, sortKey: 1 }, { name: 'books_status_order' }),
    store.books.createIndex({ authorKeys: 1 }, { name: 'books_author' }),
    store.books.createIndex({ tags: 1 }, { name: 'books_tag' }),
    store.revisions.createIndex({ bookId: 1, number: -1 }, { name: 'revisions_book' }),
    store.chapters.createIndex({ revisionId: 1, index: 1 }, { unique: true, name: 'chapters_revision_index' }),
    store.chapterParts.createIndex({ chapterId: 1, field: 1, n: 1 }, { unique: true, name: 'chapter_parts_order' }),
    store.chapterParts.createIndex({ revisionId: 1 }, { name: 'chapter_parts_revision' }),
    store.jobs.createIndex({ status: 1, createdAt: 1 }, { name: 'jobs_queue' }),
    store.jobs.createIndex({ bookId: 1, createdAt: -1 }, { name: 'jobs_book' }),
    store.fileChunks.createIndex({ fileId: 1, n: 1 }, { unique: true, name: 'chunks_file' }),
  ]);
  return store;
}
