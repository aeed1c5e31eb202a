/**
 * The account system: registration, login, sessions, profiles, roles, partner API keys and the
 * trusted-document allow-list. Strongly consistent: every read and write goes to the database,
 * ids come from an atomic counter, nothing is cached per process. Knows nothing of GraphQL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../lib/clock.js';
import { badInput, FolioError, notFound, unauthenticated } from '../../lib/errors.js';
import type { CredentialCaller, Role } from '../../lib/identity.js';
import { isPartnerScope, PARTNER_SCOPES, scopesNeededByText, type ScopeNeeds } from '../../lib/scopes.js';
import { isDuplicateKeyError, ObjectId } from '../../lib/storage/index.js';
import type { Logger } from '../../lib/logger.js';
import { connectionOf, keyAfter, pageSize, type CountedConnection, type PageArgs } from '../../lib/pagination.js';
import { cleanText } from '../../lib/text.js';
import { check, httpUrl, int } from '../../lib/validation.js';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle, type LoginThrottleHooks, type LoginThrottleOptions } from './loginThrottle.js';
import { hashPassword, passwordWeakness, scryptParams, verifyPassword, type ScryptParams } from './passwords.js';
import { authorize, can, viewerId, type Viewer } from './policy.js';
import { nextSequence, type AccountsStore, type ApiKeyDoc, type SessionDoc, type TrustedDocumentDoc, type UserDoc } from './store.js';
import { normalizeUsername, USERNAME_LIMITS, usernameSkeleton, validateUsername } from './usernames.js';

export const LIMITS = {
  usernameMin: USERNAME_LIMITS.min,
  usernameMax: USERNAME_LIMITS.max,
  displayNameMax: 64,
  bioMax: 2_000,
  avatarUrlMax: 2_048,
  apiKeyNameMax: 100,
  scopesMax: 20,
  trustedDocumentMaxBytes: 20_000,
  trustedDocumentsMax: 1_000,
  usernamePrefixMax: 100,
} as const;

/** `users`' filter (SDL UserFilter). */
export interface UserFilter {
  readonly usernamePrefix?: string | null;
  readonly role?: Role | null;
}

const TOKEN_PREFIX = 'fst_';
const API_KEY_PREFIX = 'fpk_';

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

const taken = (): FolioError => new FolioError('CONFLICT', 'That username is taken.', { details: { field: 'username' } });
const lookAlike = (): FolioError =>
  new FolioError('CONFLICT', 'That username looks the same as an existing one (confusable characters); choose another.', { details: { field: 'username' } });

export interface RegisterInput {
  readonly username: string;
  readonly password: string;
  readonly displayName: string;
}

export interface SessionContext {
  readonly userAgent: string | null;
  readonly clientAddress: string;
}

export interface IssuedSession {
  readonly token: string;
  readonly expiresAt: Date;
  readonly user: UserDoc;
}

export interface ResolvedCaller {
  readonly caller: CredentialCaller;
  readonly rateLimit?: { readonly points: number; readonly durationSeconds: number };
}

export interface AccountServiceOptions {
  readonly sessionTtlMs: number;
  /** log2 of scrypt's N. @default 15 */
  readonly scryptLogN?: number;
  /** Sign-in and registration throttling (loginThrottle.ts). @default DEFAULT_LOGIN_THROTTLE */
  readonly throttle?: Partial<LoginThrottleOptions>;
  readonly logger: Logger;
  /** Counts password checks (scrypt comparisons) and throttle refusals, e.g. for Prometheus. */
  readonly observe?: LoginThrottleHooks & { readonly passwordChecked?: (outcome: 'match' | 'mismatch') => void };
  /** Business time: sessions' issue, expiry and revocation, timestamps (lib/clock.ts). @default systemClock */
  readonly now?: Clock;
}

export class AccountService {
  private readonly throttle: LoginThrottle;
  private readonly scrypt: ScryptParams;
  /** A hash of a random password, compared against when the user does not exist so timing looks the same. */
  private dummyHash: Promise<string> | undefined;
  private readonly now: Clock;

  constructor(
    private readonly store: AccountsStore,
    private readonly options: AccountServiceOptions,
  ) {
    this.now = options.now ?? systemClock;
    this.throttle = new LoginThrottle(store, { ...DEFAULT_LOGIN_THROTTLE, ...options.throttle }, options.observe);
    this.scrypt = scryptParams(options.scryptLogN ?? 15);
  }

  // ---- users -------------------------------------------------------------------------------

  async register(input: RegisterInput, context: SessionContext): Promise<IssuedSession> {
    const username = normalizeUsername(input.username);
    validateUsername(username);
    const skeleton = usernameSkeleton(username);
    const displayName = cleanText(input.displayName, 'displayName', { max: LIMITS.displayNameMax, singleLine: true });
    const weakness = passwordWeakness(input.password, username);
    if (weakness) throw badInput(weakness, 'password');
    await this.refuseTakenOrLookAlike(username, skeleton);
    // Reserved after the cheap checks and before the scrypt hash that makes registering costly.
    await this.throttle.beginRegistration(context.clientAddress);

    const user = await this.createUser({ username, displayName, password: input.password, roles: ['READER'] });
    if (!user) {
      // A racer won one of the unique indexes (the name itself or its skeleton) between the check and the insert.
      await this.refuseTakenOrLookAlike(username, skeleton);
      throw taken();
    }
    this.options.logger.info({ userId: user._id, vid: user.vid }, 'user registered');
    await this.throttle.remember(username, context.clientAddress);
    return this.issueSession(user, context);
  }

  private async refuseTakenOrLookAlike(username: string, skeleton: string): Promise<void> {
    if (await this.store.users.findOne({ username }, { projection: { _id: 1 } })) throw taken();
    if (await this.store.users.findOne({ $or: [{ usernameSkeleton: skeleton }, { usernameSkeletonClash: skeleton }] }, { projection: { _id: 1 } })) throw lookAlike();
  }

  async login(rawUsername: string, password: string, context: SessionContext): Promise<IssuedSession> {
    const username = normalizeUsername(rawUsername).slice(0, LIMITS.usernameMax * 2);
    if (password.length > 1_000) throw unauthenticated('Wrong username or password.');
    // Reserved before the user lookup and the hash: racing guesses cannot outnumber the budget.
    const attempt = await this.throttle.beginLogin(username, context.clientAddress);
    const user = await this.store.users.findOne({ username });
    // Unknown users cost a hash comparison too, so timing does not tell which usernames exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await (this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.scrypt))));
    this.options.observe?.passwordChecked?.(user && ok ? 'match' : 'mismatch');
    if (!user || !ok) {
      this.options.logger.info({ username, clientAddress: context.clientAddress }, 'login failed');
      throw unauthenticated('Wrong username or password.');
    }
    await attempt.succeeded();
    return this.issueSession(user, context);
  }

  /**
   * Gives every account from before look-alike checks its skeleton (run at start-up; idempotent).
   * Oldest first: when two existing names share a skeleton, the older keeps it and the newer is
   * marked as a grandfathered clash (it still signs in; nobody new can take a third look-alike).
   */
  async backfillUsernameSkeletons(): Promise<{ updated: number; clashes: number }> {
    let updated = 0;
    let clashes = 0;
    const cursor = this.store.users
      .find({ usernameSkeleton: { $exists: false }, usernameSkeletonClash: { $exists: false } }, { projection: { _id: 1, username: 1 } })
      .sort({ vid: 1 });
    for await (const user of cursor) {
      const skeleton = usernameSkeleton(user.username);
      try {
        await this.store.users.updateOne({ _id: user._id }, { $set: { usernameSkeleton: skeleton } });
        updated++;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        await this.store.users.updateOne({ _id: user._id }, { $set: { usernameSkeletonClash: skeleton } });
        clashes++;
        this.options.logger.warn({ userId: user._id, username: user.username }, 'existing username looks like an older one; kept, marked as a clash');
      }
    }
    return { updated, clashes };
  }

  async usersByIds(ids: readonly string[]): Promise<Map<string, UserDoc>> {
    const docs = await this.store.users.find({ _id: { $in: [...new Set(ids)] } }).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** The user's roles when the viewer may see them (the user, or an admin), else null. */
  visibleRoles(viewer: Viewer, user: UserDoc): Role[] | null {
    return can(viewer, 'user.readPrivate', user) ? user.roles : null;
  }

  /**
   * ADMIN: one page of users ordered by username (unique, so it is the cursor), optionally those
   * whose username starts with a prefix (normalised as usernames are) and who have a role.
   */
  async listUsers(viewer: Viewer, filter: UserFilter | null | undefined, page: PageArgs): Promise<CountedConnection<UserDoc>> {
    authorize(viewer, 'user.list', null);
    const size = pageSize(page.first);
    const after = keyAfter(page.after, 'string');
    const rawPrefix = filter?.usernamePrefix ?? '';
    if (rawPrefix.length > LIMITS.usernamePrefixMax) throw badInput(`usernamePrefix may be at most ${LIMITS.usernamePrefixMax} characters.`, 'filter.usernamePrefix');
    const prefix = normalizeUsername(rawPrefix.trim());
    const base: Record<string, unknown> = {};
    // A prefix is a range on the unique username index: [prefix, prefix + U+FFFF).
    if (prefix) base.username = { $gte: prefix, $lt: `${prefix}\uffff` };
    if (filter?.role) base.roles = filter.role;
    const pageFilter = after ? { ...base, username: { ...(prefix ? { $lt: `${prefix}\uffff` } : {}), $gt: after } } : base;
    const [docs, totalCount] = await Promise.all([
      this.store.users.find(pageFilter).sort({ username: 1 }).limit(size + 1).toArray(),
      this.store.users.countDocuments(base),
    ]);
    return connectionOf(docs, size, (u) => [u.username], totalCount);
  }

  async updateProfile(viewer: Viewer, input: { displayName?: string | null; bio?: string | null; avatarUrl?: string | null }): Promise<UserDoc> {
    authorize(viewer, 'user.updateOwnProfile', null);
    const userId = viewerId(viewer);
    const set: Partial<UserDoc> = { updatedAt: this.now() };
    if (input.displayName != null) set.displayName = cleanText(input.displayName, 'displayName', { max: LIMITS.displayNameMax, singleLine: true });
    if (input.bio !== undefined) set.bio = input.bio === null ? null : cleanText(input.bio, 'bio', { max: LIMITS.bioMax, min: 0 }) || null;
    if (input.avatarUrl !== undefined) set.avatarUrl = input.avatarUrl === null || input.avatarUrl === '' ? null : check(httpUrl(LIMITS.avatarUrlMax), input.avatarUrl, 'avatarUrl');
    const user = await this.store.users.findOneAndUpdate({ _id: userId }, { $set: set }, { returnDocument: 'after' });
    if (!user) throw notFound('User');
    return user;
  }

  async setRoles(viewer: Viewer, userId: string, roles: readonly Role[]): Promise<UserDoc> {
    authorize(viewer, 'user.setRoles', null);
    // `roles` are Role values: GraphQL validated the enum, the type keeps other callers honest.
    const unique = [...new Set(roles)];
    if (!unique.includes('READER')) unique.unshift('READER');
    if (userId === viewer.userId && !unique.includes('ADMIN')) throw badInput('Admins cannot remove their own ADMIN role.', 'roles');
    const user = await this.store.users.findOneAndUpdate({ _id: userId }, { $set: { roles: unique, updatedAt: this.now() } }, { returnDocument: 'after' });
    if (!user) throw notFound('User');
    this.options.logger.info({ by: viewer.userId, userId, roles: unique }, 'roles changed');
    return user;
  }

  /** Creates the configured first admin if absent, and makes sure it is an admin. */
  async ensureAdmin(username: string, password: string): Promise<UserDoc> {
    const name = normalizeUsername(username);
    const existing = await this.store.users.findOne({ username: name });
    if (existing) {
      if (!existing.roles.includes('ADMIN')) {
        await this.store.users.updateOne({ _id: existing._id }, { $set: { roles: ['READER', 'EDITOR', 'ADMIN'], updatedAt: this.now() } });
      }
      return existing;
    }
    const user = await this.createUser({ username: name, displayName: 'Administrator', password, roles: ['READER', 'EDITOR', 'ADMIN'] });
    return user ?? (await this.store.users.findOne({ username: name }))!;
  }

  /**
   * Inserts a new user with the next vid; null when the username is taken. The unique index
   * decides races: of any number of concurrent registrations for one name, exactly one wins.
   */
  private async createUser(input: { username: string; displayName: string; password: string; roles: Role[] }): Promise<UserDoc | null> {
    const passwordHash = await hashPassword(input.password, this.scrypt);
    const now = this.now();
    const user: UserDoc = {
      _id: new ObjectId().toHexString(),
      vid: await nextSequence(this.store.counters, 'users'),
      username: input.username,
      usernameSkeleton: usernameSkeleton(input.username),
      displayName: input.displayName,
      passwordHash,
      roles: input.roles,
      bio: null,
      avatarUrl: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.users.insertOne(user);
      return user;
    } catch (error) {
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
  }

  // ---- sessions ----------------------------------------------------------------------------

  private async issueSession(user: UserDoc, context: SessionContext): Promise<IssuedSession> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const now = this.now();
    const expiresAt = new Date(now.getTime() + this.options.sessionTtlMs);
    await this.store.sessions.insertOne({
      _id: new ObjectId().toHexString(),
      userId: user._id,
      tokenHash: sha256(token),
      createdAt: now,
      lastUsedAt: now,
      expiresAt,
      revokedAt: null,
      userAgent: context.userAgent?.slice(0, 300) ?? null,
      clientAddress: context.clientAddress.slice(0, 100),
    });
    return { token, expiresAt, user };
  }

  async listSessions(viewer: Viewer): Promise<SessionDoc[]> {
    authorize(viewer, 'session.manageOwn', null);
    return this.activeSessions(viewerId(viewer));
  }

  /** ADMIN: a user's active sessions. */
  async listSessionsOf(viewer: Viewer, userId: string): Promise<SessionDoc[]> {
    authorize(viewer, 'session.listAny', null);
    return this.activeSessions(userId);
  }

  /** A user's active sessions, most recently used first (at most 100). */
  private activeSessions(userId: string): Promise<SessionDoc[]> {
    return this.store.sessions
      .find({ userId, revokedAt: null, expiresAt: { $gt: this.now() } })
      .sort({ lastUsedAt: -1 })
      .limit(100)
      .toArray();
  }

  async revokeSession(viewer: Viewer, sessionId: string): Promise<boolean> {
    authorize(viewer, 'session.manageOwn', null);
    const session = await this.store.sessions.findOne({ _id: sessionId, revokedAt: null }, { projection: { userId: 1 } });
    authorize(viewer, 'session.revoke', session);
    // The owner the policy allowed is in the filter too, so the write touches only that session.
    const result = await this.store.sessions.updateOne({ _id: sessionId, userId: session!.userId, revokedAt: null }, { $set: { revokedAt: this.now() } });
    if (result.matchedCount === 0) throw notFound('Session');
    return true;
  }

  async logout(viewer: Viewer): Promise<boolean> {
    authorize(viewer, 'session.manageOwn', null);
    if (!viewer.sessionId) return false;
    return this.revokeSession(viewer, viewer.sessionId);
  }

  async logoutEverywhere(viewer: Viewer): Promise<number> {
    authorize(viewer, 'session.manageOwn', null);
    const userId = viewerId(viewer);
    const result = await this.store.sessions.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: this.now() } });
    return result.modifiedCount;
  }

  /** Resolves a bearer token or a partner API key for the gateway. Returns null when invalid. */
  async resolveCredential(credential: { token?: string; apiKey?: string }): Promise<ResolvedCaller | null> {
    if (credential.token) return this.resolveToken(credential.token);
    if (credential.apiKey) return this.resolveApiKey(credential.apiKey);
    return null;
  }

  private async resolveToken(token: string): Promise<ResolvedCaller | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
    const now = this.now();
    const session = await this.store.sessions.findOne({ tokenHash: sha256(token) });
    if (!session || session.revokedAt || session.expiresAt <= now) return null;
    const user = await this.store.users.findOne({ _id: session.userId }, { projection: { roles: 1 } });
    if (!user) return null;
    // lastUsedAt is informational; a minute's resolution keeps token checks from writing on every request.
    if (now.getTime() - session.lastUsedAt.getTime() > 60_000) {
      await this.store.sessions.updateOne({ _id: session._id }, { $set: { lastUsedAt: now } });
    }
    return { caller: { userId: session.userId, roles: user.roles, sessionId: session._id, partnerId: null, scopes: [] } };
  }

  private async resolveApiKey(key: string): Promise<ResolvedCaller | null> {
    if (!key.startsWith(API_KEY_PREFIX) || key.length > 200) return null;
    const doc = await this.store.apiKeys.findOne({ keyHash: sha256(key) });
    if (!doc || doc.revokedAt) return null;
    return {
      caller: { userId: null, roles: [], sessionId: null, partnerId: doc._id, scopes: doc.scopes },
      rateLimit: { points: doc.rateLimitPerMinute, durationSeconds: 60 },
    };
  }

  // ---- partners ----------------------------------------------------------------------------

  async createApiKey(viewer: Viewer, input: { name: string; scopes: readonly string[]; rateLimitPerMinute?: number | null }): Promise<{ key: string; doc: ApiKeyDoc }> {
    authorize(viewer, 'apiKey.manage', null);
    const name = cleanText(input.name, 'name', { max: LIMITS.apiKeyNameMax, singleLine: true });
    if (input.scopes.length > LIMITS.scopesMax) throw badInput(`At most ${LIMITS.scopesMax} scopes.`, 'scopes');
    const scopes = [...new Set(input.scopes.map((s) => s.trim()))];
    const unknown = scopes.filter((s) => !isPartnerScope(s));
    if (unknown.length > 0) throw badInput(`Unknown scope ${unknown.map((s) => JSON.stringify(s.slice(0, 64))).join(', ')}; scopes are ${Object.keys(PARTNER_SCOPES).join(', ')}.`, 'scopes');
    const rateLimitPerMinute = check(int(1, 1_000_000), input.rateLimitPerMinute ?? 600, 'rateLimitPerMinute');
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const doc: ApiKeyDoc = {
      _id: new ObjectId().toHexString(),
      name,
      prefix: key.slice(0, 10),
      keyHash: sha256(key),
      scopes,
      rateLimitPerMinute,
      createdBy: viewerId(viewer),
      createdAt: this.now(),
      revokedAt: null,
    };
    await this.store.apiKeys.insertOne(doc);
    this.options.logger.info({ by: viewer.userId, apiKeyId: doc._id, name }, 'api key created');
    return { key, doc };
  }

  async revokeApiKey(viewer: Viewer, id: string): Promise<ApiKeyDoc> {
    authorize(viewer, 'apiKey.manage', null);
    const doc = await this.store.apiKeys.findOneAndUpdate({ _id: id }, { $set: { revokedAt: this.now() } }, { returnDocument: 'after' });
    if (!doc) throw notFound('API key');
    this.options.logger.info({ by: viewer.userId, apiKeyId: id }, 'api key revoked');
    return doc;
  }

  /** The scopes a key can have (lib/scopes.ts), for the admin choosing them. */
  partnerScopes(viewer: Viewer): Array<{ name: string; description: string }> {
    authorize(viewer, 'apiKey.manage', null);
    return Object.entries(PARTNER_SCOPES).map(([name, description]) => ({ name, description }));
  }

  async listApiKeys(viewer: Viewer): Promise<ApiKeyDoc[]> {
    authorize(viewer, 'apiKey.manage', null);
    return this.store.apiKeys.find({}).sort({ createdAt: -1 }).limit(1_000).toArray();
  }

  async registerTrustedDocument(caller: Viewer, input: { body: string; clientName?: string | null }): Promise<TrustedDocumentDoc> {
    authorize(caller, 'trustedDocument.manage', null);
    if (Buffer.byteLength(input.body) > LIMITS.trustedDocumentMaxBytes) {
      throw badInput(`A trusted document may be at most ${LIMITS.trustedDocumentMaxBytes} bytes.`, 'body');
    }
    let needs: ScopeNeeds;
    try {
      needs = scopesNeededByText(input.body);
    } catch (error) {
      throw badInput(`The document is not valid GraphQL: ${(error as Error).message}`, 'body');
    }
    // Partners are who trusted documents are for: one no key could run is a mistake, refused now.
    const { unavailable } = needs;
    if (unavailable.length > 0) throw badInput(`No partner key can run ${unavailable.join(', ')}: refused as a trusted document.`, 'body');
    if ((await this.store.trustedDocuments.countDocuments({})) >= LIMITS.trustedDocumentsMax) {
      throw new FolioError('CONFLICT', `The allow-list is full (${LIMITS.trustedDocumentsMax} documents).`);
    }
    const doc: TrustedDocumentDoc = {
      _id: sha256(input.body),
      body: input.body,
      clientName: input.clientName ? cleanText(input.clientName, 'clientName', { max: LIMITS.apiKeyNameMax, singleLine: true }) : null,
      createdBy: caller.userId!,
      createdAt: this.now(),
    };
    // The filter supplies _id on insert; repeating it in $setOnInsert is refused by the embedded engine.
    const { _id, ...fields } = doc;
    await this.store.trustedDocuments.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true });
    return (await this.store.trustedDocuments.findOne({ _id: doc._id }))!;
  }

  async removeTrustedDocument(caller: Viewer, id: string): Promise<boolean> {
    authorize(caller, 'trustedDocument.manage', null);
    return (await this.store.trustedDocuments.deleteOne({ _id: id })).deletedCount > 0;
  }

  /** Without a viewer: the gateway's signed internal read (routes.ts), which no client reaches. */
  async listTrustedDocuments(caller?: Viewer): Promise<TrustedDocumentDoc[]> {
    if (caller) authorize(caller, 'trustedDocument.manage', null);
    return this.store.trustedDocuments.find({}).sort({ createdAt: 1 }).limit(LIMITS.trustedDocumentsMax).toArray();
  }
}

/** The scopes a partner key needs to run every operation of a trusted document (lib/scopes.ts). */
export function requiredScopes(body: string): readonly string[] {
  return scopesNeededByText(body).scopes;
}
