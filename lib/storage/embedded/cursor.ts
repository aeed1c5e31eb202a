/**
 * Private to the embedded engine. Cursors with the driver's shape. Results are computed on first
 * read (so sort/skip/limit/project chain as on the driver) and are already copies.
 */
import type { Document, Sort, SortDirection } from 'mongodb';
import type { DocAggregateCursor, DocFindCursor } from '../types.js';
import { normalizeSort } from './query.js';

export interface FindSpec {
  sort?: Record<string, 1 | -1> | undefined;
  skip?: number | undefined;
  limit?: number | undefined;
  projection?: Document | undefined;
}

class BufferedCursor<T> {
  private buffer: T[] | null = null;
  private pos = 0;

  constructor(private readonly load: () => T[]) {}

  protected get started(): boolean {
    return this.buffer !== null;
  }

  private fill(): T[] {
    if (!this.buffer) this.buffer = this.load();
    return this.buffer;
  }

  async toArray(): Promise<T[]> {
    const buf = this.fill();
    const rest = buf.slice(this.pos);
    this.pos = buf.length;
    return rest;
  }

  async next(): Promise<T | null> {
    const buf = this.fill();
    return this.pos < buf.length ? buf[this.pos++]! : null;
  }

  async close(): Promise<void> {
    this.buffer = [];
    this.pos = 0;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, void> {
    for (;;) {
      const d = await this.next();
      if (d === null) return;
      yield d;
    }
  }
}

export class EmbeddedFindCursor<T> extends BufferedCursor<T> implements DocFindCursor<T> {
  constructor(
    private readonly spec: FindSpec,
    run: (spec: FindSpec) => T[],
  ) {
    super(() => run(this.spec));
  }

  private mutate(fn: () => void): this {
    if (this.started) throw new Error('Cursor is already initialized');
    fn();
    return this;
  }

  sort(sort: Sort | string, direction?: SortDirection): DocFindCursor<T> {
    return this.mutate(() => (this.spec.sort = normalizeSort(sort, direction)));
  }

  skip(value: number): DocFindCursor<T> {
    return this.mutate(() => (this.spec.skip = checkCount(value, 'skip')));
  }

  limit(value: number): DocFindCursor<T> {
    return this.mutate(() => (this.spec.limit = checkCount(Math.abs(value), 'limit')));
  }

  project<P extends Document = Document>(value: Document): DocFindCursor<P> {
    this.mutate(() => (this.spec.projection = value));
    return this as unknown as DocFindCursor<P>;
  }
}

export class EmbeddedAggregateCursor<T> extends BufferedCursor<T> implements DocAggregateCursor<T> {}

function checkCount(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0) throw new TypeError(`${what} must be a non-negative integer`);
  return v;
}
