/**
 * The schema reference, from introspection: every type by name (roots first), a type's fields with
 * their arguments, types, defaults and descriptions, deprecations with their reasons, and a search
 * over names, descriptions and deprecation reasons. Types link to each other. What the served
 * schema says, nothing of the console's own.
 */
import { useEffect, useId, useMemo, useRef, useState, type ReactNode } from 'react';
import { MAX_SEARCH_LENGTH, namedTypeOf, schemaTypes, searchSchema, type MemberEntry, type TypeEntry } from '../schemaReference.js';
import { useSchema } from '../useSchema.js';

export function SchemaPage({ token }: { token: string }): ReactNode {
  const { schema, error } = useSchema(token);
  const types = useMemo(() => (schema ? schemaTypes(schema) : []), [schema]);
  const [selected, setSelected] = useState<string>('Query');
  const [focusMember, setFocusMember] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [deprecatedOnly, setDeprecatedOnly] = useState(false);
  const searchId = useId();
  const hits = useMemo(() => {
    if (deprecatedOnly) return types.flatMap((t) => t.members.filter((m) => m.deprecationReason !== null).map((m) => ({ type: t.name, member: m.name, deprecated: true })));
    return searchSchema(types, query);
  }, [types, query, deprecatedOnly]);

  if (error) return <p role="alert" className="error">Could not read the schema: {error}</p>;
  if (!schema) return <p role="status">Reading the schema…</p>;
  const type = types.find((t) => t.name === selected) ?? types[0];
  const open = (name: string, member: string | null = null): void => {
    if (!types.some((t) => t.name === name)) return;
    setSelected(name);
    setFocusMember(member);
  };
  const searching = deprecatedOnly || query.trim() !== '';

  return (
    <div className="page schema-ref">
      <nav aria-label="Schema types" className="type-list">
        <div className="field">
          <label htmlFor={searchId}>Search the schema</label>
          <input id={searchId} type="search" value={query} maxLength={MAX_SEARCH_LENGTH} onChange={(e) => setQuery(e.target.value)} aria-describedby={`${searchId}-help`} />
          <small id={`${searchId}-help`} className="help">Names, descriptions and deprecation reasons; every word must match.</small>
        </div>
        <div className="choice">
          <input id={`${searchId}-deprecated`} type="checkbox" checked={deprecatedOnly} onChange={(e) => setDeprecatedOnly(e.target.checked)} />
          <label htmlFor={`${searchId}-deprecated`}>Deprecated only</label>
        </div>
        {searching ? (
          <>
            <p role="status">{hits.length === 0 ? 'Nothing matches.' : `${hits.length} match${hits.length === 1 ? '' : 'es'}`}</p>
            <ul aria-label="Search results">
              {hits.map((h) => (
                <li key={`${h.type}.${h.member ?? ''}`}>
                  <button type="button" className="link" onClick={() => open(h.type, h.member)}>
                    {h.member ? `${h.type}.${h.member}` : h.type}
                  </button>
                  {h.deprecated && <span className="badge">deprecated</span>}
                </li>
              ))}
            </ul>
          </>
        ) : (
          <ul aria-label="All types">
            {types.map((t) => (
              <li key={t.name}>
                <button type="button" className="link" aria-current={t.name === type?.name ? 'true' : undefined} onClick={() => open(t.name)}>
                  {t.name}
                </button>{' '}
                <small className="help">{t.kind}</small>
              </li>
            ))}
          </ul>
        )}
      </nav>
      {type && <TypeView key={type.name} type={type} focusMember={focusMember} onOpen={open} known={(n) => types.some((t) => t.name === n)} />}
    </div>
  );
}

function TypeView({ type, focusMember, onOpen, known }: { type: TypeEntry; focusMember: string | null; onOpen: (name: string) => void; known: (name: string) => boolean }): ReactNode {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    const target = focusMember ? document.getElementById(`member-${type.name}-${focusMember}`) : heading.current;
    target?.focus();
    target?.scrollIntoView({ block: 'nearest' });
  }, [type.name, focusMember]);
  const typeLink = (sdl: string): ReactNode => {
    const name = namedTypeOf(sdl);
    if (!known(name)) return <code>{sdl}</code>;
    const [before, after] = [sdl.slice(0, sdl.indexOf(name)), sdl.slice(sdl.indexOf(name) + name.length)];
    return (
      <code>
        {before}
        <button type="button" className="link" onClick={() => onOpen(name)}>{name}</button>
        {after}
      </code>
    );
  };
  const memberHeading = type.kind === 'enum' ? 'Values' : type.kind === 'input' ? 'Input fields' : 'Fields';
  return (
    <article className="type-view" aria-labelledby="type-title">
      <h2 id="type-title" tabIndex={-1} ref={heading}>
        {type.name} <small className="help">{type.kind}</small>
      </h2>
      {type.description && <p className="description">{type.description}</p>}
      {type.related.length > 0 && (
        <p>
          {type.kind === 'union' ? 'One of: ' : 'Implements: '}
          {type.related.map((r, i) => (
            <span key={r}>{i > 0 && ', '}{typeLink(r)}</span>
          ))}
        </p>
      )}
      {type.members.length > 0 && (
        <>
          <h3>{memberHeading}</h3>
          <dl className="members">
            {type.members.map((m) => <Member key={m.name} type={type} member={m} typeLink={typeLink} />)}
          </dl>
        </>
      )}
    </article>
  );
}

function Member({ type, member: m, typeLink }: { type: TypeEntry; member: MemberEntry; typeLink: (sdl: string) => ReactNode }): ReactNode {
  return (
    <div className={m.deprecationReason !== null ? 'member deprecated' : 'member'} data-testid={`member-${m.name}`}>
      <dt id={`member-${type.name}-${m.name}`} tabIndex={-1}>
        <strong>{m.name}</strong>
        {m.args.length > 0 && (
          <>
            (
            {m.args.map((a, i) => (
              <span key={a.name}>
                {i > 0 && ', '}
                {a.name}: {typeLink(a.type)}
                {a.defaultValue !== null && <> = <code>{a.defaultValue}</code></>}
              </span>
            ))}
            )
          </>
        )}
        {m.type && <>: {typeLink(m.type)}</>}
        {m.deprecationReason !== null && <span className="badge">deprecated</span>}
      </dt>
      <dd>
        {m.description && <p className="description">{m.description}</p>}
        {m.deprecationReason !== null && <p className="deprecation"><strong>Deprecated:</strong> {m.deprecationReason}</p>}
        {m.args.some((a) => a.description || a.deprecationReason) && (
          <ul className="args" aria-label={`Arguments of ${m.name}`}>
            {m.args.filter((a) => a.description || a.deprecationReason).map((a) => (
              <li key={a.name}>
                <code>{a.name}</code>: {a.description}
                {a.deprecationReason && <> <strong>Deprecated:</strong> {a.deprecationReason}</>}
              </li>
            ))}
          </ul>
        )}
      </dd>
    </div>
  );
}
