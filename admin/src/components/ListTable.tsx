/**
 * A table over a Query field that returns a plain list of objects (`apiKeys`, `trustedDocuments`,
 * `mySessions`): its columns are the item type's plain fields, read from the schema, so a field
 * added to the type shows up as a column. Row actions (revoke, remove) come from the page.
 */
import { useEffect, useId, useState, type ReactNode } from 'react';
import type { GraphQLSchema } from 'graphql';
import { request } from '../api.js';
import { errorMessage, isForbidden } from '../pages/common.js';
import { listShape, listQuery } from '../schema.js';

export interface ListTableProps {
  readonly schema: GraphQLSchema;
  readonly token: string;
  readonly field: string;
  /** The field's arguments (`userSessions(userId:)`), sent as variables. */
  readonly args?: Readonly<Record<string, unknown>>;
  readonly title: string;
  /** Columns shown first, in this order, when the schema has them; the rest follow. */
  readonly preferred?: readonly string[];
  /** Columns left out (long text shown elsewhere, say). */
  readonly hidden?: readonly string[];
  /** Changes when the list must be read again (after a create, a revoke). */
  readonly reloadKey?: number;
  /** The cells of an Actions column, per row. */
  readonly actions?: (row: Record<string, unknown>) => ReactNode;
  /** Shown instead of the table when the server refuses the list (FORBIDDEN). */
  readonly onForbidden?: (message: string) => ReactNode;
  /** How a cell is shown; the default joins lists and shows null as a dash. */
  readonly cell?: (column: string, value: unknown) => ReactNode;
  /** What an empty list says. */
  readonly empty?: string;
}

const NO_ARGS: Readonly<Record<string, unknown>> = {};

export function ListTable({ schema, token, field, args = NO_ARGS, title, preferred = [], hidden = [], reloadKey = 0, actions, onForbidden, cell, empty = 'Nothing here.' }: ListTableProps): ReactNode {
  const shape = listShape(schema, field);
  const [rows, setRows] = useState<ReadonlyArray<Record<string, unknown>> | null>(null);
  const [error, setError] = useState<{ message: string; forbidden: boolean } | null>(null);
  const headingId = useId();
  const columns = shape
    ? [...preferred.filter((p) => shape.columns.some((c) => c.name === p)), ...shape.columns.map((c) => c.name).filter((n) => !preferred.includes(n))].filter((c) => !hidden.includes(c))
    : [];
  // Rows are keyed by id, so it is always read.
  const query = shape ? listQuery(shape, columns.includes('id') ? columns : ['id', ...columns], Object.keys(args)) : '';
  const variables = JSON.stringify(args);

  useEffect(() => {
    if (!query) return;
    let live = true;
    request<{ list: Array<Record<string, unknown>> | null }>(query, JSON.parse(variables) as Record<string, unknown>, token).then(
      ({ list }) => {
        if (!live) return;
        setRows(list ?? []);
        setError(null);
      },
      (e: unknown) => live && setError({ message: errorMessage(e), forbidden: isForbidden(e) }),
    );
    return () => {
      live = false;
    };
  }, [query, variables, token, reloadKey]);

  if (!shape) return <p role="alert">The schema has no list field “{field}”.</p>;
  if (error?.forbidden && onForbidden) return onForbidden(error.message);
  const show = cell ?? ((_: string, value: unknown) => display(value));
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {error && <p role="alert" className="error">{error.message}</p>}
      <div className="table-wrap">
        <table aria-labelledby={headingId} aria-busy={rows === null && !error}>
          <thead>
            <tr>
              {actions && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              {columns.map((c) => <th key={c} scope="col" title={shape.columns.find((s) => s.name === c)?.description ?? undefined}>{c}</th>)}
            </tr>
          </thead>
          <tbody>
            {rows?.map((row) => (
              <tr key={String(row.id)}>
                {actions && <td className="row-actions">{actions(row)}</td>}
                {columns.map((c) => <td key={c}>{show(c, row[c])}</td>)}
              </tr>
            ))}
            {rows && rows.length === 0 && (
              <tr><td colSpan={columns.length + (actions ? 1 : 0)}>{empty}</td></tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const ISO_INSTANT = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}(?:\.\d+)?Z$/;

/** Lists joined, null as a dash, DateTimes as `2026-12-03 17:14 UTC` (to the minute; the title has the rest). */
export function display(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') {
    const instant = ISO_INSTANT.exec(value);
    if (instant) return `${instant[1]} ${instant[2]} UTC`;
  }
  if (Array.isArray(value)) return value.map(display).join(', ') || '—';
  return String(value);
}
