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
 *
 * Per request, objects with methods rather than closures: the sources run through tsx, whose
 * `keepNames` gives every named closure a `defineProperty` call when it is created (about a
 * microsecond each, issue 14).
 */
const watched = new Set<RateWatch>();
let ticker: NodeJS.Timeout | undefined;
let tickerPeriod = Infinity;

function tick(): void {
  for (const watch of watched) watch.check();
}

function unwatch(watch: RateWatch): void {
  watched.delete(watch);
  if (watched.size === 0 && ticker !== undefined) {
    clearInterval(ticker);
    ticker = undefined;
    tickerPeriod = Infinity;
  }
}

class RateWatch implements BodyWatch {
  private readonly started = performance.now();
  private bytes = 0;

  constructor(
    private readonly rate: BodyRate,
    private readonly onTimeout: () => void,
  ) {
    watched.add(this);
    const period = Math.min(1000, rate.timeoutMs);
    if (ticker === undefined || period < tickerPeriod) {
      if (ticker !== undefined) clearInterval(ticker);
      tickerPeriod = period;
      ticker = setInterval(tick, period);
      ticker.unref();
    }
  }

  check(): void {
    const elapsed = performance.now() - this.started;
    if (elapsed >= this.rate.timeoutMs && this.bytes < (this.rate.minBytesPerSecond * elapsed) / 1000) {
      unwatch(this);
      this.onTimeout();
    }
  }

  received(n: number): void {
    this.bytes += n;
  }

  done(): void {
    unwatch(this);
  }
}

/** Calls `onTimeout` once a body falls behind `rate` (checked at least once a second: cheap, and cut within a second of falling behind). */
export function watchBodyRate(rate: BodyRate, onTimeout: () => void): BodyWatch {
  return new RateWatch(rate, onTimeout);
}

/** One body being read: its chunks, its size and how it ends. */
class BodyRead {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private discarding = false;
  private readonly watch: RateWatch;
  private readonly onData: (chunk: Buffer) => void;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBytes: number,
    private readonly rate: BodyRate,
    private readonly resolve: (body: Buffer) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    this.onData = this.data.bind(this);
    this.watch = new RateWatch(rate, this.timedOut.bind(this));
    req.on('data', this.onData);
    req.on('end', this.end.bind(this));
    req.on('error', this.error.bind(this));
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.chunks.length = 0;
    this.reject(error);
  }

  private timedOut(): void {
    // Discarding an oversize body as slowly as this: its 413 is long sent, stop listening.
    if (this.discarding) return void this.req.destroy();
    this.req.off('data', this.onData);
    this.fail(new FolioError('REQUEST_TIMEOUT', `The request body did not arrive within ${this.rate.timeoutMs} ms at ${this.rate.minBytesPerSecond} bytes/s or more.`));
  }

  private data(chunk: Buffer): void {
    this.size += chunk.length;
    this.watch.received(chunk.length);
    if (this.discarding) return;
    if (this.size > this.maxBytes) {
      this.discarding = true;
      this.fail(payloadTooLarge(this.maxBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  private end(): void {
    this.watch.done();
    if (this.settled) return;
    this.settled = true;
    this.resolve(this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks));
  }

  private error(error: unknown): void {
    this.watch.done();
    this.fail(error);
  }
}

/** The whole body, or PAYLOAD_TOO_LARGE / REQUEST_TIMEOUT (FolioErrors), or the stream's own error. */
export function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const { maxBytes, rate = DEFAULT_BODY_RATE } = options;
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes) {
    req.resume(); // discard: the client reads its 413 instead of a reset
    return Promise.reject(payloadTooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => void new BodyRead(req, maxBytes, rate, resolve, reject));
}
