/**
 * Admission: what keeps one client from making the gateway refuse everyone.
 * - Connections per client address (the socket peer; trusted proxies are exempt, they carry
 *   everyone): past the cap a new connection is closed at once.
 * - Request bodies have a deadline and a minimum rate (`bodyRate`, which lib/http/body.ts enforces):
 *   a body may take longer than `bodyTimeoutMs` only while it keeps averaging `minBodyBytesPerSecond`,
 *   so a large upload on a slow line passes and a byte every few seconds is cut with 408.
 * - Concurrency per client (partner key, else user, else address) and per address, checked BEFORE
 *   the global in-flight limit of loadShedding.ts: a client over its share gets RATE_LIMITED (429,
 *   retry-after) while everyone else is still admitted. Only requests whose body has been read
 *   count (a slow body holds a connection, not an execution slot).
 */
import type { Socket } from 'node:net';
import { FolioError } from '../../lib/errors.js';
import { DEFAULT_BODY_RATE, type BodyRate } from '../../lib/http/body.js';
import type { Caller } from '../../lib/identity.js';
import type { GatewayMetrics } from './metrics.js';

export interface AdmissionOptions {
  /** Open connections per client address. @default 128 */
  readonly maxConnectionsPerAddress?: number;
  /** Requests being executed per client (partner key / user / anonymous address). @default 32 */
  readonly maxInFlightPerClient?: number;
  /** Requests being executed per client address, all its users together. @default 128 */
  readonly maxInFlightPerAddress?: number;
  /** Time a request body may take before the minimum rate applies. @default 10000 */
  readonly bodyTimeoutMs?: number;
  /** Average body rate (bytes/s) a body must keep once past bodyTimeoutMs. @default 8192 */
  readonly minBodyBytesPerSecond?: number;
  /** Socket peers that are our own proxies (not capped: every client comes through them). */
  readonly isTrustedProxy?: (address: string) => boolean;
  readonly metrics?: GatewayMetrics;
}

export interface Admission {
  /** For server.on('connection'): closes the socket when its address holds too many. */
  onConnection(socket: Socket): void;
  /** Counts an admitted request for its client and address; throws RATE_LIMITED over either cap. Returns the release. */
  enter(caller: Caller): () => void;
  /** The deadline and minimum rate request bodies are read with (readBody's `rate`). */
  readonly bodyRate: BodyRate;
  /** Requests admitted per key (tests, metrics). */
  inFlightOf(key: string): number;
}

/** The client a request is charged to: the partner key, else the user, else the address. */
export function clientKeyOf(caller: Caller): string {
  if (caller.partnerId !== null) return `partner:${caller.partnerId}`;
  if (caller.userId !== null) return `user:${caller.userId}`;
  return `address:${caller.clientAddress}`;
}

export function createAdmission(options: AdmissionOptions = {}): Admission {
  const maxConnections = options.maxConnectionsPerAddress ?? 128;
  const maxPerClient = options.maxInFlightPerClient ?? 32;
  const maxPerAddress = options.maxInFlightPerAddress ?? 128;
  const bodyRate: BodyRate = { timeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_RATE.timeoutMs, minBytesPerSecond: options.minBodyBytesPerSecond ?? DEFAULT_BODY_RATE.minBytesPerSecond };
  const connections = new Map<string, number>();
  const inFlight = new Map<string, number>();

  const add = (map: Map<string, number>, key: string, delta: number): void => {
    const next = (map.get(key) ?? 0) + delta;
    if (next <= 0) map.delete(key);
    else map.set(key, next);
  };

  const refuse = (scope: string): never => {
    options.metrics?.shed.inc({ reason: scope });
    throw new FolioError('RATE_LIMITED', 'Too many concurrent requests from this client; retry shortly.', { details: { retryAfterSeconds: 1, limit: 'concurrency' } });
  };

  return {
    bodyRate,
    onConnection(socket) {
      const address = socket.remoteAddress?.replace(/^::ffff:(?=\d)/i, '') ?? 'unknown';
      if (options.isTrustedProxy?.(address)) return;
      if ((connections.get(address) ?? 0) >= maxConnections) {
        options.metrics?.shed.inc({ reason: 'connections_per_address' });
        socket.destroy();
        return;
      }
      add(connections, address, 1);
      socket.once('close', () => add(connections, address, -1));
    },
    enter(caller) {
      const client = clientKeyOf(caller);
      const address = `address:${caller.clientAddress}`;
      if ((inFlight.get(client) ?? 0) >= maxPerClient) refuse('client_in_flight');
      if (client !== address && (inFlight.get(address) ?? 0) >= maxPerAddress) refuse('address_in_flight');
      add(inFlight, client, 1);
      if (client !== address) add(inFlight, address, 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        add(inFlight, client, -1);
        if (client !== address) add(inFlight, address, -1);
      };
    },
    inFlightOf(key) {
      return inFlight.get(key) ?? 0;
    },
  };
}
