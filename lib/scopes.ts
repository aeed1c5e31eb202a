/**
 * Partner scopes: the one table of which root field a partner API key may use, and with which scope.
 *
 * A table here rather than an SDL directive: @apollo/gateway does not enforce federation's
 * `@requiresScopes` (only GraphOS Router does), a custom directive would have to be carried through
 * composition (`@composeDirective`) and read back from the supergraph in three places (gateway,
 * subgraphs, accounts), and every service already imports lib/. lib/scopes.test.ts keeps the
 * table equal to the supergraph's root fields, so a new root field cannot be forgotten; a field
 * missing from the table is refused to partners anyway (fail closed).
 *
 * Enforced (for callers with a partnerId only) where a trusted document is registered (accounts
 * refuses a document no key could run), where a partner runs one (gateway, before the response
 * cache and planning), and again in every subgraph on the root fields it is asked to resolve.
 */
import { Kind, parse, type DocumentNode, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import { FolioError } from './errors.js';
import type { Caller } from './identity.js';

/** Every scope a key can have, with what it grants. */
export const PARTNER_SCOPES = {
  'catalog:read': 'books, chapters and paragraphs (only the books licensed to the key or open to everyone)',
  'search:read': 'search and ask over the same books',
  'notes:read': 'public notes',
  'profiles:read': 'public user profiles',
} as const;

export type PartnerScope = keyof typeof PARTNER_SCOPES;

export const isPartnerScope = (value: string): value is PartnerScope => Object.prototype.hasOwnProperty.call(PARTNER_SCOPES, value);

type RootType = 'Query' | 'Mutation';

/**
 * Every root field of the supergraph: the scope a partner needs, or null when no key can have it
 * (it needs a signed-in user or staff, which a partner never is).
 */
export const ROOT_FIELD_SCOPES: Readonly<Record<RootType, Readonly<Record<string, PartnerScope | null>>>> = {
  Query: {
    book: 'catalog:read',
    books: 'catalog:read',
    chapter: 'catalog:read',
    paragraph: 'catalog:read',
    search: 'search:read',
    ask: 'search:read',
    note: 'notes:read',
    user: 'profiles:read',
    me: null,
    mySessions: null,
    userSessions: null,
    users: null,
    apiKeys: null,
    partnerScopes: null,
    trustedDocuments: null,
    uploadJob: null,
    highlight: null,
    repairJob: null,
    // A reader's own sync feed (gateway subscriptions resolve their events through these): never partners'.
    readingProgressChange: null,
    annotationChange: null,
    shelfChange: null,
    // Staff live updates and public notes per event (subscriptions): partners have no subscriptions.
    uploadJobUpdate: null,
    repairJobUpdate: null,
    publicNoteAddition: null,
    searchMyNotes: null,
    searchIndexStatus: null,
    schemaUsage: null,
    schemaFieldUsage: null,
    deprecatedSchemaUsage: null,
  },
  Mutation: {
    dismissRecommendation: null,
    setPersonalisedRecommendations: null,
    register: null,
    login: null,
    logout: null,
    logoutEverywhere: null,
    revokeSession: null,
    updateProfile: null,
    setUserRoles: null,
    createApiKey: null,
    revokeApiKey: null,
    registerTrustedDocument: null,
    removeTrustedDocument: null,
    createBook: null,
    updateBook: null,
    uploadBookContent: null,
    publishBook: null,
    unpublishBook: null,
    setBookLicense: null,
    addToShelf: null,
    removeFromShelf: null,
    updateShelfEntry: null,
    updateProgress: null,
    createHighlight: null,
    updateHighlight: null,
    deleteHighlight: null,
    createNote: null,
    updateNote: null,
    deleteNote: null,
    likeNote: null,
    unlikeNote: null,
    writeReview: null,
    deleteReview: null,
    likeReview: null,
    unlikeReview: null,
  },
};

export interface ScopeNeeds {
  /** Scopes the operation needs, sorted. */
  readonly scopes: readonly PartnerScope[];
  /** Root fields no key may use (`Mutation.register`), sorted. */
  readonly unavailable: readonly string[];
}

const ROOT: Record<string, RootType | undefined> = { query: 'Query', mutation: 'Mutation' };

function collect(
  set: SelectionSetNode,
  root: RootType | undefined,
  document: DocumentNode,
  seen: Set<string>,
  into: { scopes: Set<PartnerScope>; unavailable: Set<string> },
): void {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.name.value;
      if (name === '__typename') continue;
      const scope = root ? ROOT_FIELD_SCOPES[root][name] : undefined;
      if (scope) into.scopes.add(scope);
      else into.unavailable.add(`${root ?? 'Subscription'}.${name}`);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(selection.selectionSet, root, document, seen, into);
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) collect(fragment.selectionSet, root, document, seen, into);
    }
  }
}

/**
 * What running `operationName` of the document needs; all its operations when the name is absent
 * or unknown (a stricter answer, never a weaker one).
 */
export function scopesNeeded(document: DocumentNode, operationName?: string | null): ScopeNeeds {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const named = operationName ? operations.filter((o) => o.name?.value === operationName) : [];
  const into = { scopes: new Set<PartnerScope>(), unavailable: new Set<string>() };
  for (const operation of named.length > 0 ? named : operations) collect(operation.selectionSet, ROOT[operation.operation], document, new Set(), into);
  return { scopes: [...into.scopes].sort(), unavailable: [...into.unavailable].sort() };
}

/** What every operation of a document's text needs; throws graphql's syntax error when the text is not GraphQL. */
export function scopesNeededByText(body: string): ScopeNeeds {
  return scopesNeeded(parse(body));
}

/** FORBIDDEN unless a partner caller holds every scope the operation needs; other callers pass (their roles decide). */
export function assertPartnerScopes(caller: Caller, needs: ScopeNeeds): void {
  if (caller.partnerId === null) return;
  if (needs.unavailable.length > 0) {
    throw new FolioError('FORBIDDEN', `Partner API keys cannot use ${needs.unavailable.join(', ')}.`, { details: { unavailable: needs.unavailable } });
  }
  const missing = needs.scopes.filter((s) => !caller.scopes.includes(s));
  if (missing.length > 0) {
    throw new FolioError('FORBIDDEN', `This API key lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`, { details: { missingScopes: missing } });
  }
}
