import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/logger.js';
import { RequestVerifier } from '../../lib/signing.js';
import { UsageRecorder, usageClientOf, usageDocumentKey } from './schemaUsage.js';
import { createUsageFlusher, type UsagePayload } from './schemaUsageFlusher.js';

const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

const schema = buildSchema('type Query { book(id: ID!): Book, books(first: Int): [Book!]! } type Book { id: ID!, title: String, isbn: String @deprecated(reason: "use ids") }');
const SECRET = 'test-secret-test-secret-test-secret-0123';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe('usage clients and keys', () => {
  it('takes bounded client labels from headers and the partner key from the caller', () => {
    expect(usageClientOf({ 'apollographql-client-name': 'reader-ios', 'apollographql-client-version': '3.2.1' }, null)).toMatchObject({ name: 'reader-ios', version: '3.2.1', partnerKeyId: null });
    expect(usageClientOf({ 'x-client-name': 'web', 'x-client-version': '7' }, 'k1')).toMatchObject({ name: 'web', version: '7', partnerKeyId: 'k1' });
    expect(usageClientOf({ 'apollographql-client-name': 'bad name\n', 'apollographql-client-version': 'x'.repeat(40) }, null)).toMatchObject({ name: 'unknown', version: '' });
    expect(usageClientOf({}, null)).toBe(usageClientOf({}, null)); // no allocation for the common case
    expect(usageDocumentKey({ query: '{ a }' })).toBe('{ a }');
    expect(usageDocumentKey({ extensions: { persistedQuery: { sha256Hash: 'abc' } } })).toBe('abc');
  });

  it('counts cache hits and deduplicated requests by the document key of an executed request', () => {
    const recorder = new UsageRecorder();
    const client = usageClientOf({}, null);
    recorder.countKnown({ client, documentKey: '{ books { title } }' }); // never executed: unknown, not counted
    recorder.record(schema, parse('{ books { title } }'), { client, documentKey: '{ books { title } }' });
    recorder.countKnown({ client, documentKey: '{ books { title } }' });
    // The same text parsed again (Apollo's document cache evicted it): counted without a second walk.
    const reparsed = parse('{ books { title } }');
    recorder.record(schema, reparsed, { client, documentKey: '{ books { title } }' });
    expect(recorder.aggregator.known(reparsed)).toBe(false);
    const { rows } = recorder.aggregator.drain();
    expect(rows.map((r) => r.requests)).toEqual([3]);
  });
});

describe('usage flusher', () => {
  it('sends signed payloads to accounts, retries a failed one, and sends each operation text and the schema once', async () => {
    const verifier = new RequestVerifier({ secret: SECRET, audience: 'accounts' });
    const received: UsagePayload[] = [];
    let fail = 1;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const verdict = verifier.verify(req.headers, { method: req.method ?? 'POST', pathAndQuery: req.url ?? '/', body });
        if (!verdict.ok || req.url !== '/internal/schema-usage') return void res.writeHead(401).end();
        if (fail-- > 0) return void res.writeHead(503).end();
        received.push(JSON.parse(body) as UsagePayload);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const recorder = new UsageRecorder();
    const flusher = createUsageFlusher({ aggregator: recorder.aggregator, target: { secret: SECRET, audience: 'accounts', baseUrl }, logger: createLogger('test', 'silent') });
    const doc = parse('query Isbn { book(id: "42") { isbn } }');
    const client = usageClientOf({ 'apollographql-client-name': 'app' }, null);

    recorder.record(schema, doc, { client, documentKey: 'a' });
    await flusher.flush(); // accounts answers 503: kept for the next flush
    expect(received).toHaveLength(0);
    recorder.record(schema, doc, { client, documentKey: 'a' });
    await flusher.flush();
    expect(received).toHaveLength(2);
    expect(received[0]!.schema?.deprecated).toEqual([{ coordinate: 'Book.isbn', reason: 'use ids' }]);
    expect(received[0]!.operations[0]!.body).toBe('query Isbn {\n  book(id: "") {\n    isbn\n  }\n}');
    expect(received[1]!.schema).toBeUndefined();
    expect(received[1]!.operations[0]!.body).toBeNull(); // accounts has the text already
    expect(received.flatMap((p) => p.rows.filter((r) => r.coordinate === 'Book.isbn').map((r) => [r.clientName, r.requests]))).toEqual([['app', 1], ['app', 1]]);

    recorder.record(schema, doc, { client, documentKey: 'a' });
    await flusher.stop(); // shutdown sends what is left
    expect(received).toHaveLength(3);
  });
});
