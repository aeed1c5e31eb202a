/**
 * Loading books without the GraphQL edge: the demo library on first start and `npm run ingest`.
 * Same service rules and pipeline as uploads through the API, run inline, as a system admin.
 */
import type { Caller } from '../../lib/identity.js';
import type { LeaseManager } from '../../lib/leases.js';
import type { Logger } from '../../lib/logger.js';
import { buildDemoEpubs } from './demo/index.js';
import type { UploadPipeline } from './pipeline.js';
import type { BookInput, CatalogService } from './service.js';
import type { BookDoc, CatalogStore, JobDoc } from './store.js';

export const SYSTEM_CALLER: Caller = Object.freeze({
  userId: 'system',
  roles: ['ADMIN'] as const,
  sessionId: null,
  partnerId: null,
  scopes: [] as string[],
  clientAddress: 'internal',
  territory: null,
});

export interface BulkDeps {
  readonly service: CatalogService;
  readonly pipeline: UploadPipeline;
}

export interface IngestOptions {
  /** Metadata to use; without it the EPUB's own metadata fills the book. */
  readonly meta?: BookInput & { title: string };
  /** Publish when stored, with an open worldwide license. @default true */
  readonly publish?: boolean;
}

export interface IngestResult {
  readonly book: BookDoc;
  readonly job: JobDoc;
}

/** Creates a book from one EPUB and runs its job here; publishes and licenses it unless told not to. */
export async function ingestEpub({ service, pipeline }: BulkDeps, bytes: Buffer, options: IngestOptions = {}): Promise<IngestResult> {
  const created = await service.createBook(SYSTEM_CALLER, options.meta ?? { title: 'Untitled upload' }, { metadataFromContent: !options.meta });
  const queued = await pipeline.enqueue(created._id, bytes, SYSTEM_CALLER.userId!);
  const job = await pipeline.runJob(queued._id);
  if (job.status !== 'STORED') return { book: created, job };
  // Storing filled the book's metadata from the EPUB: report the book as it is now, not as created.
  if (options.publish === false) return { book: (await service.booksByIds([created._id])).get(created._id) ?? created, job };
  await service.setLicense(SYSTEM_CALLER, { bookId: created._id, startsAt: null, endsAt: null, territories: [], partnerIds: [] });
  return { book: await service.publish(SYSTEM_CALLER, created._id), job };
}

const DEMO_MARKER = 'demo-library';

/** Loads the demo library once per database (a lease keeps two starting processes from both doing it). */
export async function seedDemoLibrary(deps: BulkDeps & { store: CatalogStore; leases: LeaseManager; logger: Logger }): Promise<number> {
  const lease = await deps.leases.tryAcquire('catalog:demo-seed', { ttlMs: 120_000 });
  if (!lease) return 0;
  try {
    if (await deps.store.meta.findOne({ _id: DEMO_MARKER })) return 0;
    let loaded = 0;
    for (const demo of await buildDemoEpubs()) {
      const { meta } = demo;
      const result = await ingestEpub(deps, demo.epub, {
        meta: { title: meta.title, authors: meta.authors, language: meta.language, description: meta.description ?? null, tags: meta.subjects ?? [], isbn: meta.isbn ?? null },
      });
      if (result.job.status === 'STORED') loaded++;
      else deps.logger.error({ slug: demo.slug, reason: result.job.failureReason }, 'demo book failed to load');
    }
    await deps.store.meta.insertOne({ _id: DEMO_MARKER, at: new Date() });
    deps.logger.info({ books: loaded }, 'demo library loaded');
    return loaded;
  } finally {
    await lease.release();
  }
}
