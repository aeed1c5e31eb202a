/**
 * Likes on public notes and reviews: one per user, counted on the liked document. The like's
 * `_id` is unique per (target, user), and the count changes in the same transaction as the like.
 */
import type { FolioDb } from '../../../lib/storage/index.js';
import { isDuplicateKeyError } from '../../../lib/storage/index.js';
import { collectionsOf, pairKey, type LikeTarget, type UgcStore } from '../store.js';

export const likeKey = (target: LikeTarget, targetId: string, userId: string): string => pairKey(target, targetId, userId);

const likedCollection = (tx: FolioDb, target: LikeTarget) => (target === 'NOTE' ? collectionsOf(tx).notes : collectionsOf(tx).reviews);

/** Likes or unlikes (`now`: business time, from the service's clock); returns whether anything changed. Liking twice or unliking twice is a no-op. */
export async function setLike(store: UgcStore, target: LikeTarget, targetId: string, userId: string, liked: boolean, now: Date): Promise<boolean> {
  const _id = likeKey(target, targetId, userId);
  if (liked) {
    if (await store.likes.findOne({ _id })) return false;
    try {
      await store.db.transaction(async (tx) => {
        await collectionsOf(tx).likes.insertOne({ _id, target, targetId, userId, createdAt: now });
        await likedCollection(tx, target).updateOne({ _id: targetId }, { $inc: { likeCount: 1 } });
      });
      return true;
    } catch (error) {
      // A concurrent like won the race; the transaction (and its $inc) rolled back.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }
  return store.db.transaction(async (tx) => {
    const removed = await collectionsOf(tx).likes.deleteOne({ _id });
    if (removed.deletedCount !== 1) return false;
    await likedCollection(tx, target).updateOne({ _id: targetId }, { $inc: { likeCount: -1 } });
    return true;
  });
}

/** Which of these like keys exist (for `likedByMe`, batched). */
export async function existingLikes(store: UgcStore, keys: readonly string[]): Promise<Set<string>> {
  const docs = await store.likes.find({ _id: { $in: [...keys] } }, { projection: { _id: 1 } }).toArray();
  return new Set(docs.map((d) => d._id));
}

/** Removes every like of a deleted document (inside the delete's transaction). */
export async function deleteLikesOf(tx: FolioDb, target: LikeTarget, targetId: string): Promise<void> {
  await collectionsOf(tx).likes.deleteMany({ target, targetId });
}
