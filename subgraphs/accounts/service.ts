/**
 * The account system: registration, login, sessions, profiles, roles, partner API keys and the
 * trusted-document allow-list. Strongly consistent: every read and write goes to the database,
 * ids come from an atomic counter, nothing is cached per process. Knows nothing of GraphQL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { parse } from 'graphql';
import { badInput, conflict, FolioError, notFound, unauthenticated } from '../../lib/errors.js';
import { requireRole, requireUser, ROLES, type Caller, type CredentialCaller, type Role } from '../../lib/identity.js';
import { isPartnerScope, PARTNER_SCOPES, scopesNeeded } from '../../lib/scopes.js';
import { isDuplicateKeyError } from '../../lib/storage/index.js';
import type { Logger } from '../../lib/logger.js';
import { LoginThrottle } from './loginThrottle.js';
import { hashPassword, passwordWeakness, scryptParams, verifyPassword, type ScryptParams } from './passwords.js';
import { nextSequence, type AccountsStore, type ApiKeyDoc, type SessionDoc, type TrustedDocumentDoc, type UserDoc } from './store.js';

export const LIMITS = {
  usernameMin: 3,
  usernameMax: 32,
  displayNameMax: 64,
  bioMax: 2_000,
  avatarUrlMax: 2_048,
  apiKeyNameMax: 100,
  scopesMax: 20,
  trustedDocumentMaxBytes: 20_000,
  trustedDocumentsMax: 1_000,
} as const;

const TOKEN_PREFIX = 'fst_';
const API_KEY_PREFIX = 'fpk_';

export const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/** NFKC + lower case, so "Alice", "ＡＬＩＣＥ" and "alice" are one account. */
export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}

export function validateUsername(username: string): void {
  if (username.length < LIMITS.usernameMin || username.length > LIMITS.usernameMax) {
    throw badInput(`Username must be ${LIMITS.usernameMin}–${LIMITS.usernameMax} characters.`, 'username');
  }
  if (!/^[\p{L}\p{N}][\p{L}\p{N}._-]*$/u.test(username)) {
    throw badInput('Username may contain letters, digits, ".", "_" and "-", and must start with a letter or digit.', 'username');
  }
}

function cleanText(value: string, field: string, max: number, { allowEmpty = false } = {}): string {
  const text = value.normalize('NFC').trim();
  if (!allowEmpty && text.length === 0) throw badInput(`${field} must not be empty.`, field);
  if (text.length > max) throw badInput(`${field} must be at most ${max} characters.`, field);
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/.test(text)) throw badInput(`${field} contains control characters.`, field);
  return text;
}

function cleanUrl(value: string, field: string): string {
  const text = cleanText(value, field, LIMITS.avatarUrlMax);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badInput(`${field} must be an absolute URL.`, field);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput(`${field} must be an http(s) URL.`, field);
  return url.toString();
}

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
  readonly logger: Logger;
}

export class AccountService {
  private readonly throttle: LoginThrottle;
  private readonly scrypt: ScryptParams;
  /** A hash of a random password, compared against when the user does not exist so timing looks the same. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly store: AccountsStore,
    private readonly options: AccountServiceOptions,
  ) {
    this.throttle = new LoginThrottle(store.loginAttempts);
    this.scrypt = scryptParams(options.scryptLogN ?? 15);
  }

  // ---- users -------------------------------------------------------------------------------

  async register(input: RegisterInput, context: SessionContext): Promise<IssuedSession> {
    const username = normalizeUsername(input.username);
    validateUsername(username);
    const displayName = cleanText(input.displayName, 'displayName', LIMITS.displayNameMax);
    const weakness = passwordWeakness(input.password, username);
    if (weakness) throw badInput(weakness, 'password');
    if (await this.store.users.findOne({ username }, { projection: { _id: 1 } })) throw conflict('That username is taken.');

    const user = await this.createUser({ username, displayName, password: input.password, roles: ['READER'] });
    if (!user) throw conflict('That username is taken.');
    this.options.logger.info({ userId: user._id, vid: user.vid }, 'user registered');
    return this.issueSession(user, context);
  }

  async login(rawUsername: string, password: string, context: SessionContext): Promise<IssuedSession> {
    const username = normalizeUsername(rawUsername).slice(0, LIMITS.usernameMax * 2);
    if (password.length > 1_000) throw unauthenticated('Wrong username or password.');
    await this.throttle.check(username, context.clientAddress);
    const user = await this.store.users.findOne({ username });
    // Unknown users cost a hash comparison too, so timing does not tell which usernames exist.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await (this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.scrypt))));
    if (!user || !ok) {
      await this.throttle.recordFailure(username, context.clientAddress);
      this.options.logger.info({ username, clientAddress: context.clientAddress }, 'login failed');
      throw unauthenticated('Wrong username or password.');
    }
    await this.throttle.recordSuccess(username);
    return this.issueSession(user, context);
  }

  async usersByIds(ids: readonly string[]): Promise<Map<string, UserDoc>> {
    const docs = await this.store.users.find({ _id: { $in: [...new Set(ids)] } }).toArray();
    return new Map(docs.map((d) => [d._id, d]));
  }

  async updateProfile(caller: Caller, input: { displayName?: string | null; bio?: string | null; avatarUrl?: string | null }): Promise<UserDoc> {
    const userId = requireUser(caller);
    const set: Partial<UserDoc> = { updatedAt: new Date() };
    if (input.displayName != null) set.displayName = cleanText(input.displayName, 'displayName', LIMITS.displayNameMax);
    if (input.bio !== undefined) set.bio = input.bio === null ? null : cleanText(input.bio, 'bio', LIMITS.bioMax, { allowEmpty: true }) || null;
    if (input.avatarUrl !== undefined) set.avatarUrl = input.avatarUrl === null || input.avatarUrl === '' ? null : cleanUrl(input.avatarUrl, 'avatarUrl');
    const user = await this.store.users.findOneAndUpdate({ _id: userId }, { $set: set }, { returnDocument: 'after' });
    if (!user) throw notFound('User');
    return user;
  }

  async setRoles(caller: Caller, userId: string, roles: readonly Role[]): Promise<UserDoc> {
    requireAdmin(caller);
    const unique = [...new Set(roles)].filter((r) => (ROLES as readonly string[]).includes(r));
    if (!unique.includes('READER')) unique.unshift('READER');
    if (userId === caller.userId && !unique.includes('ADMIN')) throw badInput('Admins cannot remove their own ADMIN role.', 'roles');
    const user = await this.store.users.findOneAndUpdate({ _id: userId }, { $set: { roles: unique, updatedAt: new Date() } }, { returnDocument: 'after' });
    if (!user) throw notFound('User');
    this.options.logger.info({ by: caller.userId, userId, roles: unique }, 'roles changed');
    return user;
  }

  /** Creates the configured first admin if absent, and makes sure it is an admin. */
  async ensureAdmin(username: string, password: string): Promise<UserDoc> {
    const name = normalizeUsername(username);
    const existing = await this.store.users.findOne({ username: name });
    if (existing) {
      if (!existing.roles.includes('ADMIN')) {
        await this.store.users.updateOne({ _id: existing._id }, { $set: { roles: ['READER', 'EDITOR', 'ADMIN'], updatedAt: new Date() } });
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
    const now = new Date();
    const user: UserDoc = {
      _id: new ObjectId().toHexString(),
      vid: await nextSequence(this.store.counters, 'users'),
      username: input.username,
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
    const now = new Date();
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

  async listSessions(caller: Caller): Promise<SessionDoc[]> {
    const userId = requireUser(caller);
    return this.store.sessions
      .find({ userId, revokedAt: null, expiresAt: { $gt: new Date() } })
      .sort({ lastUsedAt: -1 })
      .limit(100)
      .toArray();
  }

  async revokeSession(caller: Caller, sessionId: string): Promise<boolean> {
    const userId = requireUser(caller);
    const result = await this.store.sessions.updateOne({ _id: sessionId, userId, revokedAt: null }, { $set: { revokedAt: new Date() } });
    if (result.matchedCount === 0) throw notFound('Session');
    return true;
  }

  async logout(caller: Caller): Promise<boolean> {
    requireUser(caller);
    if (!caller.sessionId) return false;
    return this.revokeSession(caller, caller.sessionId);
  }

  async logoutEverywhere(caller: Caller): Promise<number> {
    const userId = requireUser(caller);
    const result = await this.store.sessions.updateMany({ userId, revokedAt: null }, { $set: { revokedAt: new Date() } });
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
    const now = new Date();
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

  async createApiKey(caller: Caller, input: { name: string; scopes: readonly string[]; rateLimitPerMinute?: number | null }): Promise<{ key: string; doc: ApiKeyDoc }> {
    requireAdmin(caller);
    const name = cleanText(input.name, 'name', LIMITS.apiKeyNameMax);
    if (input.scopes.length > LIMITS.scopesMax) throw badInput(`At most ${LIMITS.scopesMax} scopes.`, 'scopes');
    const scopes = [...new Set(input.scopes.map((s) => s.trim()))];
    const unknown = scopes.filter((s) => !isPartnerScope(s));
    if (unknown.length > 0) throw badInput(`Unknown scope ${unknown.map((s) => JSON.stringify(s.slice(0, 64))).join(', ')}; scopes are ${Object.keys(PARTNER_SCOPES).join(', ')}.`, 'scopes');
    const rateLimitPerMinute = input.rateLimitPerMinute ?? 600;
    if (!Number.isInteger(rateLimitPerMinute) || rateLimitPerMinute < 1 || rateLimitPerMinute > 1_000_000) {
      throw badInput('rateLimitPerMinute must be between 1 and 1,000,000.', 'rateLimitPerMinute');
    }
    const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
    const doc: ApiKeyDoc = {
      _id: new ObjectId().toHexString(),
      name,
      prefix: key.slice(0, 10),
      keyHash: sha256(key),
      scopes,
      rateLimitPerMinute,
      createdBy: caller.userId!,
      createdAt: new Date(),
      revokedAt: null,
    };
    await this.store.apiKeys.insertOne(doc);
    this.options.logger.info({ by: caller.userId, apiKeyId: doc._id, name }, 'api key created');
    return { key, doc };
  }

  async revokeApiKey(caller: Caller, id: string): Promise<ApiKeyDoc> {
    requireAdmin(caller);
    const doc = await this.store.apiKeys.findOneAndUpdate({ _id: id }, { $set: { revokedAt: new Date() } }, { returnDocument: 'after' });
    if (!doc) throw notFound('API key');
    this.options.logger.info({ by: caller.userId, apiKeyId: id }, 'api key revoked');
    return doc;
  }

  async listApiKeys(caller: Caller): Promise<ApiKeyDoc[]> {
    requireAdmin(caller);
    return this.store.apiKeys.find({}).sort({ createdAt: -1 }).limit(1_000).toArray();
  }

  async registerTrustedDocument(caller: Caller, input: { body: string; clientName?: string | null }): Promise<TrustedDocumentDoc> {
    requireAdmin(caller);
    if (Buffer.byteLength(input.body) > LIMITS.trustedDocumentMaxBytes) {
      throw badInput(`A trusted document may be at most ${LIMITS.trustedDocumentMaxBytes} bytes.`, 'body');
    }
    let document;
    try {
      document = parse(input.body);
    } catch (error) {
      throw badInput(`The document is not valid GraphQL: ${(error as Error).message}`, 'body');
    }
    // Partners are who trusted documents are for: one no key could run is a mistake, refused now.
    const { unavailable } = scopesNeeded(document);
    if (unavailable.length > 0) throw badInput(`No partner key can run ${unavailable.join(', ')}: refused as a trusted document.`, 'body');
    if ((await this.store.trustedDocuments.countDocuments({})) >= LIMITS.trustedDocumentsMax) {
      throw new FolioError('CONFLICT', `The allow-list is full (${LIMITS.trustedDocumentsMax} documents).`);
    }
    const doc: TrustedDocumentDoc = {
      _id: sha256(input.body),
      body: input.body,
      clientName: input.clientName ? cleanText(input.clientName, 'clientName', LIMITS.apiKeyNameMax) : null,
      createdBy: caller.userId!,
      createdAt: new Date(),
    };
    // The filter supplies _id on insert; repeating it in $setOnInsert is refused by the embedded engine.
    const { _id, ...fields } = doc;
    await this.store.trustedDocuments.updateOne({ _id }, { $setOnInsert: fields }, { upsert: true });
    return (await this.store.trustedDocuments.findOne({ _id: doc._id }))!;
  }

  async removeTrustedDocument(caller: Caller, id: string): Promise<boolean> {
    requireAdmin(caller);
    return (await this.store.trustedDocuments.deleteOne({ _id: id })).deletedCount > 0;
  }

  async listTrustedDocuments(caller?: Caller): Promise<TrustedDocumentDoc[]> {
    if (caller) requireAdmin(caller);
    return this.store.trustedDocuments.find({}).sort({ createdAt: 1 }).limit(LIMITS.trustedDocumentsMax).toArray();
  }
}

/** The scopes a partner key needs to run every operation of a trusted document (lib/scopes.ts). */
export function requiredScopes(body: string): readonly string[] {
  return scopesNeeded(parse(body)).scopes;
}

function requireAdmin(caller: Caller): void {
  requireRole(caller, 'ADMIN');
}
