/**
 * Per-request DataLoaders: every per-parent lookup or list in one request is one database query,
 * whatever the number of parents (a shelf of 50 books costs the same round trips as one).
 */
import DataLoader from 'dataloader';
import type { Caller } from '../../lib/identity.js';
import type { Connection } from '../../lib/pagination.js';
import type { UgcServices } from './resolvers.js';
import { existingLikes } from './service/likes.js';
import type { BookRating } from './service/reviews.js';
import type { HighlightDoc, NoteDoc, PassageDoc, ProgressDoc, ReviewDoc, ShelfDoc } from './store.js';

/** One DataLoader per page size, since a batch answers one `first` for all its keys. */
class PerSize<V> {
  private readonly loaders = new Map<number, DataLoader<string, V>>();
  constructor(private readonly batch: (keys: readonly string[], size: number) => Promise<Map<string, V>>) {}
  load(key: string, size: number): Promise<V> {
    let loader = this.loaders.get(size);
    if (!loader) {
      loader = new DataLoader<string, V>(async (keys) => {
        const found = await this.batch(keys, size);
        return keys.map((k) => found.get(k)!);
      });
      this.loaders.set(size, loader);
    }
    return loader.load(key);
  }
}

const byKeys = <V>(fetch: (keys: readonly string[]) => Promise<Map<string, V>>): DataLoader<string, V | null> =>
  new DataLoader(async (keys) => {
    const found = await fetch(keys);
    return keys.map((k) => found.get(k) ?? null);
  }, { maxBatchSize: 1_000 });

export interface UgcLoaders {
  /** The viewer's own progress only. */
  readonly progress: DataLoader<string, ProgressDoc | null>;
  /** The viewer's own highlights only. */
  readonly highlight: DataLoader<string, HighlightDoc | null>;
  /** Notes the caller may see. */
  readonly note: DataLoader<string, NoteDoc | null>;
  /** The viewer's own shelf entries, by `<userId>|<bookId>`. */
  readonly shelfEntry: DataLoader<string, ShelfDoc | null>;
  /** Reviews by id (`<userId>|<bookId>`; reviews are public). */
  readonly review: DataLoader<string, ReviewDoc | null>;
  readonly liked: DataLoader<string, boolean>;
  readonly rating: DataLoader<string, BookRating | null>;
  readonly chapterHighlights: DataLoader<string, HighlightDoc[] | null>;
  readonly reviewsFirstPage: PerSize<Connection<ReviewDoc>>;
  readonly myHighlightsFirstPage: PerSize<Connection<HighlightDoc>>;
  readonly publicNotesFirstPage: PerSize<Connection<NoteDoc>>;
  readonly popular: PerSize<PassageDoc[]>;
}

/** Every loader answers for one viewer: what it returns is already filtered by the policy. */
export function createLoaders(services: UgcServices, caller: Caller): UgcLoaders {
  const { shelf, annotations, reviews, store } = services;
  return {
    progress: byKeys((keys) => shelf.progressByKeys(caller, keys)),
    highlight: byKeys((ids) => annotations.highlightsByIds(caller, ids)),
    note: byKeys((ids) => annotations.notesByIds(caller, ids)),
    shelfEntry: byKeys((keys) => shelf.ownEntriesByKeys(caller, keys)),
    review: byKeys((ids) => reviews.reviewsByIds(ids)),
    liked: new DataLoader(async (keys) => {
      const found = await existingLikes(store, keys);
      return keys.map((k) => found.has(k));
    }),
    rating: byKeys((ids) => reviews.ratingsByBooks(ids)),
    chapterHighlights: byKeys((ids) => annotations.highlightsByChapters(caller, ids)),
    reviewsFirstPage: new PerSize((ids, size) => reviews.reviewsFirstPageByBook(ids, size)),
    myHighlightsFirstPage: new PerSize((ids, size) => annotations.highlightsFirstPageByBook(caller, ids, size)),
    publicNotesFirstPage: new PerSize((ids, size) => annotations.publicNotesFirstPage(caller, ids, size)),
    popular: new PerSize((ids, size) => annotations.popularByBooks(caller, ids, size)),
  };
}
