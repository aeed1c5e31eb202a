import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHashEmbedder, OpenAIEmbedder } from './embedder.js';

const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

describe('LocalHashEmbedder', () => {
  const embedder = new LocalHashEmbedder();

  it('is deterministic, L2-normalised, 384-dimensional, and names model and dimension', async () => {
    const [a, b] = await embedder.embed(['The old man and the sea', 'The old man and the sea']);
    expect(a).toEqual(b);
    expect(a!.length).toBe(384);
    expect(cosine(a!, a!)).toBeCloseTo(1, 5);
    expect(embedder.id).toBe('local-hash-v1:384');
    expect(new LocalHashEmbedder({ dimension: 64 }).id).toBe('local-hash-v1:64');
  });

  it('scores similar text above unrelated text, in English and Chinese', async () => {
    const [q, near, far] = await embedder.embed(['the whale hunted by sailors', 'sailors hunting a white whale', 'a recipe for chocolate cake']);
    expect(cosine(q!, near!)).toBeGreaterThan(cosine(q!, far!) + 0.2);
    const [zq, znear, zfar] = await embedder.embed(['三体文明的黑暗森林法则', '黑暗森林法则与三体人', '今天的天气很好适合散步']);
    expect(cosine(zq!, znear!)).toBeGreaterThan(cosine(zq!, zfar!) + 0.2);
  });

  it('gives empty text a defined unit vector', async () => {
    const [v] = await embedder.embed(['']);
    expect(cosine(v!, v!)).toBeCloseTo(1);
  });
});

describe('OpenAIEmbedder', () => {
  let url = '';
  let requests: Array<{ input: string[]; auth: string | undefined }> = [];
  let failNext = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { input: string[]; dimensions: number };
      requests.push({ input: parsed.input, auth: req.headers.authorization });
      if (failNext > 0) {
        failNext--;
        res.writeHead(429).end('slow down');
        return;
      }
      // Out of order on purpose: the client must sort by index.
      const data = parsed.input.map((text, index) => ({ index, embedding: Array.from({ length: parsed.dimensions }, (_, d) => (d === 0 ? text.length : 1)) })).reverse();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('batches, keeps order, normalises, and retries 429 with backoff', async () => {
    requests = [];
    failNext = 1;
    const embedder = new OpenAIEmbedder({ url, model: 'm', apiKey: 'k', dimension: 4, batchSize: 2, concurrency: 2, backoffMs: 1 });
    expect(embedder.id).toBe('openai:m:4');
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee'];
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(5);
    vectors.forEach((v, i) => {
      expect(cosine(v, v)).toBeCloseTo(1, 5);
      expect(v[0]! / v[1]!).toBeCloseTo(texts[i]!.length, 4);
    });
    expect(requests.length).toBe(4); // 3 batches + 1 retry
    expect(requests.every((r) => r.auth === 'Bearer k' && r.input.length <= 2)).toBe(true);
  });

  it('fails with SERVICE_UNAVAILABLE after the last attempt or on a malformed answer', async () => {
    failNext = 10;
    const embedder = new OpenAIEmbedder({ url, model: 'm', dimension: 4, maxAttempts: 2, backoffMs: 1 });
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    failNext = 0;
    const wrongDim = new OpenAIEmbedder({ url, model: 'm', dimension: 4, backoffMs: 1, fetch: async () => new Response(JSON.stringify({ data: [{ index: 0, embedding: [1, 2] }] })) });
    await expect(wrongDim.embed(['x'])).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
