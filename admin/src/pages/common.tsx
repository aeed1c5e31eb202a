/** What the console's pages share: the server's refusals shown plainly. */
import type { ReactNode } from 'react';
import { ApiError } from '../api.js';

export function errorMessage(e: unknown): string {
  return e instanceof ApiError ? e.message : e instanceof Error ? e.message : String(e);
}

/** True when the server refused the caller (FORBIDDEN): the page says "Not allowed" rather than an error. */
export function isForbidden(e: unknown): boolean {
  return e instanceof ApiError && e.codes.includes('FORBIDDEN');
}

/** The server's FORBIDDEN, as a page shows it. */
export function NotAllowed({ what, message }: { what: string; message: string }): ReactNode {
  return (
    <section role="alert" className="not-allowed" aria-labelledby="not-allowed-title">
      <h2 id="not-allowed-title">Not allowed</h2>
      <p>{what} is for admins. The server answered: {message}</p>
    </section>
  );
}
