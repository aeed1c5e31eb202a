/** Thin resolvers: read arguments, call the service, shape the result. Access rules: policy.ts. */
import type { Caller } from '../../lib/identity.js';
import { DateTime } from '../../lib/scalars.js';
import type { Resolvers } from './generated/resolvers.js';
import type { AccountsLoaders } from './loaders.js';
import type { SchemaUsageService, UsageOrder } from './schemaUsage.js';
import type { Viewer } from './policy.js';
import { requiredScopes, type AccountService, type IssuedSession } from './service.js';
import type { ApiKeyDoc, SessionDoc, TrustedDocumentDoc, UserDoc } from './store.js';

export interface AccountsContext {
  readonly caller: Caller;
  readonly userAgent: string | null;
  readonly service: AccountService;
  readonly schemaUsage: SchemaUsageService;
  readonly loaders: AccountsLoaders;
  /** The caller as the policy sees it; `provenUserIds` fills as register/login succeed in this request. */
  readonly viewer: Viewer;
  /** Users who proved who they are in this very request (register, login): they may see their own private fields. */
  readonly authenticatedUserIds: Set<string>;
}

/** The context's viewer: the caller plus the users this request signed in (shared set, filled later). */
export const viewerOf = (caller: Caller, authenticatedUserIds: ReadonlySet<string>): Viewer => ({ ...caller, provenUserIds: authenticatedUserIds });

function authPayload(ctx: AccountsContext, issued: IssuedSession) {
  ctx.authenticatedUserIds.add(issued.user._id);
  return { token: issued.token, expiresAt: issued.expiresAt, user: issued.user };
}

interface UsageArgs {
  since?: Date | null;
  first?: number | null;
  after?: string | null;
}

export const resolvers: Resolvers = {
  DateTime,
  Query: {
    me: (_: unknown, __: unknown, { caller, loaders }: AccountsContext) => (caller.userId ? loaders.user.load(caller.userId) : null),
    user: (_: unknown, { id }, { loaders }: AccountsContext) => loaders.user.load(id),
    mySessions: (_: unknown, __: unknown, { viewer, service }: AccountsContext) => service.listSessions(viewer),
    userSessions: (_: unknown, { userId }, { viewer, service }: AccountsContext) => service.listSessionsOf(viewer, userId),
    users: (_: unknown, args, { viewer, service }: AccountsContext) => service.listUsers(viewer, args.filter, args),
    apiKeys: (_: unknown, __: unknown, { viewer, service }: AccountsContext) => service.listApiKeys(viewer),
    partnerScopes: (_: unknown, __: unknown, { viewer, service }: AccountsContext) => service.partnerScopes(viewer),
    trustedDocuments: (_: unknown, __: unknown, { viewer, service }: AccountsContext) => service.listTrustedDocuments(viewer),
    schemaUsage: (_: unknown, args: UsageArgs & { coordinate: string }, { viewer, schemaUsage }: AccountsContext) =>
      schemaUsage.coordinateUsage(viewer, args.coordinate, args.since, args),
    schemaFieldUsage: (_: unknown, args: UsageArgs & { order?: UsageOrder | null }, { viewer, schemaUsage }: AccountsContext) =>
      schemaUsage.fieldUsage(viewer, args.order ?? 'MOST_USED', args.since, args),
    deprecatedSchemaUsage: (_: unknown, args: UsageArgs, { viewer, schemaUsage }: AccountsContext) => schemaUsage.deprecatedUsage(viewer, args.since, args),
  },
  Mutation: {
    register: async (_: unknown, { input }, ctx: AccountsContext) =>
      authPayload(ctx, await ctx.service.register(input, { userAgent: ctx.userAgent, clientAddress: ctx.caller.clientAddress })),
    login: async (_: unknown, args, ctx: AccountsContext) =>
      authPayload(ctx, await ctx.service.login(args.username, args.password, { userAgent: ctx.userAgent, clientAddress: ctx.caller.clientAddress })),
    logout: (_: unknown, __: unknown, { viewer, service }: AccountsContext) => service.logout(viewer),
    logoutEverywhere: (_: unknown, __: unknown, { viewer, service }: AccountsContext) => service.logoutEverywhere(viewer),
    revokeSession: (_: unknown, { id }, { viewer, service }: AccountsContext) => service.revokeSession(viewer, id),
    updateProfile: (_: unknown, { input }, { viewer, service }: AccountsContext) =>
      service.updateProfile(viewer, input),
    setUserRoles: (_: unknown, args, { viewer, service }: AccountsContext) => service.setRoles(viewer, args.userId, args.roles),
    createApiKey: async (_: unknown, { input }, { viewer, service }: AccountsContext) => {
      const { key, doc } = await service.createApiKey(viewer, input);
      return { key, apiKey: doc };
    },
    revokeApiKey: (_: unknown, { id }, { viewer, service }: AccountsContext) => service.revokeApiKey(viewer, id),
    registerTrustedDocument: (_: unknown, { input }, { viewer, service }: AccountsContext) =>
      service.registerTrustedDocument(viewer, input),
    removeTrustedDocument: (_: unknown, { id }, { viewer, service }: AccountsContext) => service.removeTrustedDocument(viewer, id),
  },
  User: {
    __resolveReference: (ref, { loaders }: AccountsContext) => loaders.user.load(ref.id),
    id: (user: UserDoc) => user._id,
    roles: (user: UserDoc, _: unknown, { viewer, service }: AccountsContext) => service.visibleRoles(viewer, user),
  },
  Session: {
    id: (session: SessionDoc) => session._id,
    current: (session: SessionDoc, _: unknown, { caller }: AccountsContext) => session._id === caller.sessionId,
  },
  ApiKey: { id: (doc: ApiKeyDoc) => doc._id },
  TrustedDocument: { id: (doc: TrustedDocumentDoc) => doc._id, requiredScopes: (doc: TrustedDocumentDoc) => requiredScopes(doc.body) },
};
