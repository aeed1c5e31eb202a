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
import type { AccessAnswer, AccessQuery, CatalogApi, CatalogChapter, ReadableChapter, RevisionChapters } from '../../subgraphs/ugc/catalogClient.js';
import { createUgcServices, type UgcOptions } from '../../subgraphs/ugc/index.js';
import type { UgcServices } from '../../subgraphs/ugc/resolvers.js';

export const userCaller = (userId: string, roles: Role[] = ['READER']): Caller => ({ ...ANONYMOUS, userId, roles });

/**
 * Catalog's contract endpoints over revisions built from paragraph texts. Its access rule is a
 * small model of catalog's policy: a book is readable when in `readableBooks`; a chapter when its
 * book is and its revision was published (not added as a draft); staff also read drafts.
 */
export class FakeCatalog implements CatalogApi {
  readonly revisions = new Map<string, RevisionChapters>();
  private readonly chaptersById = new Map<string, CatalogChapter>();
  readonly readableBooks = new Set<string>();
  readonly draftRevisions = new Set<string>();
  /** bookId → the published revision (the newest one added without `draft`). */
  readonly publishedRevision = new Map<string, string>();
  readonly calls = { chapters: 0, revisionChapters: 0, access: 0 };

  /** Adds a revision: chapters given as paragraph texts, joined by blank lines; ids `<rev>-c<i>` and `<chapterId>.p<j>`. */
  addRevision(bookId: string, revisionId: string, chapters: string[][], options: { draft?: boolean } = {}): RevisionChapters {
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
    if (options.draft) this.draftRevisions.add(revisionId);
    else this.publishedRevision.set(bookId, revisionId);
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

  async access(caller: Caller, query: AccessQuery): Promise<AccessAnswer> {
    this.calls.access += 1;
    const staff = caller.roles.includes('EDITOR') || caller.roles.includes('ADMIN');
    const chapter = (id: string): ReadableChapter | null => {
      const c = this.chaptersById.get(id);
      if (!c || !(staff || (this.readableBooks.has(c.bookId) && !this.draftRevisions.has(c.revisionId)))) return null;
      return { id, bookId: c.bookId, revisionId: c.revisionId, current: this.publishedRevision.get(c.bookId) === c.revisionId, length: c.text.length };
    };
    const paragraphs = (query.paragraphIds ?? []).flatMap((id) => {
      const chapterId = id.replace(/\.p\d+$/, '');
      const c = chapter(chapterId);
      const span = this.chaptersById.get(chapterId)?.paragraphs.find((p) => p.id === id);
      return c && span ? [[id, { ...c, id, chapterId, length: span.endOffset - span.startOffset }] as const] : [];
    });
    return {
      books: new Set((query.bookIds ?? []).filter((id) => staff ? this.publishedRevision.has(id) || this.readableBooks.has(id) : this.readableBooks.has(id))),
      chapters: new Map((query.chapterIds ?? []).flatMap((id) => {
        const c = chapter(id);
        return c ? [[id, c] as const] : [];
      })),
      paragraphs: new Map(paragraphs),
    };
  }
}

export interface TestUgc extends UgcServices {
  readonly catalog: FakeCatalog;
  readonly storage: Storage;
  close(): Promise<void>;
}

export async function openTestUgc(options: UgcOptions & { dataDir?: string } = {}): Promise<TestUgc> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'folio-ugc-'));
  const storage = await openStorage({ dataDir });
  const catalog = new FakeCatalog();
  const services = await createUgcServices(storage.db('folio_ugc'), catalog, createLogger('ugc-test', 'silent'), options);
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
