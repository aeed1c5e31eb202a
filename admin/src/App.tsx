/**
 * The console: sign in, then (editors and admins) the books screen. Who may do what is decided by
 * the server; the client only avoids showing staff screens to a reader, who gets a clear refusal.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { isEnumType, type GraphQLSchema } from 'graphql';
import { ApiError, request } from './api.js';
import { loadSchema } from './schema.js';
import { loadToken, saveToken } from './session.js';
import { href, useRoute } from './route.js';
import { BooksPage } from './pages/BooksPage.js';
import { BookPage } from './pages/BookPage.js';
import { JobsPage } from './pages/JobsPage.js';
import { PeoplePage } from './pages/People.js';
import { PartnersPage } from './pages/Partners.js';
import { SchemaPage } from './pages/SchemaReference.js';

interface Me {
  readonly id: string;
  readonly username: string;
  readonly displayName: string;
  readonly roles: readonly string[] | null;
}

const STAFF = ['EDITOR', 'ADMIN'];

export function App(): ReactNode {
  const [token, setToken] = useState<string | null>(loadToken);
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!token) return setMe(null);
    let live = true;
    request<{ me: Me | null }>('query ConsoleMe { me { id username displayName roles } }', {}, token).then(
      ({ me }) => {
        if (!live) return;
        if (!me) return signOut(); // the session ended elsewhere
        setMe(me);
      },
      (e: unknown) => live && setError(e instanceof ApiError ? e.message : String(e)),
    );
    return () => {
      live = false;
    };
  }, [token]);

  function signIn(newToken: string): void {
    saveToken(newToken);
    setError(null);
    setToken(newToken);
  }

  function signOut(): void {
    const old = token;
    saveToken(null);
    setToken(null);
    setMe(null);
    // End the session on the server too; the console forgets the token whatever the answer.
    if (old) void request('mutation ConsoleLogout { logout }', {}, old).catch(() => undefined);
  }

  const staff = me?.roles?.some((r) => STAFF.includes(r)) ?? false;
  return (
    <div className="app">
      <header>
        <h1>Folio admin</h1>
        {me && (
          <div className="who" aria-label="Signed in">
            <span>Signed in as <strong data-testid="username">{me.username}</strong> ({me.displayName})</span>
            <span data-testid="roles">Roles: {(me.roles ?? []).join(', ') || 'none'}</span>
            <button type="button" onClick={signOut}>Sign out</button>
          </div>
        )}
      </header>
      <main>
        {error && <p role="alert" className="error">{error}</p>}
        {!token && <SignIn onSignedIn={signIn} />}
        {token && !me && !error && <p role="status">Loading…</p>}
        {me && !staff && (
          <section role="alert" className="not-allowed">
            <h2>Not allowed</h2>
            <p>The admin console is for editors and admins. Your account ({me.username}) has the roles: {(me.roles ?? []).join(', ') || 'none'}.</p>
          </section>
        )}
        {me && staff && token && <Books token={token} myId={me.id} />}
      </main>
    </div>
  );
}

function SignIn({ onSignedIn }: { onSignedIn: (token: string) => void }): ReactNode {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent): Promise<void> {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const { login } = await request<{ login: { token: string } }>(
        'mutation ConsoleLogin($username: String!, $password: String!) { login(username: $username, password: $password) { token } }',
        { username, password },
        null,
      );
      onSignedIn(login.token);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="sign-in" onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
      <h2 id="sign-in-title">Sign in</h2>
      <div className="field">
        <label htmlFor="username">Username</label>
        <input id="username" autoComplete="username" required maxLength={200} value={username} onChange={(e) => setUsername(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="password">Password</label>
        <input id="password" type="password" autoComplete="current-password" required maxLength={1000} value={password} onChange={(e) => setPassword(e.target.value)} />
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  );
}

/** The console's pages, in the nav's order (the first segment of the URL's hash). */
const PAGES = { books: 'Books', jobs: 'Jobs', people: 'People', partners: 'Partners', schema: 'Schema' } as const;

function Books({ token, myId }: { token: string; myId: string }): ReactNode {
  const [schema, setSchema] = useState<GraphQLSchema | null>(null);
  const [error, setError] = useState<string | null>(null);
  const route = useRoute();

  useEffect(() => {
    loadSchema(token).then(setSchema, (e: unknown) => setError(e instanceof ApiError ? e.message : String(e)));
  }, [token]);

  if (error) return <p role="alert" className="error">Could not read the schema: {error}</p>;
  if (!schema) return <p role="status">Reading the schema…</p>;
  const page = route[0] ?? 'books';
  const bookStatus = schema.getType('BookStatus');
  return (
    <>
      <nav className="pages" aria-label="Pages">
        {Object.entries(PAGES).map(([name, label]) => (
          <a key={name} href={href(name)} aria-current={page === name ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {page === 'books' && route[1] && <BookPage key={route[1]} schema={schema} token={token} bookId={route[1]} />}
      {page === 'books' && !route[1] && <BooksPage schema={schema} token={token} />}
      {page === 'people' && <PeoplePage token={token} myId={myId} />}
      {page === 'partners' && <PartnersPage token={token} />}
      {page === 'schema' && <SchemaPage token={token} />}
      {page === 'jobs' && <JobsPage token={token} bookStatuses={isEnumType(bookStatus) ? bookStatus.getValues().map((v) => v.name) : []} />}
    </>
  );
}
