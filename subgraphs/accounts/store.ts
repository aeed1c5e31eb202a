/** The accounts database (`folio_accounts`): collections, their documents and indexes. */
import type { FolioDb } from '../../lib/storage/index.js';
import type { DocCollection } from '../../lib/storage/types.js';
import type { Role } from '../../lib/identity.js';

export interface UserDoc {
  _id: string;
  vid: number;
  /** Normalised (NFKC, lower case): the unique login name. */
  username: string;
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

/** Failed logins in the current window, per key (`user:<name>` or `addr:<ip>`). */
export interface LoginAttemptDoc {
  _id: string;
  failures: number;
  windowStart: Date;
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
  readonly loginAttempts: DocCollection<LoginAttemptDoc>;
  readonly apiKeys: DocCollection<ApiKeyDoc>;
  readonly trustedDocuments: DocCollection<TrustedDocumentDoc>;
}

export async function openAccountsStore(db: FolioDb): Promise<AccountsStore> {
  const store: AccountsStore = {
    db,
    users: db.collection<UserDoc>('users'),
    sessions: db.collection<SessionDoc>('sessions'),
    counters: db.collection<CounterDoc>('counters'),
    loginAttempts: db.collection<LoginAttemptDoc>('login_attempts'),
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    trustedDocuments: db.collection<TrustedDocumentDoc>('trusted_documents'),
  };
  await Promise.all([
    store.users.createIndex({ username: 1 }, { unique: true, name: 'username_unique' }),
    store.users.createIndex({ vid: 1 }, { unique: true, name: 'vid_unique' }),
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
