/**
 * Reading a request body, the same way at every edge (gateway and subgraphs): bounded in size and in time.
 *
 * Size: a declared content-length over the limit is refused before anything is read; otherwise
 * bytes are counted. Past the limit the rest of the body is discarded (read and dropped, never
 * buffered) rather than the socket destroyed: the client still reads its 413, where a reset
 * connection reads as a network error that clients retry. Discarding is bounded by the same
 * deadline as reading (the socket is closed once it falls behind), and by the server's requestTimeout.
 *
 * Time: a body may take longer than `rate.timeoutMs` only while it keeps averaging
 * `rate.minBytesPerSecond`, so a large upload on a slow line passes and a byte every few seconds is
 * cut with REQUEST_TIMEOUT (408), whose answer closes the connection (respond.ts).
 */
import type { IncomingMessage } from 'node:http';
import { FolioError } from '../errors.js';

export interface BodyRate {
  /** Time a body may take before the minimum rate applies. */
  readonly timeoutMs: number;
  /** Average rate (bytes/s) a body must keep once past timeoutMs. */
  readonly minBytesPerSecond: number;
}

export interface ReadBodyOptions {
  readonly maxBytes: number;
  /** Deadline and minimum rate. @default DEFAULT_BODY_RATE */
  readonly rate?: BodyRate | undefined;
}

export interface BodyWatch {
  received(bytes: number): void;
  done(): void;
}

/** 10 s, then at least 8 KiB/s on average (the gateway's defaults, FOLIO_GATEWAY_BODY_TIMEOUT_MS etc.). */
export const DEFAULT_BODY_RATE: BodyRate = { timeoutMs: 10_000, minBytesPerSecond: 8192 };

export const payloadTooLarge = (max: number): FolioError => new FolioError('PAYLOAD_TOO_LARGE', `The request body exceeds ${max} bytes.`);

/** The declared content-length, or undefined when absent (chunked) or malformed (then the byte count decides). */
export function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  return header !== undefined && /^\d{1,15}$/.test(header) ? Number(header) : undefined;
}

/**
 * Every body being read, checked by one shared interval rather than a timer per request (a timer
 * per request was a measurable share of a small request's cost). The interval runs only while a
 * body is being read, at the shortest period any of them asks for.
 */
const watched = new Set<() => void>();
let ticker: NodeJS.Timeout | undefined;
let tickerPeriod = Infinity;

function tick(): void {
  for (const check of watched) check();
}

function watchBody(check: () => void, period: number): void {
  watched.add(check);
  if (ticker === undefined || period < tickerPeriod) {
    if (ticker !== undefined) clearInterval(ticker);
    tickerPeriod = period;
    ticker = setInterval(tick, period);
    ticker.unref();
  }
}

function unwatchBody(check: () => void): void {
  watched.delete(check);
  if (watched.size === 0 && ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
    tickerPeriod = Infinity;
  }
}

/** Calls `onTimeout` once a body falls behind `rate` (checked at least once a second: cheap, and cut within a second of falling behind). */
export function watchBodyRate(rate: BodyRate, onTimeout: () => void): BodyWatch {
  const started = performance.now();
  let bytes = 0;
  const check = (): void => {
    const elapsed = performance.now() - started;
    if (elapsed >= rate.timeoutMs && bytes < (rate.minBytesPerSecond * elapsed) / 1000) {
      unwatchBody(check);
      onTimeout();
    }
  };
  watchBody(check, Math.min(1000, rate.timeoutMs));
  return {
    received(n) {
      bytes += n;
    },
    done() {
      unwatchBody(check);
    },
  };
}

/** The whole body, or PAYLOAD_TOO_LARGE / REQUEST_TIMEOUT (FolioErrors), or the stream's own error. */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes, rate = DEFAULT_BODY_RATE } = options;
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes) {
    req.resume(); // discard: the client reads its 413 instead of a reset
    return Promise.reject(payloadTooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    let discarding = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      chunks.length = 0;
      reject(error);
    };
    const watch = watchBodyRate(rate, () => {
      // Discarding an oversize body as slowly as this: its 413 is long sent, stop listening.
      if (discarding) return void req.destroy();
      req.off('data', onData);
      fail(new FolioError('REQUEST_TIMEOUT', `The request body did not arrive within ${rate.timeoutMs} ms at ${rate.minBytesPerSecond} bytes/s or more.`));
    });
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      watch.received(chunk.length);
      if (discarding) return;
      if (size > maxBytes) {
        discarding = true;
        fail(payloadTooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => {
      watch.done();
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      watch.done();
      fail(error);
    });
  });
}
