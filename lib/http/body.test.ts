import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, type ReadBodyOptions } from './body.js';
import { sendError, sendJson } from './respond.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? (server.closeAllConnections(), server.close(() => resolve())) : resolve())));

/** A server that reads each body with `options` and answers its length, or the error. */
async function serve(options: ReadBodyOptions): Promise<number> {
  server = createServer((req, res) => {
    readBody(req, options).then(
      (body) => sendJson(res, 200, { bytes: body.length }),
      (error: unknown) => sendError(res, error),
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Sends `chunks` (chunked unless `length` is given), `gapMs` apart; resolves with the status and body, or the socket error. */
function send(port: number, chunks: readonly Buffer[], opts: { length?: number; gapMs?: number } = {}): Promise<{ status: number; body: string; connection?: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', method: 'POST', headers: opts.length === undefined ? {} : { 'content-length': String(opts.length) } }, (res) => {
      let body = '';
      const connection = res.headers.connection;
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body, ...(connection === 'close' ? { connection } : {}) }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    let i = 0;
    const next = (): void => {
      if (i === chunks.length) return void req.end();
      req.write(chunks[i++]!);
      setTimeout(next, opts.gapMs ?? 0);
    };
    next();
  });
}

const code = (answer: Awaited<ReturnType<typeof send>>): unknown => ('body' in answer ? JSON.parse(answer.body).errors?.[0]?.extensions?.code : answer.error);

describe('readBody', () => {
  it('reads a body within the limit', async () => {
    const port = await serve({ maxBytes: 100 });
    expect(await send(port, [Buffer.alloc(60), Buffer.alloc(40)])).toEqual({ status: 200, body: '{"bytes":100}' });
  });

  it('refuses a declared oversize body with 413 before reading it', async () => {
    const port = await serve({ maxBytes: 100 });
    const answer = await send(port, [Buffer.alloc(101)], { length: 101 });
    expect(answer).toMatchObject({ status: 413 });
    expect(code(answer)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('counts an undeclared (chunked) body and answers 413 after discarding the rest, never a reset connection', async () => {
    const port = await serve({ maxBytes: 1000 });
    const answer = await send(port, Array.from({ length: 20 }, () => Buffer.alloc(64 * 1024)));
    expect(answer).toMatchObject({ status: 413 });
    expect(code(answer)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('closes the socket of an oversize body whose discarded rest falls behind the minimum rate, after its 413', async () => {
    const port = await serve({ maxBytes: 10, rate: { timeoutMs: 100, minBytesPerSecond: 1000 } });
    let closed = false;
    const answer = await new Promise<number>((resolve) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST' }, (res) => resolve(res.statusCode ?? 0));
      req.on('error', () => undefined);
      req.on('close', () => (closed = true));
      req.write(Buffer.alloc(20));
      const drip = setInterval(() => (req.destroyed ? clearInterval(drip) : req.write('x')), 50);
    });
    expect(answer).toBe(413);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(closed).toBe(true);
  });

  it('cuts a body that falls behind the minimum rate with 408', async () => {
    const port = await serve({ maxBytes: 1000, rate: { timeoutMs: 100, minBytesPerSecond: 1000 } });
    const answer = await send(port, Array.from({ length: 30 }, () => Buffer.alloc(1)), { gapMs: 50 });
    expect(answer).toMatchObject({ status: 408, connection: 'close' });
    expect(code(answer)).toBe('REQUEST_TIMEOUT');
  });
});
