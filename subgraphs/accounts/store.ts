/** The accounts database (`folio_accounts`): collections, their documents and indexes. */
import { randomUUID } from 'node:crypto';
import type { FolioDb } from '../../lib/storage/index.js';
import type { DocCollection } from '../../lib/storage/types.js';
import type { Role } from '../../lib/identity.js';

export interface UserDoc {
  _id: string;
  vid: number;
  /** Normalised (NFKC, lower case): the unique login name. */
  username: string;
  /**
   * UTS #39 skeleton of `username` (usernames.ts), unique: two names that look alike have one
   * skeleton, so the index refuses a look-alike even when two registrations race. Absent on
   * accounts from before skeletons until the start-up backfill gives them one.
   */
  usernameSkeleton?: string;
  /** Set instead of `usernameSkeleton` on an older account whose skeleton another, older account already holds. */
  usernameSkeletonClash?: string;
  displayName: string;
  passwordHash: string;
  roles: Role[];
  bio: string | null;
  avatarUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionDoc {
  _id: string;
  userId: string;
  /** SHA-256 of the bearer token; the token itself is never stored. */
  tokenHash: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  userAgent: string | null;
  clientAddress: string | null;
}

export interface CounterDoc {
  _id: string;
  seq: number;
}

/**
 * One throttle counter (loginThrottle.ts): a fixed-window budget (`pair:`, `addr:`, `reg:` keys)
 * or a username's backoff (`user:` keys). Times are epoch milliseconds so that the atomic
 * pipeline updates below compare and add plain numbers on both storage backends.
 */
export interface ThrottleDoc {
  _id: string;
  /** Attempts taken in the current window (budget) or in the current run of failures (backoff). */
  count: number;
  /** When the window started (budget) or when the latest attempt was let through (backoff). */
  since: number;
  /** Backoff only: no attempt is let through before this. */
  nextAt?: number;
  /** Set by the request whose update took the latest point: how a racer learns whether it won. */
  token?: string;
}

/** An address from which a username signed in or registered: its owner's usual place. */
export interface KnownAddressDoc {
  /** JSON `[username, address]`. */
  _id: string;
  lastSuccessAt: number;
}

export interface ApiKeyDoc {
  _id: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: string[];
  rateLimitPerMinute: number;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface TrustedDocumentDoc {
  /** SHA-256 (hex) of the body. */
  _id: string;
  body: string;
  clientName: string | null;
  createdBy: string;
  createdAt: Date;
}

export interface AccountsStore {
  readonly db: FolioDb;
  readonly users: DocCollection<UserDoc>;
  readonly sessions: DocCollection<SessionDoc>;
  readonly counters: DocCollection<CounterDoc>;
  readonly throttle: DocCollection<ThrottleDoc>;
  readonly knownAddresses: DocCollection<KnownAddressDoc>;
  readonly apiKeys: DocCollection<ApiKeyDoc>;
  readonly trustedDocuments: DocCollection<TrustedDocumentDoc>;
}

export async function openAccountsStore(db: FolioDb): Promise<AccountsStore> {
  const store: AccountsStore = {
    db,
    users: db.collection<UserDoc>('users'),
    sessions: db.collection<SessionDoc>('sessions'),
    counters: db.collection<CounterDoc>('counters'),
    // `login_attempts` (the old non-atomic counters) is no longer read; its documents are harmless.
    throttle: db.collection<ThrottleDoc>('throttle_counters'),
    knownAddresses: db.collection<KnownAddressDoc>('login_known_addresses'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    trustedDocuments: db.collection<TrustedDocumentDoc>('trusted_documents'),
  };
  await Promise.all([
    store.users.createIndex({ username: 1 }, { unique: true, name: 'username_unique' }),
    store.users.createIndex({ vid: 1 }, { unique: true, name: 'vid_unique' }),
    // Sparse: accounts from before skeletons (and grandfathered clashes) have none.
    store.users.createIndex({ usernameSkeleton: 1 }, { unique: true, sparse: true, name: 'username_skeleton_unique' }),
    store.sessions.createIndex({ tokenHash: 1 }, { unique: true, name: 'token_hash_unique' }),
    store.sessions.createIndex({ userId: 1, expiresAt: -1 }, { name: 'user_sessions' }),
    store.apiKeys.createIndex({ keyHash: 1 }, { unique: true, name: 'key_hash_unique' }),
  ]);
  return store;
}

/** Atomically allocates the next number of a sequence: strongly consistent, no per-process blocks. */
export async function nextSequence(counters: DocCollection<CounterDoc>, name: string): Promise<number> {
  const doc = await counters.findOneAndUpdate({ _id: name }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' });
  if (!doc) throw new Error(`sequence ${name} did not return a value`);
  return doc.seq;
}

export interface BudgetRule {
  readonly limit: number;
  readonly windowMs: number;
}

export interface BackoffRule {
  /** Attempts let through without delay in a run. */
  readonly free: number;
  /** Delay after the first attempt beyond `free`; doubles with each further attempt. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** A run of attempts ends (the count starts over) after this long without one. */
  readonly resetAfterMs: number;
}

/** What a take did: `taken` when this request got the point; the document as it now is. */
export interface Take {
  readonly taken: boolean;
  readonly doc: ThrottleDoc;
}

// `since` is 0 on a new document, so a new key is always a fresh window.
const since = { $ifNull: ['$since', 0] };

/**
 * Takes one attempt from a fixed-window budget, atomically: one pipeline update decides "window
 * over → start again", "under the limit → count it" or "over → change nothing", so of any number
 * of racing requests exactly `limit` get through. Nothing is read first (reading then writing is
 * how 20 parallel guesses all got checked against a limit of 5).
 */
export async function takeFromBudget(coll: DocCollection<ThrottleDoc>, key: string, rule: BudgetRule, now: number): Promise<Take> {
  const token = randomUUID();
  const fresh = { $lte: [since, now - rule.windowMs] };
  const count = { $cond: [fresh, 0, { $ifNull: ['$count', 0] }] };
  const open = { $lt: [count, rule.limit] };
  const doc = await coll.findOneAndUpdate(
    { _id: key },
    [
      {
        $set: {
          count: { $cond: [open, { $add: [count, 1] }, count] },
          since: { $cond: [fresh, now, '$since'] },
          token: { $cond: [open, { $literal: token }, { $ifNull: ['$token', ''] }] },
        },
      },
    ],
    { upsert: true, returnDocument: 'after' },
  );
  if (!doc) throw new Error(`throttle counter ${key} did not return a document`);
  return { taken: doc.token === token, doc };
}

/**
 * Takes the next attempt slot of an exponential backoff, atomically: a slot is open when the run
 * is over or `nextAt` has passed; taking it counts the attempt and moves `nextAt` by
 * min(maxDelay, baseDelay × 2^(count − free − 1)) once `count` exceeds `free`.
 */
export async function takeBackoffSlot(coll: DocCollection<ThrottleDoc>, key: string, rule: BackoffRule, now: number): Promise<Take> {
  const token = randomUUID();
  const fresh = { $lte: [since, now - rule.resetAfterMs] };
  const count = { $cond: [fresh, 0, { $ifNull: ['$count', 0] }] };
  const open = { $or: [fresh, { $lte: [{ $ifNull: ['$nextAt', 0] }, now] }] };
  const next = { $add: [count, 1] };
  const delay = {
    $cond: [{ $lte: [next, rule.free] }, 0, { $min: [rule.maxDelayMs, { $multiply: [rule.baseDelayMs, { $pow: [2, { $subtract: [next, rule.free + 1] }] }] }] }],
  };
  const doc = await coll.findOneAndUpdate(
    { _id: key },
    [
      {
        $set: {
          count: { $cond: [open, next, count] },
          since: { $cond: [open, now, '$since'] },
          nextAt: { $cond: [open, { $add: [now, delay] }, '$nextAt'] },
          token: { $cond: [open, { $literal: token }, { $ifNull: ['$token', ''] }] },
        },
      },
    ],
    { upsert: true, returnDocument: 'after' },
  );
  if (!doc) throw new Error(`throttle counter ${key} did not return a document`);
  return { taken: doc.token === token, doc };
}

/** Gives back an attempt taken from a budget (it was no failure), unless its window has started over since. */
export async function giveBackToBudget(coll: DocCollection<ThrottleDoc>, take: Take): Promise<void> {
  await coll.updateOne({ _id: take.doc._id, since: take.doc.since, count: { $gt: 0 } }, { $inc: { count: -1 } });
}

/** Gives back an attempt counted in a backoff run; the delay it set stands (the slot was used). */
export async function giveBackToBackoff(coll: DocCollection<ThrottleDoc>, take: Take): Promise<void> {
  await coll.updateOne({ _id: take.doc._id, count: { $gt: 0 } }, { $inc: { count: -1 } });
}
