/**
 * Private to the embedded engine. `DocCollection` over an in-memory collection: reads go through
 * the planner in query.ts, writes through the engine's WriteBatch (unique checks, journal, undo).
 * Driver options that mean nothing in-process (session, writeConcern, hint, maxTimeMS…) are ignored.
 */
import { Aggregator } from 'mingo';
import type {
  AggregateOptions,
  AnyBulkWriteOperation,
  BulkWriteOptions,
  CountDocumentsOptions,
  CreateIndexesOptions,
  DeleteResult,
  DistinctOptions,
  Document,
  Filter,
  FindOptions,
  IndexDescription,
  IndexSpecification,
  InsertManyResult,
  InsertOneResult,
  OptionalUnlessRequiredId,
  ReplaceOptions,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
  WithoutId,
} from 'mongodb';
import { BulkWriteError, StorageServerError, badValue, type WriteErrorInfo } from '../errors.js';
import type { DocAggregateCursor, DocBulkWriteResult, DocCollection, DocFindCursor, FindOneAndDeleteOpts, FindOneAndUpdateOpts, UpdateOneOpts } from '../types.js';
import { EmbeddedAggregateCursor, EmbeddedFindCursor, type FindSpec } from './cursor.js';
import type { CollectionState, EmbeddedDatabase, TxState, WriteBatch } from './engine.js';
import { indexDefFrom } from './indexes.js';
import { compileFilter, matchDocs, normalizeSort, project } from './query.js';
import { applyReplacement, applyUpdate, prepareInsert, upsertSeed } from './update.js';
import { cloneOut, isPlainObject, keyOf, valuesAtPath, EMPTY_ARRAY, compareValues } from './values.js';

type AnyDoc = Document;

interface UpdateSpec {
  filter: AnyDoc;
  update: AnyDoc | AnyDoc[];
  upsert?: boolean | undefined;
  arrayFilters?: AnyDoc[] | undefined;
  sort?: Record<string, 1 | -1> | undefined;
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId: unknown;
  before: AnyDoc | null;
  after: AnyDoc | null;
}

/** Stages that write elsewhere or read other collections: not part of Folio's subset. */
const UNSUPPORTED_STAGES = new Set(['$out', '$merge', '$lookup', '$graphLookup', '$unionWith']);

export class EmbeddedCollection<T extends Document = Document> implements DocCollection<T> {
  constructor(
    private readonly db: EmbeddedDatabase,
    readonly collectionName: string,
    private readonly tx: TxState | undefined,
  ) {}

  private get state(): CollectionState {
    return this.db.coll(this.collectionName);
  }

  /** Reads outside a transaction see only what is durable (engine.ts, "Visibility"). */
  private get durable(): boolean {
    return !this.tx && !this.db.inTransaction();
  }

  private write<R>(fn: (batch: WriteBatch, coll: CollectionState) => R): Promise<R> {
    return this.db.write(this.tx, (batch) => fn(batch, this.state));
  }

  // ---- inserts -------------------------------------------------------------------------------

  async insertOne(doc: OptionalUnlessRequiredId<T>): Promise<InsertOneResult<T>> {
    const stored = prepareInsert(doc as AnyDoc);
    await this.write((batch, coll) => batch.insert(coll, stored));
    return { acknowledged: true, insertedId: stored._id };
  }

  async insertMany(docs: ReadonlyArray<OptionalUnlessRequiredId<T>>, options?: BulkWriteOptions): Promise<InsertManyResult<T>> {
    if (!Array.isArray(docs)) throw badValue('insertMany needs an array');
    const ops = docs.map((document) => ({ insertOne: { document } }));
    const r = await this.bulkWrite(ops as AnyBulkWriteOperation<T>[], options);
    return { acknowledged: true, insertedCount: r.insertedCount, insertedIds: r.insertedIds as InsertManyResult<T>['insertedIds'] };
  }

  // ---- reads ---------------------------------------------------------------------------------

  async findOne(filter?: Filter<T>, options?: Omit<FindOptions, 'timeoutMode'>): Promise<WithId<T> | null> {
    const f = filter as AnyDoc | undefined;
    const [doc] = matchDocs(this.state, f, { sort: normalizeSort(options?.sort), skip: options?.skip, limit: 1, durable: this.durable });
    if (!doc) return null;
    return cloneOut(project([doc], options?.projection, f)[0]) as WithId<T>;
  }

  find(filter?: Filter<T>, options?: FindOptions): DocFindCursor<WithId<T>> {
    const f = filter as AnyDoc | undefined;
    // Fails fast on a malformed filter, as the driver does on first read; the read uses this compile.
    const compiled = compileFilter(f);
    const spec: FindSpec = { sort: normalizeSort(options?.sort), skip: options?.skip, limit: options?.limit, projection: options?.projection };
    const durable = this.durable;
    return new EmbeddedFindCursor<WithId<T>>(spec, (s) => {
      const docs = matchDocs(this.state, f, { sort: s.sort, skip: s.skip, limit: s.limit, durable, compiled });
      return project(docs, s.projection, f).map(cloneOut) as WithId<T>[];
    });
  }

  async countDocuments(filter?: Filter<T>, options?: CountDocumentsOptions): Promise<number> {
    return matchDocs(this.state, filter as AnyDoc | undefined, { skip: options?.skip, limit: options?.limit, durable: this.durable }).length;
  }

  async estimatedDocumentCount(): Promise<number> {
    return this.state.docs.size;
  }

  async distinct(key: string, filter?: Filter<T>, _options?: DistinctOptions): Promise<unknown[]> {
    if (typeof key !== 'string' || key.length === 0) throw badValue('distinct needs a field name');
    const seen = new Map<string, unknown>();
    const path = key.split('.');
    for (const doc of matchDocs(this.state, filter as AnyDoc | undefined, { durable: this.durable })) {
      for (const v of valuesAtPath(doc, path)) {
        if (v === EMPTY_ARRAY) continue;
        if (v === null && !hasPath(doc, path)) continue; // missing fields are not a distinct value
        seen.set(keyOf(v), v);
      }
    }
    return [...seen.values()].sort(compareValues).map(cloneOut);
  }

  aggregate<R extends Document = Document>(pipeline: Document[] = [], _options?: AggregateOptions): DocAggregateCursor<R> {
    if (!Array.isArray(pipeline)) throw badValue('pipeline must be an array');
    for (const stage of pipeline) {
      const op = isPlainObject(stage) ? Object.keys(stage) : [];
      if (op.length !== 1) throw badValue('each pipeline stage must have exactly one operator');
      if (UNSUPPORTED_STAGES.has(op[0]!)) throw badValue(`${op[0]} is not supported by the embedded engine`);
    }
    const durable = this.durable;
    return new EmbeddedAggregateCursor<R>(() => {
      // A leading $match uses the indexes; the rest runs in mingo over private copies.
      const first = pipeline[0];
      const head = first && isPlainObject(first.$match) ? (first.$match as AnyDoc) : undefined;
      const input = matchDocs(this.state, head, { durable }).map(cloneOut);
      try {
        return new Aggregator(head ? pipeline.slice(1) : pipeline, {}).run(input) as R[];
      } catch (e) {
        throw badValue(`invalid pipeline: ${(e as Error).message}`);
      }
    });
  }

  // ---- updates -------------------------------------------------------------------------------

  async updateOne(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOneOpts): Promise<UpdateResult<T>> {
    const spec = { filter: filter as AnyDoc, update: update as AnyDoc, upsert: options?.upsert, arrayFilters: options?.arrayFilters, sort: normalizeSort(options?.sort) };
    return toUpdateResult(await this.write((batch, coll) => this.updateIn(batch, coll, spec, false)));
  }

  async updateMany(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOptions): Promise<UpdateResult<T>> {
    const spec = { filter: filter as AnyDoc, update: update as AnyDoc, upsert: options?.upsert, arrayFilters: options?.arrayFilters };
    return toUpdateResult(await this.write((batch, coll) => this.updateIn(batch, coll, spec, true)));
  }

  async replaceOne(filter: Filter<T>, replacement: WithoutId<T>, options?: ReplaceOptions): Promise<UpdateResult<T>> {
    return toUpdateResult(await this.write((batch, coll) => replaceIn(batch, coll, filter as AnyDoc, replacement as AnyDoc, options?.upsert)));
  }

  async findOneAndUpdate(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: FindOneAndUpdateOpts): Promise<WithId<T> | null> {
    const spec = { filter: filter as AnyDoc, update: update as AnyDoc, upsert: options?.upsert, arrayFilters: options?.arrayFilters, sort: normalizeSort(options?.sort) };
    const out = await this.write((batch, coll) => this.updateIn(batch, coll, spec, false));
    const doc = options?.returnDocument === 'after' ? out.after : out.before;
    return doc ? (cloneOut(project([doc], options?.projection)[0]) as WithId<T>) : null;
  }

  async findOneAndDelete(filter: Filter<T>, options?: FindOneAndDeleteOpts): Promise<WithId<T> | null> {
    const doc = await this.write((batch, coll) => {
      const [d] = matchDocs(coll, filter as AnyDoc, { sort: normalizeSort(options?.sort), limit: 1 });
      if (d) batch.delete(coll, keyOf(d._id));
      return d ?? null;
    });
    return doc ? (cloneOut(project([doc], options?.projection)[0]) as WithId<T>) : null;
  }

  // ---- deletes -------------------------------------------------------------------------------

  async deleteOne(filter?: Filter<T>): Promise<DeleteResult> {
    const n = await this.write((batch, coll) => deleteIn(batch, coll, (filter ?? {}) as AnyDoc, 1));
    return { acknowledged: true, deletedCount: n };
  }

  async deleteMany(filter?: Filter<T>): Promise<DeleteResult> {
    const n = await this.write((batch, coll) => deleteIn(batch, coll, (filter ?? {}) as AnyDoc, 0));
    return { acknowledged: true, deletedCount: n };
  }

  // ---- bulk ----------------------------------------------------------------------------------

  /** Runs the operations in order as one journal record; stops at the first error unless `ordered: false`. */
  async bulkWrite(operations: ReadonlyArray<AnyBulkWriteOperation<T>>, options?: BulkWriteOptions): Promise<DocBulkWriteResult> {
    if (!Array.isArray(operations)) throw badValue('bulkWrite needs an array of operations');
    const ordered = options?.ordered !== false;
    // Documents get their _id before anything is written, as with the driver.
    const prepared = operations.map((op) => ('insertOne' in op && op.insertOne ? prepareInsert(op.insertOne.document as AnyDoc) : null));
    const result = { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, insertedIds: {} as Record<number, unknown>, upsertedIds: {} as Record<number, unknown> };
    const writeErrors: WriteErrorInfo[] = [];
    await this.write((batch, coll) => {
      for (let i = 0; i < operations.length; i++) {
        const op = operations[i] as Record<string, AnyDoc | undefined>;
        try {
          this.bulkOne(batch, coll, op, prepared[i] ?? null, i, result);
        } catch (e) {
          if (!(e instanceof StorageServerError)) throw e;
          const k = e as StorageServerError & { keyPattern?: AnyDoc; keyValue?: AnyDoc };
          writeErrors.push({ index: i, code: k.code, errmsg: k.errmsg, ...(k.keyPattern ? { keyPattern: k.keyPattern, keyValue: k.keyValue } : {}) });
          if (ordered) break;
        }
      }
    });
    if (writeErrors.length > 0) throw new BulkWriteError(writeErrors, result);
    return result;
  }

  private bulkOne(batch: WriteBatch, coll: CollectionState, op: Record<string, AnyDoc | undefined>, prepared: AnyDoc | null, i: number, r: BulkCounters): void {
    const [kind] = Object.keys(op);
    const body = kind ? op[kind] : undefined;
    if (!kind || !body) throw badValue(`bulkWrite operation ${i} is empty`);
    let out: UpdateOutcome | undefined;
    switch (kind) {
      case 'insertOne':
        batch.insert(coll, prepared!);
        r.insertedCount++;
        r.insertedIds[i] = prepared!._id;
        return;
      case 'updateOne':
      case 'updateMany':
        out = this.updateIn(batch, coll, { filter: body.filter, update: body.update, upsert: body.upsert, arrayFilters: body.arrayFilters, sort: normalizeSort(body.sort) }, kind === 'updateMany');
        break;
      case 'replaceOne':
        out = replaceIn(batch, coll, body.filter, body.replacement, body.upsert);
        break;
      case 'deleteOne':
      case 'deleteMany':
        r.deletedCount += deleteIn(batch, coll, body.filter ?? {}, kind === 'deleteOne' ? 1 : 0);
        return;
      default:
        throw badValue(`unsupported bulkWrite operation: ${kind}`);
    }
    r.matchedCount += out.matched;
    r.modifiedCount += out.modified;
    if (out.upsertedId !== undefined) {
      r.upsertedCount++;
      r.upsertedIds[i] = out.upsertedId;
    }
  }

  private updateIn(batch: WriteBatch, coll: CollectionState, spec: UpdateSpec, many: boolean): UpdateOutcome {
    if (!isPlainObject(spec.filter)) throw badValue('filter must be an object');
    const matches = matchDocs(coll, spec.filter, { sort: spec.sort, limit: many ? 0 : 1 });
    const out: UpdateOutcome = { matched: matches.length, modified: 0, upsertedId: undefined, before: matches[0] ?? null, after: null };
    for (const current of matches) {
      const { doc, changed } = applyUpdate(current, spec.update, spec.arrayFilters, false);
      if (changed) {
        batch.replace(coll, doc);
        out.modified++;
      }
      out.after ??= doc;
    }
    if (matches.length === 0 && spec.upsert) {
      const { doc } = applyUpdate(upsertSeed(spec.filter), spec.update, spec.arrayFilters, true);
      batch.insert(coll, doc);
      out.upsertedId = doc._id;
      out.after = doc;
    }
    return out;
  }

  // ---- indexes -------------------------------------------------------------------------------

  async createIndex(indexSpec: IndexSpecification, options?: CreateIndexesOptions): Promise<string> {
    return this.db.createIndex(this.collectionName, indexDefFrom(indexSpec, options));
  }

  async createIndexes(indexSpecs: IndexDescription[], _options?: CreateIndexesOptions): Promise<string[]> {
    const names: string[] = [];
    for (const { key, ...opts } of indexSpecs) names.push(await this.db.createIndex(this.collectionName, indexDefFrom(key, opts)));
    return names;
  }
}

type BulkCounters = {
  insertedCount: number;
  matchedCount: number;
  modifiedCount: number;
  deletedCount: number;
  upsertedCount: number;
  insertedIds: Record<number, unknown>;
  upsertedIds: Record<number, unknown>;
};

function replaceIn(batch: WriteBatch, coll: CollectionState, filter: AnyDoc | undefined, replacement: AnyDoc | undefined, upsert: boolean | undefined): UpdateOutcome {
  if (!isPlainObject(filter)) throw badValue('filter must be an object');
  const [current] = matchDocs(coll, filter, { limit: 1 });
  if (current) {
    const doc = applyReplacement(current._id, replacement as AnyDoc);
    batch.replace(coll, doc);
    return { matched: 1, modified: 1, upsertedId: undefined, before: current, after: doc };
  }
  if (!upsert) return { matched: 0, modified: 0, upsertedId: undefined, before: null, after: null };
  const seedId = upsertSeed(filter)._id;
  const doc = applyReplacement(seedId ?? (replacement as AnyDoc | undefined)?._id, replacement as AnyDoc);
  batch.insert(coll, doc);
  return { matched: 0, modified: 0, upsertedId: doc._id, before: null, after: doc };
}

function deleteIn(batch: WriteBatch, coll: CollectionState, filter: AnyDoc, limit: number): number {
  if (!isPlainObject(filter)) throw badValue('filter must be an object');
  const matches = matchDocs(coll, filter, { limit });
  for (const d of matches) batch.delete(coll, keyOf(d._id));
  return matches.length;
}

function toUpdateResult<T extends Document>(o: UpdateOutcome): UpdateResult<T> {
  return {
    acknowledged: true,
    matchedCount: o.matched,
    modifiedCount: o.modified,
    upsertedCount: o.upsertedId === undefined ? 0 : 1,
    upsertedId: (o.upsertedId ?? null) as UpdateResult<T>['upsertedId'],
  };
}

function hasPath(doc: AnyDoc, path: string[]): boolean {
  let cur: unknown = doc;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return false;
    if (Array.isArray(cur)) return true;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur !== undefined;
}
