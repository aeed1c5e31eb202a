/**
 * Who sees what of recommendations (search's rules for them; the readable check itself is
 * search's, through catalog's `POST /internal/access`):
 * - a reader's recommendations and settings are theirs alone: null for anyone else, never an
 *   error that would confirm the account exists;
 * - dismissing and switching personalisation need a signed-in user (not a partner key);
 * - a recommended book, and every book a reason names, shows only when catalog would show that
 *   book to the viewer;
 * - co-reading is an aggregate over at least k readers (`MIN_READERS`, the same k as popular
 *   highlights) of non-secret shelf entries only (enforced where it is counted, feed.ts, and
 *   where it is read, model.ts/scoring.ts).
 */
import { requireUser, type Caller } from '../../../lib/identity.js';

export type RecommendationSubject =
  | { readonly type: 'OwnRecommendations'; readonly ownerId: string }
  | { readonly type: 'RecommendedBook'; readonly bookReadable: boolean };

export function can(viewer: Caller, subject: RecommendationSubject): boolean {
  switch (subject.type) {
    case 'OwnRecommendations':
      return viewer.userId !== null && viewer.partnerId === null && viewer.userId === subject.ownerId;
    case 'RecommendedBook':
      return subject.bookReadable;
  }
}

/** The signed-in user's id (a partner or anonymous caller is UNAUTHENTICATED). */
export const requireReader = (viewer: Caller): string => requireUser(viewer);
