/**
 * Partners (admins): API keys and trusted documents. The create form is CreateApiKeyInput's, its
 * scopes offered from the API's own list (`partnerScopes`); the new key is shown once, here, with
 * a copy button, and kept nowhere (not in storage, not in the URL), so a reload forgets it. The
 * register form is RegisterTrustedDocumentInput's, the body a pasted operation; the answer shows
 * the scopes a key needs to run it. Lists come from `apiKeys` and `trustedDocuments`.
 */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { isInputObjectType, type GraphQLSchema } from 'graphql';
import { request } from '../api.js';
import { copyText } from '../clipboard.js';
import { InputForm, type Choice } from '../components/InputForm.js';
import { display, ListTable } from '../components/ListTable.js';
import { useSchema } from '../useSchema.js';
import { errorMessage, isForbidden, NotAllowed } from './common.js';

export function PartnersPage({ token }: { token: string }): ReactNode {
  const { schema, error } = useSchema(token);
  const [scopes, setScopes] = useState<readonly Choice[] | null>(null);
  const [forbidden, setForbidden] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    request<{ partnerScopes: Choice[] | null }>('query ConsolePartnerScopes { partnerScopes { name description } }', {}, token).then(
      ({ partnerScopes }) => live && setScopes(partnerScopes ?? []),
      (e: unknown) => {
        if (!live) return;
        if (isForbidden(e)) setForbidden(errorMessage(e));
        else setProblem(errorMessage(e));
      },
    );
    return () => {
      live = false;
    };
  }, [token]);

  if (error) return <p role="alert" className="error">Could not read the schema: {error}</p>;
  if (forbidden !== null) return <NotAllowed what="Managing partners" message={forbidden} />;
  if (problem) return <p role="alert" className="error">{problem}</p>;
  if (!schema || !scopes) return <p role="status">Reading the schema…</p>;
  return (
    <div className="page partners">
      <ApiKeys schema={schema} token={token} scopes={scopes} />
      <TrustedDocuments schema={schema} token={token} />
    </div>
  );
}

interface CreatedKey {
  readonly key: string;
  readonly apiKey: { readonly id: string; readonly name: string; readonly scopes: readonly string[] };
}

function ApiKeys({ schema, token, scopes }: { schema: GraphQLSchema; token: string; scopes: readonly Choice[] }): ReactNode {
  const input = schema.getType('CreateApiKeyInput');
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  async function revoke(id: string, name: string): Promise<void> {
    setProblem(null);
    if (!window.confirm(`Revoke the key “${name}”? Partners using it are refused at once.`)) return;
    try {
      await request('mutation ConsoleRevokeKey($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }', { id }, token);
      setReloadKey((k) => k + 1);
    } catch (e) {
      setProblem(errorMessage(e));
    }
  }

  return (
    <section className="api-keys" aria-labelledby="api-keys-title">
      <h2 id="api-keys-title">API keys</h2>
      {isInputObjectType(input) && (
        <section aria-labelledby="new-key-title">
          <h3 id="new-key-title">New API key</h3>
          <InputForm
            type={input}
            submitLabel="Create key"
            choices={{ scopes }}
            onSubmit={async (values) => {
              const { createApiKey } = await request<{ createApiKey: CreatedKey }>(
                'mutation ConsoleCreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { id name scopes } } }',
                { input: values },
                token,
              );
              setCreated(createApiKey);
              setReloadKey((k) => k + 1);
              return `Created the key “${createApiKey.apiKey.name}”.`;
            }}
          />
        </section>
      )}
      {created && <ShownOnce created={created} onDone={() => setCreated(null)} />}
      <ListTable
        schema={schema}
        token={token}
        field="apiKeys"
        title="Keys"
        preferred={['name', 'prefix', 'scopes', 'rateLimitPerMinute', 'createdAt', 'revokedAt']}
        hidden={['id']}
        reloadKey={reloadKey}
        actions={(row) =>
          row.revokedAt ? (
            <span>Revoked</span>
          ) : (
            <button type="button" onClick={() => void revoke(String(row.id), String(row.name))} aria-label={`Revoke ${String(row.name)}`}>
              Revoke
            </button>
          )
        }
      />
      {problem && <p role="alert" className="error">{problem}</p>}
    </section>
  );
}

/** The new key, once: a read-only field to select, a copy button, and a button to put it away. */
function ShownOnce({ created, onDone }: { created: CreatedKey; onDone: () => void }): ReactNode {
  const field = useRef<HTMLInputElement>(null);
  const id = useId();
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => field.current?.focus(), []);

  return (
    <section className="shown-once" aria-labelledby={`${id}-title`} data-testid="new-key">
      <h3 id={`${id}-title`}>The key for “{created.apiKey.name}”</h3>
      <p><strong>Shown once.</strong> Copy it now: it is stored only as a hash and cannot be shown again. Partners send it as the <code>x-api-key</code> header.</p>
      <div className="field">
        <label htmlFor={id}>API key</label>
        <input id={id} ref={field} readOnly value={created.key} onFocus={(e) => e.target.select()} spellCheck={false} data-testid="new-key-value" />
      </div>
      <p>Scopes: {display(created.apiKey.scopes)}</p>
      <div className="actions">
        <button
          type="button"
          onClick={() =>
            void copyText(created.key, field.current).then((how) =>
              setCopied(how === 'copied' ? 'Copied to the clipboard.' : 'The key is selected: press Ctrl+C (⌘C) to copy it.'),
            )
          }
        >
          Copy key
        </button>
        <button type="button" onClick={onDone}>I have stored it</button>
      </div>
      {copied && <p role="status" className="ok">{copied}</p>}
    </section>
  );
}

interface Registered {
  readonly id: string;
  readonly requiredScopes: readonly string[];
  readonly clientName: string | null;
}

function TrustedDocuments({ schema, token }: { schema: GraphQLSchema; token: string }): ReactNode {
  const input = schema.getType('RegisterTrustedDocumentInput');
  const [reloadKey, setReloadKey] = useState(0);
  const [problem, setProblem] = useState<string | null>(null);

  async function remove(id: string): Promise<void> {
    setProblem(null);
    if (!window.confirm('Remove this document from the allow-list? Partners running it are refused at once.')) return;
    try {
      await request('mutation ConsoleRemoveDocument($id: ID!) { removeTrustedDocument(id: $id) }', { id }, token);
      setReloadKey((k) => k + 1);
    } catch (e) {
      setProblem(errorMessage(e));
    }
  }

  return (
    <section className="trusted-documents" aria-labelledby="trusted-title">
      <h2 id="trusted-title">Trusted documents</h2>
      <p className="help">The operations partners may run, each identified by the SHA-256 of its text.</p>
      {isInputObjectType(input) && (
        <section aria-labelledby="register-doc-title">
          <h3 id="register-doc-title">Register a document</h3>
          <InputForm
            type={input}
            submitLabel="Register document"
            multiline={['body']}
            onSubmit={async (values) => {
              const { registerTrustedDocument: doc } = await request<{ registerTrustedDocument: Registered }>(
                'mutation ConsoleRegisterDocument($input: RegisterTrustedDocumentInput!) { registerTrustedDocument(input: $input) { id requiredScopes clientName } }',
                { input: values },
                token,
              );
              setReloadKey((k) => k + 1);
              return `Registered ${doc.id.slice(0, 12)}…; a key needs the scopes: ${display(doc.requiredScopes)}.`;
            }}
          />
        </section>
      )}
      <ListTable
        schema={schema}
        token={token}
        field="trustedDocuments"
        title="Allow-list"
        preferred={['clientName', 'requiredScopes', 'body', 'createdAt', 'id']}
        reloadKey={reloadKey}
        cell={(column, value) =>
          column === 'body' ? <pre className="operation">{String(value)}</pre> : column === 'id' ? <code title={String(value)}>{String(value).slice(0, 12)}…</code> : display(value)
        }
        actions={(row) => (
          <button type="button" onClick={() => void remove(String(row.id))} aria-label={`Remove document ${String(row.id).slice(0, 12)}`}>
            Remove
          </button>
        )}
      />
      {problem && <p role="alert" className="error">{problem}</p>}
    </section>
  );
}
