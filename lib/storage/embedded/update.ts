/**
 * Private to the embedded engine. Computing new documents: update operators and pipelines (via
 * mingo), upsert seeds from the filter's equality fields, replacements, `_id` rules, size limit.
 */
import { updateOne as mingoPipelineUpdate } from 'mingo';
// The updater entry point builds a much smaller operator context than the root export's `update`
// (~30µs vs ~100µs per call); pipelines need the full expression set, so they use the root one.
import { update as mingoUpdate, type PipelineStage } from 'mingo/updater';
import { BSON, ObjectId } from 'mongodb';
import type { Document } from 'mongodb';
import { StorageServerError, badValue, immutableId } from '../errors.js';
import { isPlainObject, keyOf, toStored } from './values.js';

/** MongoDB's document size limit. */
const MAX_BSON_SIZE = 16 * 1024 * 1024;

const UPDATE_OPERATORS = new Set([
  '$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$pull', '$pullAll', '$addToSet',
  '$pop', '$currentDate', '$bit', '$setOnInsert',
]);

/** Validates `_id` and size; returns the document with `_id` first, as MongoDB stores it. */
export function finalizeDoc(doc: Document): Document {
  const id = doc._id;
  if (Array.isArray(id)) throw badValue("can't use an array for _id");
  if (id instanceof RegExp) throw badValue("can't use a regex for _id");
  if (id === undefined) throw badValue('document has no _id');
  const out: Document = { _id: id };
  for (const k of Object.keys(doc)) if (k !== '_id') out[k] = doc[k];
  if (BSON.calculateObjectSize(out) > MAX_BSON_SIZE) throw new StorageServerError(10334, 'BSONObjectTooLarge', 'document is larger than 16 MiB');
  return out;
}

/** The stored form of a new document; gives the caller's object an ObjectId `_id` as the driver does. */
export function prepareInsert(input: Document): Document {
  if (!isPlainObject(input)) throw badValue('document must be an object');
  if (input._id === undefined) input._id = new ObjectId();
  return finalizeDoc(toStored(input) as Document);
}

/**
 * Applies an update (operators or pipeline) to a private copy of `current`. Returns the new
 * document and whether anything changed.
 */
export function applyUpdate(current: Document, update: Document | Document[], arrayFilters: Document[] | undefined, inserting: boolean): { doc: Document; changed: boolean } {
  const before = BSON.serialize(current);
  let doc = toStored(current) as Document;
  if (Array.isArray(update)) {
    const arr = [doc];
    try {
      mingoPipelineUpdate(arr, {}, toStored(update) as PipelineStage[], { cloneMode: 'none' });
    } catch (e) {
      throw badValue(`invalid update pipeline: ${(e as Error).message}`);
    }
    doc = arr[0]!;
  } else {
    if (!isPlainObject(update)) throw badValue('update must be an object or a pipeline');
    const keys = Object.keys(update);
    if (keys.length === 0) throw badValue('update document must not be empty');
    for (const k of keys) if (!UPDATE_OPERATORS.has(k)) throw badValue(`unknown or non-operator update key '${k}' (use replaceOne to replace)`);
    const modifier = toStored(update) as Record<string, Document>;
    const onInsert = modifier.$setOnInsert;
    delete modifier.$setOnInsert;
    if (inserting && onInsert) modifier.$set = { ...onInsert, ...(modifier.$set ?? {}) };
    // MongoDB accepts `_id` in $set/$setOnInsert when it keeps the document's id (e.g. an upsert
    // whose filter and $setOnInsert both name it) or gives a new document its id; mingo refuses both.
    const set = modifier.$set as Record<string, unknown> | undefined;
    if (set && Object.hasOwn(set, '_id')) {
      const { _id: id, ...rest } = set;
      if (doc._id === undefined && inserting) doc._id = id;
      else if (keyOf(id) !== keyOf(doc._id)) throw immutableId();
      if (Object.keys(rest).length > 0) modifier.$set = rest as Document;
      else delete modifier.$set;
    }
    if (Object.keys(modifier).length > 0) {
      try {
        mingoUpdate(doc, modifier, arrayFilters ? (toStored(arrayFilters) as Document[]) : undefined, undefined, { cloneMode: 'none' });
      } catch (e) {
        if (/immutable field '_id'/.test((e as Error).message)) throw immutableId();
        throw badValue(`invalid update: ${(e as Error).message}`);
      }
    }
  }
  if (doc._id === undefined || keyOf(doc._id) !== keyOf(current._id)) {
    if (!(inserting && current._id === undefined)) throw immutableId();
  }
  if (inserting && doc._id === undefined) doc._id = new ObjectId();
  const finalDoc = finalizeDoc(doc);
  return { doc: finalDoc, changed: inserting || !Buffer.from(before).equals(BSON.serialize(finalDoc)) };
}

/** The replacement document for `current` (keeps its `_id`). */
export function applyReplacement(currentId: unknown, replacement: Document): Document {
  if (!isPlainObject(replacement)) throw badValue('replacement must be an object');
  for (const k of Object.keys(replacement)) if (k.startsWith('$')) throw badValue('replacement document must not contain update operators');
  const next = toStored(replacement) as Document;
  if (next._id !== undefined && currentId !== undefined && keyOf(next._id) !== keyOf(currentId)) throw immutableId();
  return finalizeDoc({ ...next, _id: currentId ?? next._id ?? new ObjectId() });
}

/** The fields an upsert copies from the filter: top-level (and `$and`) equalities. */
export function upsertSeed(filter: Document): Document {
  const sets: Record<string, unknown> = {};
  const collect = (f: Document): void => {
    for (const [k, v] of Object.entries(f)) {
      if (k === '$and' && Array.isArray(v)) for (const c of v) if (isPlainObject(c)) collect(c);
      if (k.startsWith('$')) continue;
      if (isPlainObject(v)) {
        const keys = Object.keys(v);
        if (keys.length > 0 && keys.every((x) => x.startsWith('$'))) {
          if ('$eq' in v) sets[k] = v.$eq;
          continue;
        }
      }
      if (v instanceof RegExp) continue;
      sets[k] = v;
    }
  };
  collect(filter);
  // mingo refuses to $set `_id`, so it goes in directly.
  const seed: Document = '_id' in sets ? { _id: toStored(sets._id) } : {};
  delete sets._id;
  if (Object.keys(sets).length > 0) mingoUpdate(seed, { $set: toStored(sets) as Document }, undefined, undefined, { cloneMode: 'none' });
  return seed;
}
