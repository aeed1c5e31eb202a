/**
 * A table over a Query connection field, built from the schema: its columns are the node type's
 * plain fields, its filters the connection's filter input (enums as selects, strings as search
 * boxes), and it pages by cursor (Next follows pageInfo.endCursor; Previous returns to the cursor
 * it came from).
 */
import { useCallback, useEffect, useId, useState, type ReactNode } from 'react';
import { getNamedType, isEnumType, type GraphQLSchema } from 'graphql';
import { ApiError, request } from '../api.js';
import { connectionQuery, connectionShape } from '../schema.js';

interface ListData {
  readonly list: {
    readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: Record<string, unknown> }>;
    readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
  } | null;
}

export interface ConnectionTableProps {
  readonly schema: GraphQLSchema;
  readonly token: string;
  readonly field: string;
  readonly title: string;
  /** Columns shown first, in this order, when the schema has them; the rest follow. */
  readonly preferred?: readonly string[];
  readonly pageSize?: number;
  /** Changes when the list must be read again (e.g. after a create). */
  readonly reloadKey?: number;
  /** Adds an Open button to each row (rows need an `id` column). */
  readonly onOpen?: (node: Record<string, unknown>) => void;
}

export function ConnectionTable({ schema, token, field, title, preferred = [], pageSize = 10, reloadKey = 0, onOpen }: ConnectionTableProps): ReactNode {
  const shape = connectionShape(schema, field);
  const [filter, setFilter] = useState<Record<string, string>>({});
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const [data, setData] = useState<ListData['list']>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const headingId = useId();

  const columns = shape
    ? [...preferred.filter((p) => shape.columns.some((c) => c.name === p)), ...shape.columns.map((c) => c.name).filter((n) => !preferred.includes(n))]
    : [];
  const query = shape ? connectionQuery(shape, columns) : '';
  const after = cursors[cursors.length - 1] ?? null;

  const load = useCallback(async () => {
    if (!shape) return;
    setLoading(true);
    setError(null);
    try {
      const active = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== ''));
      const variables: Record<string, unknown> = { first: pageSize, after };
      if (shape.filterType) variables.filter = active;
      setData((await request<ListData>(query, variables, token)).list);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setLoading(false);
    }
    // shape is derived from schema; query captures the columns.
  }, [query, token, pageSize, after, JSON.stringify(filter), reloadKey]);

  useEffect(() => void load(), [load]);

  if (!shape) return <p role="alert">The schema has no connection field “{field}”.</p>;
  const filterFields = shape.filterType ? Object.values(shape.filterType.getFields()) : [];

  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        {filterFields.map((f) => {
          const type = getNamedType(f.type);
          const value = filter[f.name] ?? '';
          const set = (v: string): void => {
            setFilter({ ...filter, [f.name]: v });
            setCursors([null]);
          };
          const id = `filter-${f.name}`;
          return (
            <div className="field" key={f.name}>
              <label htmlFor={id}>{f.name}</label>
              {isEnumType(type) ? (
                <select id={id} value={value} onChange={(e) => set(e.target.value)} title={f.description ?? undefined}>
                  <option value="">(any)</option>
                  {type.getValues().map((v) => <option key={v.name} value={v.name}>{v.name}</option>)}
                </select>
              ) : (
                <input id={id} type="search" value={value} maxLength={200} onChange={(e) => set(e.target.value)} title={f.description ?? undefined} />
              )}
            </div>
          );
        })}
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="table-wrap">
        <table aria-busy={loading}>
          <thead>
            <tr>
              {onOpen && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              {columns.map((c) => <th key={c} scope="col">{c}</th>)}
            </tr>
          </thead>
          <tbody>
            {data?.edges.map(({ cursor, node }) => (
              <tr key={cursor}>
                {onOpen && (
                  <td>
                    <button type="button" onClick={() => onOpen(node)} aria-label={`Open ${display(node.title ?? node.name ?? node.username ?? node.id)}`}>Open</button>
                  </td>
                )}
                {columns.map((c) => <td key={c}>{display(node[c])}</td>)}
              </tr>
            ))}
            {data && data.edges.length === 0 && (
              <tr><td colSpan={columns.length + (onOpen ? 1 : 0)}>Nothing here.</td></tr>
            )}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label={`${title} pages`}>
        <button type="button" disabled={cursors.length <= 1 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>Previous</button>
        <span>Page {cursors.length}</span>
        <button
          type="button"
          disabled={!data?.pageInfo.hasNextPage || loading}
          onClick={() => data?.pageInfo.endCursor && setCursors([...cursors, data.pageInfo.endCursor])}
        >
          Next
        </button>
      </nav>
    </section>
  );
}

function display(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return value.map(display).join(', ');
  return String(value);
}
