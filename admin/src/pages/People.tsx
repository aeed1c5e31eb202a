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
        <Sessions schema={schema} token={token} />
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
        {open && !forbidden && <UserSessions key={`sessions-${open.id}`} token={token} user={open} />}
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

function Sessions({ schema, token }: { schema: GraphQLSchema; token: string }): ReactNode {
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
        field="mySessions"
        title="My sessions"
        preferred={['current', 'userAgent', 'clientAddress', 'createdAt', 'lastUsedAt', 'expiresAt']}
        hidden={['id']}
        reloadKey={reloadKey}
        cell={(column, value) => (column === 'current' ? (value ? 'this one' : '') : display(value))}
        actions={(row) =>
          row.current ? (
            <span className="help">Sign out to end it</span>
          ) : (
            <button type="button" onClick={() => void revoke(String(row.id))} aria-label={`Revoke session from ${String(row.userAgent ?? 'unknown browser')} created ${String(row.createdAt)}`}>
              Revoke
            </button>
          )
        }
      />
      {problem && <p role="alert" className="error">{problem}</p>}
    </div>
  );
}

interface SessionRow {
  readonly id: string;
  readonly userAgent: string | null;
  readonly clientAddress: string | null;
  readonly createdAt: string;
  readonly lastUsedAt: string;
}

/** Admins: the opened user's active sessions, each revocable (a compromised account's, say). */
function UserSessions({ token, user }: { token: string; user: UserRow }): ReactNode {
  const [rows, setRows] = useState<readonly SessionRow[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const headingId = useId();

  useEffect(() => {
    let live = true;
    request<{ userSessions: SessionRow[] | null }>(
      'query ConsoleUserSessions($userId: ID!) { userSessions(userId: $userId) { id userAgent clientAddress createdAt lastUsedAt } }',
      { userId: user.id },
      token,
    ).then(
      (d) => live && setRows(d.userSessions ?? []),
      (e: unknown) => live && setProblem(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, [token, user.id, reloadKey]);

  async function revoke(id: string): Promise<void> {
    setProblem(null);
    try {
      await request('mutation ConsoleRevokeUserSession($id: ID!) { revokeSession(id: $id) }', { id }, token);
      setReloadKey((k) => k + 1);
    } catch (e) {
      setProblem(errorMessage(e));
    }
  }

  return (
    <section aria-labelledby={headingId} className="card">
      <h2 id={headingId}>Sessions of {user.username}</h2>
      {rows === null && !problem && <p role="status">Reading sessions…</p>}
      {rows && rows.length === 0 && <p>No active sessions.</p>}
      {rows && rows.length > 0 && (
        <div className="table-wrap">
          <table aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">Browser</th>
                <th scope="col">Address</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id}>
                  <td>{display(r.userAgent)}</td>
                  <td>{display(r.clientAddress)}</td>
                  <td>{display(r.createdAt)}</td>
                  <td>{display(r.lastUsedAt)}</td>
                  <td>
                    <button type="button" onClick={() => void revoke(r.id)} aria-label={`Revoke ${user.username}'s session created ${display(r.createdAt)}`}>
                      Revoke
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {problem && <p role="alert" className="error">{problem}</p>}
    </section>
  );
}
