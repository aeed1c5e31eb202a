/**
 * Listening, Node's limits and draining, the same for the gateway and every subgraph. `drain()`
 * stops accepting, closes idle keep-alive sockets (they would otherwise hold server.close() open
 * until they time out), lets in-flight requests finish for at most `timeoutMs`, then closes every
 * socket. While it drains, `/healthz` answers 503 (ops.ts) and an edge may refuse new work on open
 * connections.
 */
import type { Server, ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Lifecycle {
  /** Requests received and not yet answered (or abandoned). */
  readonly inFlight: number;
  isDraining(): boolean;
  /** Idempotent: a second call returns the first drain. */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Node's own limits, the backstop behind body deadlines (body.ts), for every server: headers within
 * 10 s, a whole request within 5 min unless a server says otherwise, checked every second rather
 * than 30; idle keep-alive sockets kept longer than clients' pools keep them (no reuse races).
 */
export const EDGE_SERVER_OPTIONS = { keepAliveTimeout: 65_000, headersTimeout: 10_000, requestTimeout: 300_000, connectionsCheckingInterval: 1000 } as const satisfies ServerOptions;

/** Resolves with the bound port; rejects with listen's error (EADDRINUSE keeps its `code` and `port`). */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function trackLifecycle(server: Server): Lifecycle {
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let draining: Promise<void> | undefined;
  server.on('request', (_req, res) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });

  async function drain(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    server.closeAllConnections();
    await closed;
  }

  return {
    get inFlight() {
      return inFlight;
    },
    isDraining: () => draining !== undefined,
    drain(timeoutMs) {
      draining ??= drain(timeoutMs);
      return draining;
    },
  };
}
