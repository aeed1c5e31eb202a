/**
 * Every access rule of the accounts subgraph, in one place (after Outline's `server/policies`):
 * `can(viewer, action, subject)` answers, `authorize(...)` throws. Resolvers hold no rules and
 * services ask here before they act, so "who may do what" is read in this file only.
 *
 * Refusals: UNAUTHENTICATED when the viewer must sign in first; FORBIDDEN for a role a signed-in
 * viewer lacks; NOT_FOUND for another user's things (a session), exactly as for things that do
 * not exist, so ids cannot be probed.
 */
import { FolioError, UnreachableCaseError } from '../../lib/errors.js';
import { hasRole, type Caller } from '../../lib/identity.js';
import type { SessionDoc, UserDoc } from './store.js';

/**
 * Who is asking: the caller the gateway signed for, plus users who proved who they are in this
 * very request (register and login return the account before any token has been sent).
 */
export interface Viewer extends Caller {
  readonly provenUserIds?: ReadonlySet<string>;
}

/** Each action with the subject it is asked about. */
export interface Subjects {
  /** Profile fields only the user and admins see (roles). */
  'user.readPrivate': Pick<UserDoc, '_id'>;
  /** The viewer's own display name, bio, avatar. */
  'user.updateOwnProfile': null;
  /** Any user's roles. */
  'user.setRoles': null;
  /** Every user, with their roles (the admin console's people page). */
  'user.list': null;
  /** The viewer's own sessions: list, sign out, sign out everywhere. */
  'session.manageOwn': null;
  /** Another user's sessions (the console's people page: ending a compromised account's sessions). */
  'session.listAny': null;
  /** One session, the viewer's own or (admins) anyone's; `null` when there is no such session. */
  'session.revoke': Pick<SessionDoc, 'userId'> | null;
  /** Partner API keys: create, list, revoke. */
  'apiKey.manage': null;
  /** The trusted-document allow-list: register, list, remove (the gateway's internal read is not a viewer's). */
  'trustedDocument.manage': null;
  /** Recorded field usage (schemaUsage.ts): which clients use which fields. Partners never. */
  'schemaUsage.read': null;
}

export type Action = keyof Subjects;

type Decision = 'allow' | 'signIn' | 'forbidden' | 'notFound';

const isSelf = (viewer: Viewer, userId: string): boolean => viewer.userId === userId || viewer.provenUserIds?.has(userId) === true;
const signedIn = (viewer: Viewer): Decision => (viewer.userId ? 'allow' : 'signIn');
const admin = (viewer: Viewer): Decision => (!viewer.userId ? 'signIn' : hasRole(viewer, 'ADMIN') ? 'allow' : 'forbidden');

function decide<A extends Action>(viewer: Viewer, action: A, subject: Subjects[A]): Decision {
  const act = action as Action;
  switch (act) {
    case 'user.readPrivate': {
      const user = subject as Subjects['user.readPrivate'];
      return isSelf(viewer, user._id) || hasRole(viewer, 'ADMIN') ? 'allow' : 'forbidden';
    }
    case 'user.updateOwnProfile':
    case 'session.manageOwn':
      return signedIn(viewer);
    case 'session.revoke': {
      if (!viewer.userId) return 'signIn';
      const session = subject as Subjects['session.revoke'];
      // Someone else's session does not exist for a non-admin (NOT_FOUND, as for no session at all).
      return session && (session.userId === viewer.userId || hasRole(viewer, 'ADMIN')) ? 'allow' : 'notFound';
    }
    case 'session.listAny':
      return admin(viewer);
    case 'schemaUsage.read':
      // A partner key has no user; refused as a role it lacks, not asked to sign in.
      return viewer.partnerId ? 'forbidden' : admin(viewer);
    case 'user.setRoles':
    case 'user.list':
    case 'apiKey.manage':
    case 'trustedDocument.manage':
      return admin(viewer);
    default:
      throw new UnreachableCaseError(act);
  }
}

const NOT_FOUND_NAMES: Partial<Record<Action, string>> = { 'session.revoke': 'Session' };

export function can<A extends Action>(viewer: Viewer, action: A, subject: Subjects[A]): boolean {
  return decide(viewer, action, subject) === 'allow';
}

/** Throws the refusal for `action` unless the viewer may do it. */
export function authorize<A extends Action>(viewer: Viewer, action: A, subject: Subjects[A]): void {
  const decision = decide(viewer, action, subject);
  switch (decision) {
    case 'allow':
      return;
    case 'signIn':
      throw new FolioError('UNAUTHENTICATED', 'Sign in first.');
    case 'forbidden':
      throw new FolioError('FORBIDDEN', action === 'user.readPrivate' ? undefined : 'Only ADMIN users may do that.');
    case 'notFound':
      throw new FolioError('NOT_FOUND', `${NOT_FOUND_NAMES[action] ?? 'Item'} not found.`);
    default:
      throw new UnreachableCaseError(decision);
  }
}

/** The signed-in viewer's user id (after an `authorize` that requires signing in). */
export function viewerId(viewer: Viewer): string {
  if (!viewer.userId) throw new FolioError('UNAUTHENTICATED', 'Sign in first.');
  return viewer.userId;
}
