/**
 * Private to the embedded engine. Reading: pick candidates from the `_id` map or a secondary
 * index (equality on `_id`, on all fields of an index, on its leading field, or a range on its
 * leading field), then test each candidate with mingo's full MongoDB query semantics. The index
 * only narrows the search; mingo decides what matches, so the planner can be conservative.
 *
 * With a `sort`, the planner may instead walk an index in order (see `orderedPlan`): equality on
 * a prefix of the index's fields, the sort on the fields after it (all in the index's directions
 * or all reversed, optionally ending in `_id`), a range on the first sort field bounding where the
 * walk starts and stops. Then sort costs nothing and `limit` stops the walk: a keyset page costs
 * O(log n + page) instead of a scan and a sort.
 */
import { LRUCache } from 'lru-cache';
import { Query } from 'mingo';
import type { Document, Sort } from 'mongodb';
import { badValue } from '../errors.js';
import type { CollectionState } from './engine.js';
import type { Range, SecondaryIndex } from './indexes.js';
import { compareValues, isIndexableScalar, isPlainObject, keyOf, typeRank } from './values.js';

interface FieldPlan {
  eq?: unknown[];
  range?: Range;
}

const RANGE_OPS = new Set(['$gt', '$gte', '$lt', '$lte']);

/** Largest `$in` list (or compound combination) answered from an index instead of a scan. */
const MAX_LOOKUP_KEYS = 1000;

/** Switches for benchmarks and tests (compare against the old scan-and-sort path). */
export const plannerOptions = {
  /** Answer `sort` by walking an ordered index when one fits. */
  indexedSort: true,
};

/** Equality and range constraints per top-level field (including `$and` clauses). */
function analyze(filter: Document, out = new Map<string, FieldPlan>()): Map<string, FieldPlan> {
  for (const [field, cond] of Object.entries(filter)) {
    if (field === '$and' && Array.isArray(cond)) {
      for (const clause of cond) if (isPlainObject(clause)) analyze(clause, out);
      continue;
    }
    if (field.startsWith('$') || out.has(field)) continue;
    if (isIndexableScalar(cond)) {
      out.set(field, { eq: [cond] });
      continue;
    }
    if (!isPlainObject(cond)) continue;
    const ops = cond as Record<string, unknown>;
    if ('$eq' in ops && isIndexableScalar(ops.$eq)) out.set(field, { eq: [ops.$eq] });
    else if (Array.isArray(ops.$in) && ops.$in.length <= MAX_LOOKUP_KEYS && ops.$in.every(isIndexableScalar)) out.set(field, { eq: ops.$in });
    else {
      const lo = ops.$gt !== undefined ? ops.$gt : ops.$gte;
      const hi = ops.$lt !== undefined ? ops.$lt : ops.$lte;
      const okLo = lo === undefined || (isIndexableScalar(lo) && lo !== null);
      const okHi = hi === undefined || (isIndexableScalar(hi) && hi !== null);
      if ((lo !== undefined || hi !== undefined) && okLo && okHi && (lo === undefined || hi === undefined || typeRank(lo) === typeRank(hi))) {
        out.set(field, { range: { lo, loInclusive: ops.$gt === undefined, hi, hiInclusive: ops.$lt === undefined } });
      }
    }
  }
  return out;
}

interface Plan {
  docs: Iterable<Document>;
  /**
   * True when the lookup alone decides the match: pure equality on exactly the looked-up fields.
   * Index keys compare as MongoDB does (1 == 1.0, array elements, null == missing), so mingo is
   * skipped — it rebuilds its operator context per query, which dominated point reads.
   */
  exact: boolean;
}

interface Candidates {
  exact: boolean;
  ids: () => Iterable<string>;
  /** Rough number of candidates (cheap to compute), for choosing against an ordered walk. */
  estimate: () => number;
}

interface ScoredCandidates extends Candidates {
  readonly score: number;
}

/** `best`, or the lookup scored `score` when it is better. Equal scores: fewer documents (hash map sizes, cheap) wins. */
function considerCandidates(best: ScoredCandidates | null, score: number, exact: boolean, ids: () => Iterable<string>, estimate: () => number): ScoredCandidates | null {
  return !best || score > best.score || (score === best.score && estimate() < best.estimate()) ? { score, exact, ids, estimate } : best;
}

function always<T>(value: T): () => T {
  return () => value;
}

function idCandidates(keys: string[], exact: boolean): Candidates {
  return { ids: always(keys), exact, estimate: always(keys.length) };
}

/** How to find candidate documents for `filter`, or null when only a full scan will do. */
function candidates(coll: CollectionState, filter: Document, plan: Map<string, FieldPlan>): Candidates | null {
  if (plan.size === 0) return null;
  const filterKeys = Object.keys(filter).length;
  const idPlan = plan.get('_id');
  if (idPlan?.eq) {
    const keys = idPlan.eq.map(keyOf);
    return idCandidates(keys, filterKeys === 1 && plan.size === 1);
  }

  // Closures here only as arguments: a named one costs a defineProperty each time under tsx (keepNames).
  let best: ScoredCandidates | null = null;
  for (const idx of coll.indexes.values()) {
    if (!idx.complete) continue;
    const fields = idx.fields;
    const lead = plan.get(fields[0]!);
    if (!lead) continue;
    const exactFields = filterKeys === fields.length && plan.size === fields.length;
    const eqs = fields.map((f) => plan.get(f)?.eq);
    if (eqs.every((e) => e !== undefined) && fields.length > 1) {
      const tuples = product(eqs as unknown[][]);
      if (tuples) {
        best = considerCandidates(best, 30 + fields.length + (idx.def.unique ? 5 : 0), exactFields, () => idx.lookupFull(tuples), () => tuples.reduce((n, t) => n + idx.countFull(t), 0));
      }
    }
    if (lead.eq) best = considerCandidates(best, 20 + (idx.def.unique && fields.length === 1 ? 5 : 0), exactFields && fields.length === 1, () => idx.lookupLead(lead.eq!), () => idx.countLead(lead.eq!));
    else if (lead.range) {
      best = considerCandidates(best, 10, onlyBounds(filter, fields[0]!) && !idx.multikey, () => idx.lookupRange(safeRange(idx, lead.range!)), () => coll.docs.size);
    }
  }
  if (!best && idPlan?.range) {
    // No declared index serves the filter: the ids in the `_id` range, from the implicit `_id` order.
    const idOrder = coll.idOrder();
    best = considerCandidates(best, 10, onlyBounds(filter, '_id'), () => idOrder.lookupRange(idPlan.range!), () => coll.docs.size);
  }
  return best;
}

/** A filter that is one range on `field` and nothing else: exactly the interval an index walks (same type bracket). */
function onlyBounds(filter: Document, field: string): boolean {
  const cond = filter[field] as Record<string, unknown> | undefined;
  return Object.keys(filter).length === 1 && isPlainObject(cond) && Object.keys(cond).every((k) => RANGE_OPS.has(k));
}

/** The one value an equality pins `field` to, as a one-element list; undefined otherwise. */
function pinnedValue(plan: Map<string, FieldPlan>, field: string): unknown[] | undefined {
  const eq = plan.get(field)?.eq;
  return eq && eq.length === 1 ? eq : undefined;
}

interface OrderedPlan {
  index: SecondaryIndex;
  prefix: unknown[];
  range: Range | undefined;
  reverse: boolean;
  /** Rough number of entries the walk may visit (upper bound from hash map sizes). */
  span: number;
}

/**
 * An index that yields documents already in `sort` order, or null. It must hold every document
 * (not sparse/partial) and one entry per document (no array values: a multikey walk would repeat
 * documents and MongoDB sorts arrays by their min/max element). Fields with a single equality
 * value are constant in the result, so they drop out of the sort and may form the walk's prefix.
 */
function orderedPlan(coll: CollectionState, filter: Document | undefined, plan: Map<string, FieldPlan>, sort: Record<string, 1 | -1>): OrderedPlan | null {
  const wanted = Object.entries(sort).filter(([f]) => !pinnedValue(plan, f));
  let best: OrderedPlan | null = null;
  for (const idx of coll.indexes.values()) {
    if (!idx.complete || idx.anyArray) continue;
    const key = idx.def.key;
    const prefix: unknown[] = [];
    while (prefix.length < key.length && pinnedValue(plan, key[prefix.length]![0])) prefix.push(pinnedValue(plan, key[prefix.length]![0])![0]);
    const p = prefix.length;
    let reverse: boolean | undefined;
    let fits = true;
    for (let i = 0; i < wanted.length && fits; i++) {
      const [field, dir] = wanted[i]!;
      const k = key[p + i];
      if (k) {
        if (k[0] !== field) fits = false;
        else {
          const rev = k[1] !== dir;
          if (reverse === undefined) reverse = rev;
          else if (reverse !== rev) fits = false;
        }
      } else {
        // Past the index's fields, entries are ordered by _id ascending: a last `_id` sort field rides on it.
        fits = field === '_id' && i === wanted.length - 1 && (dir === 1) !== (reverse ?? dir !== 1);
        if (fits && reverse === undefined) reverse = dir !== 1;
      }
    }
    if (!fits) continue;
    const next = key[p]?.[0];
    const range = next === undefined ? undefined : (plan.get(next)?.range ?? orRange(filter, next));
    const span = p === 0 ? coll.docs.size : p === key.length ? idx.countFull(prefix) : p === 1 ? idx.countLead(prefix) : coll.docs.size;
    // Prefer the longest equality prefix, then a bounded start.
    const score = p * 2 + (range ? 1 : 0);
    const bestScore = best ? best.prefix.length * 2 + (best.range ? 1 : 0) : -1;
    if (score > bestScore) best = { index: idx, prefix, range, reverse: reverse ?? false, span };
  }
  if (!best && wanted.length === 1 && wanted[0]![0] === '_id') {
    // Sorted by `_id` alone and no declared index fits: walk the implicit `_id` order.
    best = { index: coll.idOrder(), prefix: [], range: plan.get('_id')?.range, reverse: wanted[0]![1] !== 1, span: coll.docs.size };
  }
  return best;
}

/**
 * A range on `field` implied by a top-level `$or` (or one inside `$and`) whose every branch
 * constrains it: the keyset pattern `{ $or: [{ k: { $gt: a } }, { k: a, _id: { $gt: id } }] }`
 * gives `k >= a`. Only a starting point for the walk; mingo still tests every document.
 */
function orRange(filter: Document | undefined, field: string): Range | undefined {
  if (!filter) return undefined;
  const ors: unknown[][] = [];
  if (Array.isArray(filter.$or)) ors.push(filter.$or);
  if (Array.isArray(filter.$and)) for (const c of filter.$and) if (isPlainObject(c) && Array.isArray(c.$or)) ors.push(c.$or);
  for (const branches of ors) {
    // The union of the branches' ranges: the lowest lower bound and the highest upper bound, each
    // dropped (null) as soon as one branch is unbounded on that side.
    let lo: unknown;
    let loInclusive = false;
    let hi: unknown;
    let hiInclusive = false;
    let rank: number | undefined;
    let ok = branches.length > 0;
    for (const b of branches) {
      const fp = isPlainObject(b) ? analyze(b).get(field) : undefined;
      const r: Range | undefined = fp?.eq ? (fp.eq.length === 1 && fp.eq[0] !== null ? { lo: fp.eq[0], loInclusive: true, hi: fp.eq[0], hiInclusive: true } : undefined) : fp?.range;
      const rk = r ? typeRank(r.lo !== undefined ? r.lo : r.hi) : undefined;
      if (!r || (rank !== undefined && rank !== rk)) {
        ok = false;
        break;
      }
      rank = rk;
      if (lo !== null) {
        if (r.lo === undefined) lo = null;
        else {
          const c = lo === undefined ? -1 : compareValues(r.lo, lo);
          if (c < 0) [lo, loInclusive] = [r.lo, r.loInclusive];
          else if (c === 0) loInclusive ||= r.loInclusive;
        }
      }
      if (hi !== null) {
        if (r.hi === undefined) hi = null;
        else {
          const c = hi === undefined ? 1 : compareValues(r.hi, hi);
          if (c > 0) [hi, hiInclusive] = [r.hi, r.hiInclusive];
          else if (c === 0) hiInclusive ||= r.hiInclusive;
        }
      }
    }
    if (!ok || (lo === null && hi === null)) continue;
    return { ...(lo !== null ? { lo } : {}), loInclusive, ...(hi !== null ? { hi } : {}), hiInclusive };
  }
  return undefined;
}

/**
 * On a multikey field `{ $gt: 8, $lt: 9 }` matches `[0, 10]` (each bound met by a different
 * element), so only one bound may narrow the scan; mingo applies the other.
 */
function safeRange(idx: SecondaryIndex, r: Range): Range {
  if (!idx.multikey || r.lo === undefined || r.hi === undefined) return r;
  return { lo: r.lo, loInclusive: r.loInclusive, hiInclusive: false };
}

function* fromIds(coll: CollectionState, ids: Iterable<string>): Generator<Document, void, void> {
  for (const id of ids) {
    const d = coll.docs.get(id);
    if (d) yield d;
  }
}

function product(lists: unknown[][]): unknown[][] | null {
  let out: unknown[][] = [[]];
  for (const list of lists) {
    const next: unknown[][] = [];
    for (const prefix of out) for (const v of list) next.push([...prefix, v]);
    if (next.length > MAX_LOOKUP_KEYS) return null;
    out = next;
  }
  return out;
}

export interface MatchOptions {
  readonly sort?: Record<string, 1 | -1> | undefined;
  readonly skip?: number | undefined;
  readonly limit?: number | undefined;
  /** Read what is durable: documents with a change in flight are seen as their durable image. */
  readonly durable?: boolean | undefined;
  /** `filter` compiled already (find's up-front check): not keyed and looked up a second time. */
  readonly compiled?: Query | null | undefined;
}

/**
 * Compiled filters, by value. A mingo Query copies its whole operator table and the condition
 * when built (tens of µs), and a request's reads compile the same filters again and again (a
 * `books` page: the page and its count, each also checked by `find` up front). Only plain data is
 * cached (strings, numbers, booleans, null, Dates, RegExps, arrays, plain objects), and nothing
 * that evaluates at run time (`$expr` may read `$$NOW`, which a Query fixes at first use; `$where`,
 * `$function`). A compiled Query holds its own copy of the condition and keeps no state between
 * tests, so sharing one is safe.
 */
const compiled = new LRUCache<string, Query>({ max: 500 });
const UNCACHEABLE_OPS = new Set(['$expr', '$where', '$function', '$accumulator']);

/** A string equal for equal plain-data filters; null when the filter holds anything else. */
function filterKey(v: unknown): string | null {
  switch (typeof v) {
    case 'string':
      return `s${v.length}:${v}`; // length-prefixed: unambiguous without escaping
    case 'number':
      return Object.is(v, -0) ? 'n-0' : `n${v}`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (v === null) return 'z';
      if (v instanceof Date) return `d${v.getTime()}`;
      if (v instanceof RegExp) return `r${v.source.length}:${v.source}${v.flags}`;
      let out = Array.isArray(v) ? '[' : '{';
      if (Array.isArray(v)) {
        for (const item of v) {
          const k = filterKey(item);
          if (k === null) return null;
          out += `${k},`;
        }
        return `${out}]`;
      }
      if (!isPlainObject(v)) return null;
      for (const field of Object.keys(v)) {
        if (UNCACHEABLE_OPS.has(field)) return null;
        const k = filterKey((v as Record<string, unknown>)[field]);
        if (k === null) return null;
        out += `${field.length}:${field}=${k},`;
      }
      return `${out}}`;
    }
    default:
      return null;
  }
}

export function compileFilter(filter: Document | undefined): Query | null {
  if (filter === undefined || filter === null) return null;
  if (!isPlainObject(filter)) throw badValue('filter must be an object');
  if (Object.keys(filter).length === 0) return null;
  const key = filterKey(filter);
  const hit = key === null ? undefined : compiled.get(key);
  if (hit) return hit;
  try {
    const query = new Query(filter, {});
    if (key !== null) compiled.set(key, query);
    return query;
  } catch (e) {
    throw badValue(`invalid filter: ${(e as Error).message}`);
  }
}

/** Sorts with mingo's ordering; one Query for every sort (building one costs as much as a filter's). */
const SORTER = new Query({}, {});

/**
 * Stored documents (not copies) that match, in sort order, after skip/limit. Without a sort the
 * order is insertion order for scans and index order for index lookups, as on MongoDB
 * (unspecified either way).
 */
export function matchDocs(coll: CollectionState, filter: Document | undefined, opts: MatchOptions = {}): Document[] {
  const analysis = filter ? analyze(filter) : new Map<string, FieldPlan>();
  const cand = filter ? candidates(coll, filter, analysis) : null;
  // A durable read while changes are in flight sees memory's documents without the changed ones,
  // then the durable images of those (the indexes describe memory only).
  const durable = opts.durable === true && coll.shadow.size > 0;
  const skip = opts.skip ?? 0;
  const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
  const sorted = opts.sort !== undefined && Object.keys(opts.sort).length > 0;
  if (sorted && plannerOptions.indexedSort) {
    const ordered = orderedPlan(coll, filter, analysis, opts.sort!);
    if (ordered && prefersWalk(ordered, cand, skip, limit)) {
      const walk = fromIds(coll, ordered.index.walk(ordered.prefix, ordered.range, ordered.reverse));
      const q = compiledFor(filter, opts);
      // In index order already: the first matches after `skip` are the page.
      if (!durable) return firstMatches(coll, walk, q, skip, limit);
      // The unchanged documents are in order and the same in memory and on disk: the page is among
      // their first skip + limit matches and the changed ones' durable images. A scan here instead
      // made every outbox read O(outbox) under steady writes (issue 17's soak: write p50 1.4×).
      const inFlight = inFlightDocs(coll);
      const settled = firstMatches(coll, withoutDocs(walk, inFlight), q, 0, skip + limit);
      return sortedPage([...settled, ...durableImages(coll, q)], opts.sort!, skip, limit);
    }
  }
  const plan: Plan | null = cand ? { docs: fromIds(coll, cand.ids()), exact: cand.exact } : null;
  const q = plan?.exact ? null : compiledFor(filter, opts);
  let source: Iterable<Document> = plan?.docs ?? coll.docs.values();
  if (durable) source = durableView(coll, source, q ?? compiledFor(filter, opts));
  if (!sorted) return firstMatches(coll, source, q, skip, limit);
  const matched: Document[] = [];
  for (const d of source) {
    coll.docsExamined++;
    if (!q || q.test(d)) matched.push(d);
  }
  return sortedPage(matched, opts.sort!, skip, limit);
}

function sortedPage(docs: Document[], sort: Document, skip: number, limit: number): Document[] {
  let cursor = SORTER.find<Document>(docs).sort(sort);
  if (skip > 0) cursor = cursor.skip(skip);
  if (limit !== Infinity) cursor = cursor.limit(limit);
  return cursor.all();
}

function compiledFor(filter: Document | undefined, opts: MatchOptions): Query | null {
  return opts.compiled !== undefined ? opts.compiled : compileFilter(filter);
}

/**
 * `latest` (memory's candidates) without the documents that have a change in flight, then the
 * durable images of those that match `q` (the index plan was made on memory, so they are tested).
 */
function* durableView(coll: CollectionState, latest: Iterable<Document>, q: Query | null): Iterable<Document> {
  yield* withoutDocs(latest, inFlightDocs(coll));
  yield* durableImages(coll, q);
}

/** Memory's documents that have a change in flight. */
function inFlightDocs(coll: CollectionState): Set<Document> {
  const inFlight = new Set<Document>();
  for (const id of coll.shadow.keys()) {
    const d = coll.docs.get(id);
    if (d) inFlight.add(d);
  }
  return inFlight;
}

function* withoutDocs(docs: Iterable<Document>, excluded: Set<Document>): Iterable<Document> {
  for (const d of docs) if (!excluded.has(d)) yield d;
}

/** The durable images of the documents with a change in flight that match `q` (none for an insert). */
function* durableImages(coll: CollectionState, q: Query | null): Iterable<Document> {
  for (const { doc } of coll.shadow.values()) if (doc && (!q || q.test(doc))) yield doc;
}

/**
 * Walk or look up and sort? A walk visits about `span` entries without a limit; with one, it
 * stops after (skip + limit) matches — assume the rest of the filter keeps 1 in 8. Looking up
 * candidates costs their number, and sorting them a few times that.
 */
function prefersWalk(walk: OrderedPlan, cand: Candidates | null, skip: number, limit: number): boolean {
  const walkCost = limit === Infinity ? walk.span : Math.min(walk.span, (skip + limit) * 8);
  if (!cand) return true;
  return walkCost <= cand.estimate() * 3;
}

/** The documents of `source`, in its order, that match `q`, after `skip` of them, `limit` at most. */
function firstMatches(coll: CollectionState, source: Iterable<Document>, q: Query | null, skip: number, limit: number): Document[] {
  const out: Document[] = [];
  let skipped = 0;
  for (const d of source) {
    coll.docsExamined++;
    if (q && !q.test(d)) continue;
    if (skipped < skip) {
      skipped++;
      continue;
    }
    out.push(d);
    if (out.length >= limit) break;
  }
  return out;
}

/** Applies a find-style projection (inclusion, exclusion, `$slice`, `$elemMatch`, `a.$`). */
export function project(docs: Document[], projection: Document | undefined, filter?: Document): Document[] {
  if (!projection || Object.keys(projection).length === 0) return docs;
  const simple = simpleProjection(docs, projection);
  if (simple) return simple;
  try {
    return new Query(filter ?? {}, {}).find<Document>(docs, projection).all();
  } catch (e) {
    throw badValue(`invalid projection: ${(e as Error).message}`);
  }
}

function sortDirection(d: unknown): 1 | -1 {
  if (d === 1 || d === 'asc' || d === 'ascending' || d === undefined) return 1;
  if (d === -1 || d === 'desc' || d === 'descending') return -1;
  throw badValue(`unsupported sort direction: ${JSON.stringify(d)}`);
}

/** Normalises every shape the driver accepts for `sort` into `{ field: 1 | -1 }`. */
export function normalizeSort(sort: Sort | string | undefined, direction?: unknown): Record<string, 1 | -1> | undefined {
  if (sort === undefined || sort === null) return undefined;
  const out: Record<string, 1 | -1> = {};
  if (typeof sort === 'string') out[sort] = sortDirection(direction);
  else if (sort instanceof Map) for (const [k, d] of sort) out[String(k)] = sortDirection(d);
  else if (Array.isArray(sort)) {
    if (sort.length === 2 && typeof sort[0] === 'string' && !Array.isArray(sort[1])) out[sort[0]] = sortDirection(sort[1]);
    else {
      for (const s of sort as unknown[]) {
        if (Array.isArray(s)) out[String(s[0])] = sortDirection(s[1]);
        else out[String(s)] = 1;
      }
    }
  } else for (const [k, d] of Object.entries(sort)) out[k] = sortDirection(d);
  return out;
}


/** Array marker: a projection path crossed an array, which mingo handles (element-wise). */
const BAIL = Symbol('bail');

/**
 * Plain inclusion/exclusion of fields without arrays on the way, done directly (mingo would
 * compile a query per call). Returns null to let mingo handle everything else. Results may share
 * subdocuments with the input; callers copy them out.
 */
function simpleProjection(docs: Document[], projection: Document): Document[] | null {
  const fields: string[] = [];
  let include = false;
  let exclude = false;
  for (const [k, v] of Object.entries(projection)) {
    if (k.includes('$') || (v !== 0 && v !== 1 && v !== true && v !== false)) return null;
    if (k === '_id') continue;
    fields.push(k);
    if (v === 1 || v === true) include = true;
    else exclude = true;
  }
  if (include && exclude) return null; // MongoDB rejects the mix; let mingo report it
  const keepId = projection._id === undefined || projection._id === 1 || projection._id === true;
  const out: Document[] = [];
  for (const d of docs) {
    let r: Document | typeof BAIL;
    // `{ _id: 1 }` alone includes only _id; `{ _id: 0 }` alone excludes it.
    if (include || (fields.length === 0 && keepId)) {
      r = {};
      if (keepId && d._id !== undefined) r._id = d._id;
      for (const f of fields) if (copyPath(d, r, f.split('.'), 0) === BAIL) return null;
    } else {
      r = { ...d };
      if (!keepId) delete r._id;
      for (const f of fields) if (deletePath(r, f.split('.'), 0) === BAIL) return null;
    }
    out.push(r);
  }
  return out;
}

function copyPath(src: Document, dst: Document, path: string[], i: number): void | typeof BAIL {
  const v = src[path[i]!];
  if (v === undefined) return;
  if (i === path.length - 1) {
    dst[path[i]!] = v;
    return;
  }
  if (Array.isArray(v)) return BAIL;
  if (!isPlainObject(v)) return;
  const child = (dst[path[i]!] ??= {}) as Document;
  return copyPath(v, child, path, i + 1);
}

function deletePath(doc: Document, path: string[], i: number): void | typeof BAIL {
  const k = path[i]!;
  if (i === path.length - 1) {
    delete doc[k];
    return;
  }
  const v = doc[k];
  if (Array.isArray(v)) return BAIL;
  if (!isPlainObject(v)) return;
  doc[k] = { ...v };
  return deletePath(doc[k] as Document, path, i + 1);
}
