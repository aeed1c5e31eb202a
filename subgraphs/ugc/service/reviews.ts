/**
 * Reviews: one per user and book, rating 1–5. `Book.rating` is read from running totals that
 * change in the same transaction as the review, never recomputed on read.
 */
import { badInput } from '../../../lib/errors.js';
import type { Caller } from '../../../lib/identity.js';
import { cleanText } from '../../../lib/text.js';
import { connectionOf, decodeCursor, pageSize, type Connection, type CursorKey, type PageArgs } from '../../../lib/pagination.js';
import type { Filter } from '../../../lib/storage/types.js';
import { check, int } from '../../../lib/validation.js';
import { collectionsOf, pairKey, type BookRatingDoc, type ReviewDoc } from '../store.js';
import { authorize, authorizeBook, requireSignedIn, subjects } from '../policy.js';
import { checkId, type UgcDeps } from './common.js';
import { firstPagePerGroup } from './grouped.js';
import { deleteLikesOf, setLike } from './likes.js';

export const MAX_REVIEW_LENGTH = 10_000;

export interface ReviewInput {
  readonly rating: number;
  readonly text?: string | null;
}

export interface BookRating {
  readonly average: number | null;
  readonly count: number;
}

export const ratingOf = (doc: BookRatingDoc | null | undefined): BookRating =>
  !doc || doc.count <= 0 ? { average: null, count: 0 } : { average: Math.round((doc.sum / doc.count) * 100) / 100, count: doc.count };

export class ReviewService {
  constructor(private readonly deps: UgcDeps) {}

  async writeReview(caller: Caller, bookIdInput: string, input: ReviewInput): Promise<ReviewDoc> {
    const userId = requireSignedIn(caller);
    const bookId = checkId(bookIdInput, 'bookId');
    check(int(1, 5), input.rating, 'rating');
    const text = cleanText(input.text ?? '', 'text', { min: 0, max: MAX_REVIEW_LENGTH });
    await authorizeBook(this.deps.catalog, caller, bookId);
    const _id = pairKey(userId, bookId);
    const now = this.deps.now();
    return this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      const previous = await c.reviews.findOne({ _id });
      const doc: ReviewDoc = previous
        ? { ...previous, rating: input.rating, text, updatedAt: now }
        : { _id, userId, bookId, rating: input.rating, text, likeCount: 0, createdAt: now, updatedAt: now };
      await c.reviews.replaceOne({ _id }, doc, { upsert: true });
      const inc = previous ? { sum: input.rating - previous.rating, count: 0 } : { sum: input.rating, count: 1 };
      await c.ratings.updateOne({ _id: bookId }, { $inc: inc }, { upsert: true });
      // Sync events (me.changes): the author's other devices learn of the review.
      await emit('ReviewWritten', { reviewId: _id, userId, bookId, rating: doc.rating, op: previous ? 'UPDATED' : 'CREATED' });
      return doc;
    });
  }

  async deleteReview(caller: Caller, bookIdInput: string): Promise<boolean> {
    const userId = requireSignedIn(caller);
    const _id = pairKey(userId, checkId(bookIdInput, 'bookId'));
    return this.deps.outbox.publish(async (tx, emit) => {
      const c = collectionsOf(tx);
      const removed = await c.reviews.findOneAndDelete({ _id });
      if (!removed) return false;
      await c.ratings.updateOne({ _id: removed.bookId }, { $inc: { sum: -removed.rating, count: -1 } });
      await deleteLikesOf(tx, 'REVIEW', _id);
      await emit('ReviewDeleted', { reviewId: _id, userId, bookId: removed.bookId });
      return true;
    });
  }

  async likeReview(caller: Caller, idInput: string, liked: boolean): Promise<ReviewDoc> {
    const userId = requireSignedIn(caller);
    const review = await this.deps.store.reviews.findOne({ _id: checkReviewId(idInput) });
    authorize(caller, 'like', subjects.review(review));
    await setLike(this.deps.store, 'REVIEW', review!._id, userId, liked, this.deps.now());
    return (await this.deps.store.reviews.findOne({ _id: review!._id })) ?? review!;
  }

  /** Reviews by id (public: anyone may read any review). */
  async reviewsByIds(ids: readonly string[]): Promise<Map<string, ReviewDoc>> {
    const docs = await this.deps.store.reviews.find({ _id: { $in: [...ids] } }).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  async ratingsByBooks(bookIds: readonly string[]): Promise<Map<string, BookRating>> {
    const docs = await this.deps.store.ratings.find({ _id: { $in: [...bookIds] } }).toArray();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return new Map(bookIds.map((id) => [id, ratingOf(byId.get(id))]));
  }

  reviewsFirstPageByBook(bookIds: readonly string[], size: number): Promise<Map<string, Connection<ReviewDoc>>> {
    return firstPagePerGroup(this.deps.store.reviews, 'bookId', bookIds, {}, size, NEWEST_FIRST, reviewKey);
  }

  async listByBook(bookId: string, args: PageArgs): Promise<Connection<ReviewDoc>> {
    return this.list({ bookId }, args);
  }

  async listByUser(userId: string, args: PageArgs): Promise<Connection<ReviewDoc>> {
    return this.list({ userId }, args);
  }

  /** Newest first by when each review was written (ids are `<userId>|<bookId>`, so they do not order by time). */
  private async list(filter: { bookId?: string; userId?: string }, args: PageArgs): Promise<Connection<ReviewDoc>> {
    const size = pageSize(args.first);
    const key = decodeCursor(args.after, ['number', 'string']);
    const after: Filter<ReviewDoc> = key
      ? { $or: [{ createdAt: { $lt: new Date(key[0] as number) } }, { createdAt: new Date(key[0] as number), _id: { $lt: key[1] as string } }] }
      : {};
    const { reviews } = this.deps.store;
    const [docs, total] = await Promise.all([
      reviews.find({ ...filter, ...after }).sort(NEWEST_FIRST).limit(size + 1).toArray(),
      reviews.countDocuments(filter),
    ]);
    return connectionOf(docs, size, reviewKey, total);
  }
}

const NEWEST_FIRST: Record<string, 1 | -1> = { createdAt: -1, _id: -1 };
/** The cursor: creation time, then id for reviews written in the same millisecond. */
const reviewKey = (review: ReviewDoc): CursorKey => [review.createdAt.getTime(), review._id];

/** Review ids are `<userId>|<bookId>`. */
function checkReviewId(value: unknown): string {
  if (typeof value !== 'string' || value.length > 401 || value.split('|').length !== 2) throw badInput('id is not a valid review id.', 'id');
  return value;
}
