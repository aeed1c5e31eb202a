/**
 * The gateway's readiness (served as `/readyz` by lib/http/ops.ts): every subgraph is asked for
 * `{ __typename }` with a signed anonymous identity; a subgraph answers only after its storage is
 * open, so this checks subgraphs and storage. The result is cached for `cacheMs` so probes cannot
 * multiply into subgraph load.
 */
import type { Dispatcher } from 'undici';
import type { Readiness } from '../../lib/http/ops.js';
import { ANONYMOUS } from '../../lib/identity.js';
import { signRequest } from '../../lib/signing.js';

export interface HealthOptions {
  readonly subgraphs: ReadonlyArray<{ readonly name: string; readonly url: string }>;
  readonly dispatcher: Dispatcher;
  readonly secret: string;
  /** Per-subgraph probe timeout. @default 2000 */
  readonly timeoutMs?: number;
  /** How long a readiness answer is reused. @default 1000 */
  readonly cacheMs?: number;
}

export interface HealthCheck {
  readiness(): Promise<Readiness>;
}

const PROBE = JSON.stringify({ query: '{ __typename }' });

export function createHealthCheck(options: HealthOptions): HealthCheck {
  let cached: { at: number; value: Promise<Readiness> } | undefined;
  const timeout = options.timeoutMs ?? 2000;

  async function probe(name: string, url: string): Promise<'ok' | 'down'> {
    try {
      const target = new URL(url);
      const path = `${target.pathname}${target.search}`;
      const signed = signRequest(options.secret, { audience: name, method: 'POST', pathAndQuery: path, body: PROBE }, { ...ANONYMOUS, clientAddress: 'gateway-readyz' });
      const response = await options.dispatcher.request({
        origin: target.origin,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signed },
        body: PROBE,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
      const text = await response.body.text();
      return response.statusCode === 200 && text.includes('"__typename"') ? 'ok' : 'down';
    } catch {
      return 'down';
    }
  }

  return {
    readiness() {
      const now = Date.now();
      if (cached && now - cached.at < (options.cacheMs ?? 1000)) return cached.value;
      const value = Promise.all(options.subgraphs.map(async (s) => [s.name, await probe(s.name, s.url)] as const)).then((entries) => ({
        ready: entries.every(([, state]) => state === 'ok'),
        checks: Object.fromEntries(entries),
      }));
      cached = { at: now, value };
      return value;
    },
  };
}
