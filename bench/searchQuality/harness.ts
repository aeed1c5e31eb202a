/**
 * Runs the evaluation set against the real search service (alone, against fakes of the catalog and
 * ugc contracts, with the six demo books published) and scores it: recall@10 (the answering
 * paragraph is among the first ten hits) and MRR (1/rank of the first hit that holds it, 0 past
 * ten), per mode and per category. The embedder is whatever `env` configures.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { testConfig } from '../../lib/config.js';
import { ANONYMOUS, type Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import type { RunningService } from '../../lib/service.js';
import { signRequest } from '../../lib/signing.js';
import { openStorage } from '../../lib/storage/index.js';
import { demoBooks } from '../../subgraphs/catalog/demo/index.js';
import { searchService } from '../../subgraphs/search/index.js';
import { eventually, tempDataDir } from '../../test/kit/platform.js';
import { fakeRevision, SEARCH, startFakeCatalog, startFakeUgc, type FakeRevision } from '../../test/kit/search.js';
import { EVAL_SET, type EvalCase, type EvalCategory } from './evalSet.js';

export const MODES = ['KEYWORD', 'SEMANTIC', 'HYBRID'] as const;
export type Mode = (typeof MODES)[number];
export const K = 10;

export interface Score {
  readonly cases: number;
  readonly recallAt10: number;
  readonly mrr: number;
}

export interface QualityReport {
  readonly embedder: string;
  readonly modes: Record<Mode, Record<EvalCategory | 'all', Score>>;
  /** Per case and mode: the rank of the answering paragraph (1-based), or null past K. */
  readonly ranks: Array<{ query: string; category: EvalCategory } & Record<Mode, number | null>>;
}

const SECRET = 'search-quality-secret-search-quality-secret';
const staff: Caller = { ...ANONYMOUS, userId: 'quality-editor', roles: ['READER', 'EDITOR'] };
const reader: Caller = { ...ANONYMOUS, userId: 'quality-reader', roles: ['READER'] };

/** The paragraph id that answers `c`, from the published fake revisions. */
function answerOf(c: EvalCase, revisions: ReadonlyMap<string, FakeRevision>): string {
  const revision = revisions.get(c.book);
  const paragraph = revision?.chapters.flatMap((ch) => ch.paragraphs.map((p) => ({ id: p.id, text: ch.text.slice(p.startOffset, p.endOffset) }))).find((p) => p.text.includes(c.phrase));
  if (!paragraph) throw new Error(`evaluation case "${c.query}": no paragraph of ${c.book} contains "${c.phrase}"`);
  return paragraph.id;
}

function score(ranks: ReadonlyArray<number | null>): Score {
  const found = ranks.filter((r): r is number => r !== null && r <= K);
  return {
    cases: ranks.length,
    recallAt10: ranks.length === 0 ? 0 : found.length / ranks.length,
    mrr: ranks.length === 0 ? 0 : found.reduce((sum, r) => sum + 1 / r, 0) / ranks.length,
  };
}

/** How the report names the configured embedder. */
function embedderLabel(config: ReturnType<typeof testConfig>): string {
  if (config.embeddingsModel) {
    let name = config.embeddingsModel.dir;
    try {
      const json = JSON.parse(readFileSync(join(config.embeddingsModel.dir, 'config.json'), 'utf8')) as { _name_or_path?: unknown };
      if (typeof json._name_or_path === 'string' && json._name_or_path) name = json._name_or_path;
    } catch {
      // the embedder reports a broken directory itself
    }
    return `${name} (in process, ONNX)`;
  }
  return config.embeddings ? `${config.embeddings.model} at ${config.embeddings.url}` : 'local hashing (default)';
}

export async function evaluateSearch(env: Record<string, string> = {}, cases: readonly EvalCase[] = EVAL_SET): Promise<QualityReport> {
  const dataDir = tempDataDir();
  const config = testConfig({ FOLIO_DATA_DIR: dataDir, FOLIO_SUBGRAPH_BASE_PORT: '0', FOLIO_INTERNAL_SECRET: SECRET, ...env });
  const storage = await openStorage({ dataDir });
  const catalog = await startFakeCatalog(SECRET);
  const ugc = await startFakeUgc(SECRET);
  let search: RunningService | undefined;
  try {
    search = await searchService.start({
      config,
      storage,
      logger: createLogger('quality', 'silent'),
      serviceUrls: { accounts: 'http://127.0.0.1:9', catalog: catalog.url, ugc: ugc.url, search: '' },
    });
    const url = search.url;
    const gql = async (query: string, variables: Record<string, unknown>, caller: Caller): Promise<any> => {
      const body = JSON.stringify({ query, variables });
      const headers = signRequest(SECRET, { audience: 'search', method: 'POST', pathAndQuery: new URL(url).pathname, body }, caller);
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      const json = (await response.json()) as { data?: any; errors?: unknown[] };
      if (json.errors?.length) throw new Error(JSON.stringify(json.errors));
      return json.data;
    };

    const revisions = new Map(demoBooks.map((book) => [book.slug, fakeRevision(book, `b-${book.slug}`, `r-${book.slug}`)]));
    for (const revision of revisions.values()) catalog.publish(revision);
    const STATUS = `query($id: ID!) { searchIndexStatus(bookId: $id) { state } }`;
    for (const revision of revisions.values()) {
      await eventually(async () => (await gql(STATUS, { id: revision.bookId }, staff)).searchIndexStatus?.state === 'INDEXED', { timeoutMs: 120_000 });
    }

    const ranks: QualityReport['ranks'] = [];
    for (const c of cases) {
      const answer = answerOf(c, revisions);
      const row = { query: c.query, category: c.category } as QualityReport['ranks'][number];
      for (const mode of MODES) {
        const data = await gql(SEARCH, { query: c.query, mode, scope: 'FULL_TEXT', first: K }, reader);
        const hits: Array<{ paragraphs: Array<{ id: string }> }> = data.search.paragraphs.edges.map((e: any) => e.node);
        const index = hits.findIndex((hit) => hit.paragraphs.some((p) => p.id === answer));
        row[mode] = index < 0 ? null : index + 1;
      }
      ranks.push(row);
    }
    const categories = ['en', 'zh', 'cross'] as const;
    const modes = Object.fromEntries(
      MODES.map((mode) => [
        mode,
        {
          all: score(ranks.map((r) => r[mode])),
          ...Object.fromEntries(categories.map((cat) => [cat, score(ranks.filter((r) => r.category === cat).map((r) => r[mode]))])),
        },
      ]),
    ) as QualityReport['modes'];
    return { embedder: embedderLabel(config), modes, ranks };
  } finally {
    await search?.stop();
    await catalog.close();
    await ugc.close();
    await storage.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
