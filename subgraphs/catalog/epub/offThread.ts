/**
 * parseEpub on a worker thread (lib/workers): a 100,000-paragraph book takes seconds of CPU,
 * which on the request event loop would stall every request in the process.
 *
 * The worker streams its output over a MessagePort, one message per stage and per chapter, and
 * ends with a `done` (or `failed`) message. One chapter per message keeps each structured-clone
 * decode on this thread small (a whole book in one message is one long stall), and the stream is
 * paced (lib/workers/paced.ts: otherwise every queued message is decoded in the same loop turn);
 * paragraph texts are not sent at all, only their offsets, and are sliced from the chapter text here.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { WorkerPool } from '../../../lib/workers/index.js';
import { pacedSender, receivePaced } from '../../../lib/workers/paced.js';
import { EpubError, isEpubError, type EpubErrorReason } from './errors.js';
import type { EpubLimits } from './limits.js';
import { parseEpub, type EpubMetadata, type EpubStage, type EpubWarning, type ParseEpubOptions, type ParsedChapter, type ParsedEpub } from './parse.js';

interface WireChapter {
  readonly index: number;
  readonly title: string;
  readonly href: string;
  readonly text: string;
  readonly html: string;
  readonly wordCount: number;
  readonly contentHash: string;
  /** start, end of each paragraph in `text`. */
  readonly offsets: Uint32Array;
}

type WireMessage =
  | { readonly kind: 'stage'; readonly stage: EpubStage }
  | { readonly kind: 'chapter'; readonly chapter: WireChapter }
  | {
      readonly kind: 'done';
      readonly chapters: number;
      readonly metadata: EpubMetadata;
      readonly wordCount: number;
      readonly contentHash: string;
      readonly coverImage?: { readonly mediaType: string; readonly bytes: Uint8Array };
      readonly warnings: EpubWarning[];
    }
  | { readonly kind: 'failed'; readonly reason: EpubErrorReason | null; readonly message: string };

export interface ParseEpubTaskInput {
  readonly bytes: Uint8Array;
  readonly limits: Partial<EpubLimits>;
  readonly port: MessagePort;
}

/** The worker side (run by the pool, never called directly). */
export async function parseEpubTask({ bytes, limits, port }: ParseEpubTaskInput): Promise<void> {
  const sender = pacedSender(port);
  const send = (message: WireMessage): void => sender.send(message);
  try {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const parsed = await parseEpub(buffer, limits, { onStage: (stage) => send({ kind: 'stage', stage }) });
    for (const c of parsed.chapters) {
      const offsets = new Uint32Array(c.paragraphs.length * 2);
      c.paragraphs.forEach((p, i) => {
        offsets[2 * i] = p.startOffset;
        offsets[2 * i + 1] = p.endOffset;
      });
      send({ kind: 'chapter', chapter: { index: c.index, title: c.title, href: c.href, text: c.text, html: c.html, wordCount: c.wordCount, contentHash: c.contentHash, offsets } });
    }
    send({
      kind: 'done',
      chapters: parsed.chapters.length,
      metadata: parsed.metadata,
      wordCount: parsed.wordCount,
      contentHash: parsed.contentHash,
      warnings: parsed.warnings,
      ...(parsed.coverImage ? { coverImage: parsed.coverImage } : {}),
    });
  } catch (error) {
    // Errors lose their class crossing threads: an EpubError travels as its reason and message.
    send({ kind: 'failed', reason: isEpubError(error) ? error.reason : null, message: (error as Error)?.message ?? String(error) });
  } finally {
    await sender.drain();
    port.close();
  }
}

const TASK = { module: new URL('./offThread.ts', import.meta.url).href, name: 'parseEpubTask' };

function toChapter(wire: WireChapter): ParsedChapter {
  const paragraphs = Array.from({ length: wire.offsets.length / 2 }, (_, index) => {
    const startOffset = wire.offsets[2 * index]!;
    const endOffset = wire.offsets[2 * index + 1]!;
    return { index, text: wire.text.slice(startOffset, endOffset), startOffset, endOffset };
  });
  return { index: wire.index, title: wire.title, href: wire.href, text: wire.text, html: wire.html, wordCount: wire.wordCount, contentHash: wire.contentHash, paragraphs };
}

/**
 * parseEpub through the pool: same result, same EpubErrors. Stages are reported as the worker
 * reaches them and awaited in order; a failing `onStage` fails the parse once the worker is done.
 */
export async function parseEpubOffThread(pool: WorkerPool, bytes: Buffer, limits: Partial<EpubLimits> = {}, options: ParseEpubOptions = {}): Promise<ParsedEpub> {
  const { port1, port2 } = new MessageChannel();
  const chapters: ParsedChapter[] = [];
  let stages: Promise<void> = Promise.resolve();
  const finished = new Promise<Extract<WireMessage, { kind: 'done' }>>((resolve, reject) => {
    receivePaced<WireMessage>(port1, (message) => {
      switch (message.kind) {
        case 'stage':
          stages = stages.then(() => options.onStage?.(message.stage));
          // Handled here so a failed stage is not an unhandled rejection while the parse goes on; awaited below.
          stages.catch(() => undefined);
          return;
        case 'chapter':
          chapters.push(toChapter(message.chapter));
          return;
        case 'done':
          resolve(message);
          return;
        case 'failed':
          reject(message.reason ? new EpubError(message.reason, message.message) : new Error(`EPUB parsing failed: ${message.message}`));
          return;
      }
    });
    port1.on('close', () => reject(new Error('the EPUB parser closed its channel without a result')));
  });
  try {
    // A pool failure (the thread died) rejects run(); the parse's own outcome arrives on the port.
    const [done] = await Promise.all([finished, pool.run(TASK, { bytes, limits, port: port2 } satisfies ParseEpubTaskInput, [port2])]);
    await stages;
    if (chapters.length !== done.chapters) throw new Error(`EPUB parser sent ${chapters.length} of ${done.chapters} chapters`);
    return {
      metadata: done.metadata,
      chapters,
      wordCount: done.wordCount,
      contentHash: done.contentHash,
      warnings: done.warnings,
      ...(done.coverImage ? { coverImage: { mediaType: done.coverImage.mediaType, bytes: Buffer.from(done.coverImage.bytes.buffer, done.coverImage.bytes.byteOffset, done.coverImage.bytes.byteLength) } } : {}),
    };
  } catch (error) {
    await stages.catch(() => undefined);
    throw error;
  } finally {
    port1.close();
  }
}
