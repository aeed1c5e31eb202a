/** Subscription clients for e2e tests: the stock graphql-ws and graphql-sse clients, as apps use them. */
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import WebSocket from 'ws';

export interface Received {
  readonly events: Array<{ data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }>;
  /** Set when the server ended the subscription with an error (a GraphQL error list, a close event, a response). */
  error: unknown;
  completed: boolean;
  /** Resolves with the nth event (0-based), or rejects after timeoutMs. */
  nth(n: number, timeoutMs?: number): Promise<Received['events'][number]>;
  /** Resolves once the subscription ended (error or complete). */
  ended(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

type Subscribable = Pick<WsClient, 'subscribe'> | Pick<SseClient, 'subscribe'>;

export function collect(client: Subscribable, query: string, variables: Record<string, unknown> = {}): Received {
  const received: Received = {
    events: [],
    error: undefined,
    completed: false,
    async nth(n, timeoutMs = 10_000) {
      await waitFor(() => received.events.length > n || received.error !== undefined || received.completed, timeoutMs, `event #${n}`);
      if (received.events.length <= n) throw new Error(`subscription ended before event #${n}: ${JSON.stringify(received.error) ?? 'completed'}`);
      return received.events[n]!;
    },
    async ended(timeoutMs = 10_000) {
      await waitFor(() => received.error !== undefined || received.completed, timeoutMs, 'the subscription to end');
    },
    unsubscribe: () => {},
  };
  received.unsubscribe = client.subscribe(
    { query, variables },
    {
      next: (value) => void received.events.push(value as Received['events'][number]),
      error: (error) => void (received.error = error ?? 'error'),
      complete: () => void (received.completed = true),
    },
  );
  return received;
}

export interface WsConnection {
  readonly client: WsClient;
  /** The close code once the socket closed; undefined while open. */
  readonly closed: { code?: number; reason?: string };
  /** Resolves once connection_ack arrived, rejects with the close code when refused. */
  readonly opened: Promise<void>;
  dispose(): Promise<void>;
}

export function wsConnect(gatewayUrl: string, token: string | undefined): WsConnection {
  const closed: WsConnection['closed'] = {};
  let resolveOpen!: () => void;
  let rejectOpen!: (error: Error) => void;
  const opened = new Promise<void>((resolve, reject) => ((resolveOpen = resolve), (rejectOpen = reject)));
  opened.catch(() => {});
  const client = createWsClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {},
    on: {
      connected: () => resolveOpen(),
      closed: (event) => {
        const e = event as { code?: number; reason?: string };
        (closed as { code?: number }).code = e.code;
        (closed as { reason?: string }).reason = e.reason;
        rejectOpen(new Error(`closed ${e.code} ${e.reason}`));
      },
    },
  });
  return { client, closed, opened, dispose: () => client.dispose() as Promise<void> };
}

export function sseClient(gatewayUrl: string, token: string | undefined): SseClient {
  return createSseClient({ url: gatewayUrl, headers: token ? { authorization: `Bearer ${token}` } : {}, retryAttempts: 0 });
}
