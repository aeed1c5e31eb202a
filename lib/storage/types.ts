/**
 * The collection API that business code is written against: a narrow slice of the official
 * `mongodb` driver's `Collection`, with the driver's own parameter and result types. The real
 * driver's Collection is assignable to `DocCollection` (proved in `types.test.ts`), so the
 * MongoDB backend is a pass-through and the embedded engine implements exactly this.
 *
 * Only what Folio uses is here; adding a method means implementing it in
 * `embedded/collection.ts` and covering it in `contract.test.ts`.
 */
import type {
  AggregateOptions,
  AnyBulkWriteOperation,
  BulkWriteOptions,
  CountDocumentsOptions,
  CreateIndexesOptions,
  DeleteOptions,
  DeleteResult,
  DistinctOptions,
  Document,
  EstimatedDocumentCountOptions,
  Filter,
  FindOneAndDeleteOptions,
  FindOneAndUpdateOptions,
  FindOptions,
  IndexDescription,
  IndexSpecification,
  InsertManyResult,
  InsertOneOptions,
  InsertOneResult,
  OptionalUnlessRequiredId,
  ReplaceOptions,
  Sort,
  SortDirection,
  UpdateFilter,
  UpdateOptions,
  UpdateResult,
  WithId,
  WithoutId,
} from 'mongodb';

export type {
  AnyBulkWriteOperation,
  DeleteResult,
  Document,
  Filter,
  InsertManyResult,
  InsertOneResult,
  OptionalUnlessRequiredId,
  Sort,
  UpdateFilter,
  UpdateResult,
  WithId,
  WithoutId,
} from 'mongodb';

/** A cursor over `find` results (the driver's FindCursor, narrowed). */
export interface DocFindCursor<T> {
  sort(sort: Sort | string, direction?: SortDirection): DocFindCursor<T>;
  skip(value: number): DocFindCursor<T>;
  limit(value: number): DocFindCursor<T>;
  project<P extends Document = Document>(value: Document): DocFindCursor<P>;
  toArray(): Promise<T[]>;
  next(): Promise<T | null>;
  close(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<T, void, void>;
}

/** A cursor over `aggregate` results (the driver's AggregationCursor, narrowed). */
export interface DocAggregateCursor<T> {
  toArray(): Promise<T[]>;
  next(): Promise<T | null>;
  close(): Promise<void>;
  [Symbol.asyncIterator](): AsyncIterator<T, void, void>;
}

/** The fields of the driver's BulkWriteResult that both backends fill. */
export interface DocBulkWriteResult {
  readonly insertedCount: number;
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly deletedCount: number;
  readonly upsertedCount: number;
  readonly insertedIds: { [key: number]: unknown };
  readonly upsertedIds: { [key: number]: unknown };
}

/** `findOneAndX` returns the document or null, as driver v6+ does (no `includeResultMetadata`). */
export type FindOneAndUpdateOpts = FindOneAndUpdateOptions & { includeResultMetadata?: false };
export type FindOneAndDeleteOpts = FindOneAndDeleteOptions & { includeResultMetadata?: false };
export type UpdateOneOpts = UpdateOptions & { sort?: Sort };

export interface DocCollection<T extends Document = Document> {
  readonly collectionName: string;

  insertOne(doc: OptionalUnlessRequiredId<T>, options?: InsertOneOptions): Promise<InsertOneResult<T>>;
  insertMany(docs: ReadonlyArray<OptionalUnlessRequiredId<T>>, options?: BulkWriteOptions): Promise<InsertManyResult<T>>;

  findOne(filter?: Filter<T>, options?: Omit<FindOptions, 'timeoutMode'>): Promise<WithId<T> | null>;
  find(filter?: Filter<T>, options?: FindOptions): DocFindCursor<WithId<T>>;

  updateOne(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOneOpts): Promise<UpdateResult<T>>;
  updateMany(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: UpdateOptions): Promise<UpdateResult<T>>;
  replaceOne(filter: Filter<T>, replacement: WithoutId<T>, options?: ReplaceOptions): Promise<UpdateResult<T>>;
  deleteOne(filter?: Filter<T>, options?: DeleteOptions): Promise<DeleteResult>;
  deleteMany(filter?: Filter<T>, options?: DeleteOptions): Promise<DeleteResult>;

  findOneAndUpdate(filter: Filter<T>, update: UpdateFilter<T> | Document[], options?: FindOneAndUpdateOpts): Promise<WithId<T> | null>;
  findOneAndDelete(filter: Filter<T>, options?: FindOneAndDeleteOpts): Promise<WithId<T> | null>;

  bulkWrite(operations: ReadonlyArray<AnyBulkWriteOperation<T>>, options?: BulkWriteOptions): Promise<DocBulkWriteResult>;

  countDocuments(filter?: Filter<T>, options?: CountDocumentsOptions): Promise<number>;
  estimatedDocumentCount(options?: EstimatedDocumentCountOptions): Promise<number>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the driver's own return type
  distinct(key: string, filter?: Filter<T>, options?: DistinctOptions): Promise<any[]>;
  aggregate<R extends Document = Document>(pipeline?: Document[], options?: AggregateOptions): DocAggregateCursor<R>;

  createIndex(indexSpec: IndexSpecification, options?: CreateIndexesOptions): Promise<string>;
  createIndexes(indexSpecs: IndexDescription[], options?: CreateIndexesOptions): Promise<string[]>;
}
