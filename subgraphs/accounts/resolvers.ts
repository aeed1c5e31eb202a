/** Thin resolvers: read arguments, call the service, shape the result. */
import { hasRole, type Caller, type Role } from '../../lib/identity.js';
import type { ResolverMap } from '../../lib/subgraphServer.js';
import { DateTime } from '../../lib/scalars.js';
import type { AccountsLoaders } from './loaders.js';
import { requiredScopes, type AccountService, type IssuedSession } from './service.js';
import type { ApiKeyDoc, SessionDoc, TrustedDocumentDoc, UserDoc } from './store.js';

export interface AccountsContext {
  readonly caller: Caller;
  readonly userAgent: string | null;
  readonly service: AccountService;
  readonly loaders: AccountsLoaders;
  /** Users who proved who they are in this very request (register, login): they may see their own private fields. */
  readonly authenticatedUserIds: Set<string>;
}

function authPayload(ctx: AccountsContext, issued: IssuedSession) {
  ctx.authenticatedUserIds.add(issued.user._id);
  return { token: issued.token, expiresAt: issued.expiresAt, user: issued.user };
}

const isSelfOrAdmin = (user: UserDoc, ctx: AccountsContext): boolean =>
  ctx.caller.userId === user._id || ctx.authenticatedUserIds.has(user._id) || hasRole(ctx.caller, 'ADMIN');

export const resolvers: ResolverMap = {
  DateTime,
  Query: {
    me: (_: unknown, __: unknown, { caller, loaders }: AccountsContext) => (caller.userId ? loaders.user.load(caller.userId) : null),
    user: (_: unknown, { id }: { id: string }, { loaders }: AccountsContext) => loaders.user.load(id),
    mySessions: (_: unknown, __: unknown, { caller, service }: AccountsContext) => service.listSessions(caller),
    apiKeys: (_: unknown, __: unknown, { caller, service }: AccountsContext) => service.listApiKeys(caller),
    trustedDocuments: (_: unknown, __: unknown, { caller, service }: AccountsContext) => service.listTrustedDocuments(caller),
  },
  Mutation: {
    register: async (_: unknown, { input }: { input: { username: string; password: string; displayName: string } }, ctx: AccountsContext) =>
      authPayload(ctx, await ctx.service.register(input, { userAgent: ctx.userAgent, clientAddress: ctx.caller.clientAddress })),
    login: async (_: unknown, args: { username: string; password: string }, ctx: AccountsContext) =>
      authPayload(ctx, await ctx.service.login(args.username, args.password, { userAgent: ctx.userAgent, clientAddress: ctx.caller.clientAddress })),
    logout: (_: unknown, __: unknown, { caller, service }: AccountsContext) => service.logout(caller),
    logoutEverywhere: (_: unknown, __: unknown, { caller, service }: AccountsContext) => service.logoutEverywhere(caller),
    revokeSession: (_: unknown, { id }: { id: string }, { caller, service }: AccountsContext) => service.revokeSession(caller, id),
    updateProfile: (_: unknown, { input }: { input: { displayName?: string | null; bio?: string | null; avatarUrl?: string | null } }, { caller, service }: AccountsContext) =>
      service.updateProfile(caller, input),
    setUserRoles: (_: unknown, args: { userId: string; roles: Role[] }, { caller, service }: AccountsContext) => service.setRoles(caller, args.userId, args.roles),
    createApiKey: async (_: unknown, { input }: { input: { name: string; scopes: string[]; rateLimitPerMinute?: number | null } }, { caller, service }: AccountsContext) => {
      const { key, doc } = await service.createApiKey(caller, input);
      return { key, apiKey: doc };
    },
    revokeApiKey: (_: unknown, { id }: { id: string }, { caller, service }: AccountsContext) => service.revokeApiKey(caller, id),
    registerTrustedDocument: (_: unknown, { input }: { input: { body: string; clientName?: string | null } }, { caller, service }: AccountsContext) =>
      service.registerTrustedDocument(caller, input),
    removeTrustedDocument: (_: unknown, { id }: { id: string }, { caller, service }: AccountsContext) => service.removeTrustedDocument(caller, id),
  },
  User: {
    __resolveReference: (ref: { id: string }, { loaders }: AccountsContext) => loaders.user.load(ref.id),
    id: (user: UserDoc) => user._id,
    roles: (user: UserDoc, _: unknown, ctx: AccountsContext) => (isSelfOrAdmin(user, ctx) ? user.roles : null),
  },
  Session: {
    id: (session: SessionDoc) => session._id,
    current: (session: SessionDoc, _: unknown, { caller }: AccountsContext) => session._id === caller.sessionId,
  },
  ApiKey: { id: (doc: ApiKeyDoc) => doc._id },
  TrustedDocument: { id: (doc: TrustedDocumentDoc) => doc._id, requiredScopes: (doc: TrustedDocumentDoc) => requiredScopes(doc.body) },
};
