/**
 * People (admins): every user, from the `users` connection (columns from User, filters from
 * UserFilter), a user's roles changed with the Role enum's values, and that user's sessions
 * (`userSessions`), each revocable. Everyone signed in: their own sessions, each revocable. Editors reach the page and get the server's FORBIDDEN as
 * "Not allowed" for the user list; the server decides, the console only shows.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { isEnumType, type GraphQLSchema } from 'graphql';
import { request } from '../api.js';
import { ConnectionTable } from '../components/ConnectionTable.js';
import { display, ListTable } from '../components/ListTable.js';
import { useSchema } from '../useSchema.js';
import { errorMessage, isForbidden, NotAllowed } from './common.js';

interface UserRow {
  readonly id: string;
  readonly username: string;
  readonly roles: readonly string[] | null;
}

export function PeoplePage({ token, myId }: { token: string; myId: string }): ReactNode {
  const { schema, error } = useSchema(token);
  const [reloadKey, setReloadKey] = useState(0);
  const [open, setOpen] = useState<UserRow | null>(null);
  // undefined while the server has not answered whether the caller may list users.
  const [forbidden, setForbidden] = useState<string | null | undefined>(undefined);

  // The list is the server's to refuse: ask once, and show its FORBIDDEN plainly.
  useEffect(() => {
    let live = true;
    request('query ConsolePeopleAllowed { users(first: 1) { totalCount } }', {}, token).then(
      () => live && setForbidden(null),
      (e: unknown) => live && setForbidden(isForbidden(e) ? errorMessage(e) : null),
    );
    return () => {
      live = false;
    };
  }, [token]);

  if (error) return <p role="alert" className="error">Could not read the schema: {error}</p>;
  if (!schema) return <p role="status">Reading the schema…</p>;
  return (
    <div className="page people">
      <div>
        {forbidden === undefined ? (
          <p role="status">Checking what you may see…</p>
        ) : forbidden !== null ? (
          <NotAllowed what="The list of users" message={forbidden} />
        ) : (
          <ConnectionTable
            schema={schema}
            token={token}
            field="users"
            title="Users"
            preferred={['username', 'displayName', 'roles', 'createdAt', 'id']}
            reloadKey={reloadKey}
            onOpen={(node) => setOpen({ id: String(node.id), username: String(node.username), roles: (node.roles as string[] | null) ?? null })}
          />
        )}
        <Sessions schema={schema} token={token} label={(row) => `Revoke session from ${String(row.userAgent ?? 'unknown browser')} created ${String(row.createdAt)}`} />
      </div>
      <div className="side">
        {open && (
          <RolesEditor
            key={open.id}
            schema={schema}
            token={token}
            user={open}
            self={open.id === myId}
            onSaved={(user) => {
              setOpen(user);
              setReloadKey((k) => k + 1);
            }}
            onClose={() => setOpen(null)}
          />
        )}
        {open && !forbidden && (
          <Sessions
            key={`sessions-${open.id}`}
            schema={schema}
            token={token}
            field="userSessions"
            args={{ userId: open.id }}
            title={`Sessions of ${open.username}`}
            empty="No active sessions."
            label={(row) => `Revoke ${open.username}'s session created ${display(row.createdAt)}`}
          />
        )}
      </div>
    </div>
  );
}

function RolesEditor({ schema, token, user, self, onSaved, onClose }: { schema: GraphQLSchema; token: string; user: UserRow; self: boolean; onSaved: (u: UserRow) => void; onClose: () => void }): ReactNode {
  const roleType = schema.getType('Role');
  const values = isEnumType(roleType) ? roleType.getValues() : [];
  const [roles, setRoles] = useState<Set<string>>(new Set(user.roles ?? []));
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const id = useId();

  useEffect(() => headingRef.current?.focus(), []);

  async function save(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    setDone(null);
    try {
      const { setUserRoles } = await request<{ setUserRoles: UserRow }>(
        'mutation ConsoleSetRoles($userId: ID!, $roles: [Role!]!) { setUserRoles(userId: $userId, roles: $roles) { id username roles } }',
        { userId: user.id, roles: values.map((v) => v.name).filter((n) => roles.has(n)) },
        token,
      );
      setRoles(new Set(setUserRoles.roles ?? []));
      setDone(`Saved: ${(setUserRoles.roles ?? []).join(', ')}.`);
      onSaved(setUserRoles);
    } catch (e) {
      setProblem(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} tabIndex={-1} ref={headingRef}>Roles of {user.username}</h2>
      <button type="button" className="close" onClick={onClose}>Close</button>
      <form onSubmit={(e) => void save(e)} aria-label={`Roles of ${user.username}`}>
        <fieldset>
          <legend>Roles</legend>
          {values.map((v) => (
            <div className="choice" key={v.name}>
              <input
                type="checkbox"
                id={`${id}-${v.name}`}
                checked={roles.has(v.name)}
                onChange={(e) => {
                  const next = new Set(roles);
                  if (e.target.checked) next.add(v.name);
                  else next.delete(v.name);
                  setRoles(next);
                }}
              />
              <label htmlFor={`${id}-${v.name}`}>{v.name}</label>
              {v.description && <small className="help">{v.description}</small>}
            </div>
          ))}
        </fieldset>
        {self && <p className="help">This is you: the server keeps your own ADMIN role.</p>}
        {problem && <p role="alert" className="error">{problem}</p>}
        {done && <p role="status" className="ok">{done}</p>}
        <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save roles'}</button>
      </form>
    </section>
  );
}

/**
 * Sessions from a list field (`mySessions`, or an admin's `userSessions(userId:)`), each revocable
 * but the one this browser uses (it ends by signing out).
 */
function Sessions({ schema, token, field = 'mySessions', args, title = 'My sessions', label, empty }: {
  schema: GraphQLSchema;
  token: string;
  field?: string;
  args?: Readonly<Record<string, unknown>>;
  title?: string;
  /** The Revoke button's accessible name for a row. */
  label: (row: Record<string, unknown>) => string;
  empty?: string;
}): ReactNode {
  const [reloadKey, setReloadKey] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  async function revoke(id: string): Promise<void> {
    setProblem(null);
    try {
      await request('mutation ConsoleRevokeSession($id: ID!) { revokeSession(id: $id) }', { id }, token);
      setReloadKey((k) => k + 1);
    } catch (e) {
      setProblem(errorMessage(e));
    }
  }

  return (
    <div className="sessions">
      <ListTable
        schema={schema}
        token={token}
        field={field}
        {...(args ? { args } : {})}
        title={title}
        preferred={['current', 'userAgent', 'clientAddress', 'createdAt', 'lastUsedAt', 'expiresAt']}
        hidden={['id']}
        reloadKey={reloadKey}
        {...(empty ? { empty } : {})}
        cell={(column, value) => (column === 'current' ? (value ? 'this one' : '') : display(value))}
        actions={(row) =>
          row.current ? (
            <span className="help">Sign out to end it</span>
          ) : (
            <button type="button" onClick={() => void revoke(String(row.id))} aria-label={label(row)}>
              Revoke
            </button>
          )
        }
      />
      {problem && <p role="alert" className="error">{problem}</p>}
    </div>
  );
}
