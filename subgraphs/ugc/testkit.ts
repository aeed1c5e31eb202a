/**
 * Test helpers for the UGC service layer (private to tests and the repair benchmark): an in-memory
 * fake of catalog's internal endpoints and services over a fresh embedded database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANONYMOUS, type Caller, type Role } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { openStorage, type Storage } from '../../lib/storage/index.js';
import type { CatalogApi, CatalogChapter, RevisionChapters } from './catalogClient.js';
import { createUgcServices } from './index.js';
import type { UgcServices } from './resolvers.js';

export const userCaller = (userId: string, roles: Role[] = ['READER']): Caller => ({ ...ANONYMOUS, userId, roles });

/** Catalog's contract endpoints over revisions built from paragraph texts. */
export class FakeCatalog implements CatalogApi {
  readonly revisions = new Map<string, RevisionChapters>();
  private readonly chaptersById = new Map<string, CatalogChapter>();
  readonly readableBooks = new Set<string>();
  readonly calls = { chapters: 0, revisionChapters: 0, readable: 0 };

  /** Adds a revision: chapters given as paragraph texts, joined by blank lines; ids `<rev>-c<i>` and `<chapterId>.p<j>`. */
  addRevision(bookId: string, revisionId: string, chapters: string[][]): RevisionChapters {
    const built = chapters.map((paragraphs, index) => {
      const id = `${revisionId}-c${index}`;
      let offset = 0;
      const spans = paragraphs.map((p, j) => {
        const span = { id: `${id}.p${j}`, index: j, startOffset: offset, endOffset: offset + p.length };
        offset += p.length + 2;
        return span;
      });
      const chapter: CatalogChapter = { id, bookId, revisionId, index, title: `Chapter ${index + 1}`, text: paragraphs.join('\n\n'), paragraphs: spans };
      this.chaptersById.set(id, chapter);
      return chapter;
    });
    const revision: RevisionChapters = { bookId, revisionId, chapters: built.map(({ bookId: _b, revisionId: _r, ...c }) => c) };
    this.revisions.set(revisionId, revision);
    this.readableBooks.add(bookId);
    return revision;
  }

  async chapters(ids: readonly string[]): Promise<CatalogChapter[]> {
    this.calls.chapters += 1;
    if (ids.length > 200) throw new Error('at most 200 ids');
    return ids.flatMap((id) => this.chaptersById.get(id) ?? []);
  }

  async revisionChapters(revisionId: string): Promise<RevisionChapters> {
    this.calls.revisionChapters += 1;
    const revision = this.revisions.get(revisionId);
    if (!revision) throw new Error(`internal call failed: HTTP 404`);
    return revision;
  }

  async readable(bookIds: readonly string[]): Promise<Set<string>> {
    this.calls.readable += 1;
    return new Set(bookIds.filter((id) => this.readableBooks.has(id)));
  }
}

export interface TestUgc extends UgcServices {
  readonly catalog: FakeCatalog;
  readonly storage: Storage;
  close(): Promise<void>;
}

export async function openTestUgc(options: { now?: () => Date; dataDir?: string } = {}): Promise<TestUgc> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'folio-ugc-'));
  const storage = await openStorage({ dataDir });
  const catalog = new FakeCatalog();
  const services = await createUgcServices(storage.db('folio_ugc'), catalog, createLogger('ugc-test', 'silent'), options.now);
  return {
    ...services,
    catalog,
    storage,
    async close() {
      await storage.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
