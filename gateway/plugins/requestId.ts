/**
 * Request ids: a client's `x-request-id` is kept when it is a short safe token, otherwise a fresh
 * UUID is minted. The id is echoed in the response, logged, and sent to every subgraph.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

const SAFE_ID = /^[A-Za-z0-9._:-]{8,64}$/;

export function requestIdOf(headers: IncomingHttpHeaders): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
}
