/** Thin resolvers: read arguments, call the service, shape the result. Book/Paragraph are references catalog resolves. */
import type { Caller } from '../../lib/identity.js';
import { DateTime } from '../../lib/scalars.js';
import type { Citation } from './answer.js';
import type { Resolvers } from './generated/resolvers.js';
import type { SearchLoaders } from './loaders.js';
import type { RecommendationService } from './recommendations/service.js';
import type { NoteResult, ParagraphResult, SearchService, BookResult } from './service.js';
import type { BookIndexDoc } from './store.js';

export interface SearchContext {
  readonly caller: Caller;
  readonly service: SearchService;
  readonly loaders: SearchLoaders;
  /** Recommendations' service (their resolvers: recommendations/resolvers.ts). */
  readonly recommendations: RecommendationService;
}

const ref = (id: string): { id: string } => ({ id });

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    search: (_: unknown, args, { service, loaders }: SearchContext) => service.search(args, loaders.readableCheck),
    searchMyNotes: (_: unknown, args, { caller, service }: SearchContext) => service.searchMyNotes(caller, args.query, args.first),
    ask: (_: unknown, args, { service, loaders }: SearchContext) =>
      service.ask(args, loaders.readableCheck),
    searchIndexStatus: (_: unknown, args, { caller, service }: SearchContext) => service.indexStatus(caller, args.bookId),
  },
  BookHit: {
    book: (hit: BookResult) => ref(hit.bookId),
    matchedField: (hit: BookResult) => hit.field,
  },
  ParagraphHit: {
    paragraph: (hit: ParagraphResult) => ref(hit.paragraphId),
    paragraphs: (hit: ParagraphResult) => hit.paragraphIds.map(ref),
    book: (hit: ParagraphResult) => ref(hit.bookId),
  },
  MyNoteHit: {
    id: (hit: NoteResult) => hit.sourceId,
    book: (hit: NoteResult) => ref(hit.bookId),
    paragraph: (hit: NoteResult) => (hit.paragraphId ? ref(hit.paragraphId) : null),
  },
  Citation: {
    paragraph: (c: Citation) => ref(c.paragraphId),
    book: (c: Citation) => ref(c.bookId),
  },
  BookIndexStatus: {
    book: (doc: BookIndexDoc) => ref(doc._id),
    progress: (doc: BookIndexDoc) => (doc.state === 'INDEXED' ? 1 : doc.chunksTotal > 0 ? Math.min(1, doc.chunksIndexed / doc.chunksTotal) : 0),
  },
};
