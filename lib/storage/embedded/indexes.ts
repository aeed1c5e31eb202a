/**
 * Private to the embedded engine. A secondary index: hash maps from canonical keys to document
 * ids for equality (full compound key, and leading field alone), plus an ordered B+ tree of
 * (field values…, id) entries in the index's own order (directions included), for range scans
 * and for answering `sort` + `limit` by walking the index (keyset pagination in O(log n + page)).
 * The tree is `sorted-btree` (a maintained, typed, dependency-free in-memory B+ tree): O(log n)
 * insert/delete and ordered iteration from any key in either direction. It replaced a sorted
 * array of leading values, whose inserts cost O(n) and which could neither order by a second
 * field nor stop after a page.
 */
import { Query } from 'mingo';
import type { Document } from 'mongodb';
import btree from 'sorted-btree';
import { DuplicateKeyError } from '../errors.js';
import { EMPTY_ARRAY, compareValues, keyOf, typeRank, valuesAtPath } from './values.js';

// sorted-btree is CommonJS with `exports.default`: Node's ESM interop hands over the exports object
// (class at `.default`), bundler-style interop (vitest) the class itself.
type BTreeClass = typeof btree.default;
const BTree: BTreeClass = (btree as unknown as { default?: BTreeClass }).default ?? (btree as unknown as BTreeClass);
type Tree = InstanceType<typeof BTree<Entry, string>>;

/** A tree key: one value per index field, then the document's `_id` as tie-break (BSON order). */
type Entry = unknown[];

/** Sentinels for tree bounds: before/after every value, or before/after every value of one BSON type. */
const MIN = Symbol('min');
const MAX = Symbol('max');
class TypeEdge {
  constructor(
    readonly rank: number,
    readonly after: boolean,
  ) {}
}

export interface IndexDef {
  readonly name: string;
  readonly key: ReadonlyArray<readonly [string, 1 | -1]>;
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partialFilterExpression?: Document;
}

/** Bounds of a range on the leading field; values of other BSON types never match. */
export interface Range {
  readonly lo?: unknown;
  readonly loInclusive: boolean;
  readonly hi?: unknown;
  readonly hiInclusive: boolean;
}

/** Cap on the keys one document contributes (cartesian product of multikey compound fields). */
const MAX_KEYS_PER_DOC = 1000;

export class SecondaryIndex {
  readonly def: IndexDef;
  readonly paths: ReadonlyArray<readonly string[]>;
  private readonly partial: Query | undefined;
  /** full compound key → ids */
  private readonly full = new Map<string, Set<string>>();
  /** leading-field key → ids (same map as `full` for single-field indexes) */
  private readonly lead: Map<string, Set<string>>;
  /** Every key of every document, in index order (see `compareEntries`). */
  private readonly tree: Tree;
  /** Some document has several values for the leading field (an array): ranges can't use both bounds. */
  multikey = false;
  /** Some document has an array in any indexed field: the tree holds several entries per document, so it can't give a sort order. */
  anyArray = false;

  /**
   * @param treeOnly keep only the ordered tree, no equality maps (the implicit `_id` order, see
   *   CollectionState.idOrder: the documents map answers `_id` equality already); such an index
   *   answers walk() and lookupRange() only.
   */
  constructor(
    def: IndexDef,
    private readonly treeOnly = false,
  ) {
    this.def = def;
    this.paths = def.key.map(([p]) => p.split('.'));
    this.partial = def.partialFilterExpression ? new Query(def.partialFilterExpression, {}) : undefined;
    this.lead = this.paths.length === 1 ? this.full : new Map();
    const dirs = def.key.map(([, d]) => d);
    this.tree = new BTree<Entry, string>(undefined, (a, b) => compareEntries(a, b, dirs));
  }


  /** Usable by the query planner: sparse and partial indexes don't hold every document. */
  get complete(): boolean {
    return !this.def.sparse && !this.partial;
  }

  get fields(): string[] {
    return this.def.key.map(([p]) => p);
  }

  /** The keys a document contributes, or null when the index skips it (sparse/partial). */
  private keys(doc: Document): Keys | null {
    if (this.partial && !this.partial.test(doc)) return null;
    if (this.def.sparse && isMissing(doc, this.paths)) return null;
    const perField = this.paths.map((p) => dedupe(valuesAtPath(doc, p)));
    const lead = new Map<string, unknown>();
    for (const v of perField[0]!) lead.set(keyOf(v), v);
    const isArray = perField[0]!.length > 1 || perField[0]![0] === EMPTY_ARRAY;
    const anyArray = perField.some((vals) => vals.length > 1 || vals[0] === EMPTY_ARRAY);
    if (perField.length === 1) return { full: [...lead.keys()], lead, isArray, anyArray, tuples: [...lead.values()].map((v) => [v]) };
    let combos: string[] = [''];
    let tuples: unknown[][] = [[]];
    for (const vals of perField) {
      const next: string[] = [];
      const nextTuples: unknown[][] = [];
      for (let i = 0; i < combos.length; i++) {
        for (const v of vals) {
          if (next.length >= MAX_KEYS_PER_DOC) break;
          next.push(`${combos[i]}${keyOf(v)}\u0000`);
          nextTuples.push([...tuples[i]!, v]);
        }
      }
      combos = next;
      tuples = nextTuples;
    }
    return { full: combos, lead, isArray, anyArray, tuples };
  }

  /** Throws the driver's duplicate-key error if `doc` (stored under `id`) would collide. */
  check(ns: string, id: string, doc: Document): void {
    if (!this.def.unique) return;
    const keys = this.keys(doc);
    if (!keys) return;
    for (const k of keys.full) {
      const ids = this.full.get(k);
      if (!ids) continue;
      for (const other of ids) if (other !== id) this.duplicate(ns, doc);
    }
  }

  private duplicate(ns: string, doc: Document): never {
    const keyPattern = Object.fromEntries(this.def.key);
    const keyValue = Object.fromEntries(this.paths.map((p, i) => [this.def.key[i]![0], firstValue(doc, p)]));
    throw new DuplicateKeyError(ns, this.def.name, keyPattern, keyValue);
  }

  /** Moves `id` from `prev`'s keys to `next`'s (either may be null); a no-op when they are equal. */
  replace(id: string, prev: Document | null, next: Document | null): void {
    const before = prev ? this.keys(prev) : null;
    const after = next ? this.keys(next) : null;
    if (before && after && sameKeys(before, after)) return;
    if (before) {
      if (!this.treeOnly) {
        for (const k of before.full) removeFrom(this.full, k, id);
        if (this.lead !== this.full) for (const k of before.lead.keys()) removeFrom(this.lead, k, id);
      }
      for (const t of before.tuples) this.tree.delete([...t, prev!._id]);
    }
    if (after) {
      if (after.lead.size > 1 || after.isArray) this.multikey = true;
      if (after.anyArray) this.anyArray = true;
      if (!this.treeOnly) {
        for (const k of after.full) addTo(this.full, k, id);
        if (this.lead !== this.full) for (const k of after.lead.keys()) addTo(this.lead, k, id);
      }
      for (const t of after.tuples) this.tree.set([...t, next!._id], id);
    }
  }

  /** How many documents have these leading values (cheap: hash map sizes), for the planner. */
  countLead(values: unknown[]): number {
    let n = 0;
    for (const v of values) n += this.lead.get(keyOf(v))?.size ?? 0;
    return n;
  }

  /** How many documents have exactly this full key (cheap), for the planner. */
  countFull(tuple: unknown[]): number {
    return this.full.get(tuple.length === 1 ? keyOf(tuple[0]) : tuple.map((v) => `${keyOf(v)}\u0000`).join(''))?.size ?? 0;
  }

  /**
   * Document ids in index order (or reversed), among entries whose first `prefix.length` fields
   * equal `prefix` and whose next field lies in `range` (when given; same type bracket as the
   * bound). Lazy: the caller stops after a page, so a page costs O(log n + page).
   */
  *walk(prefix: readonly unknown[], range: Range | undefined, reverse: boolean): Generator<string, void, void> {
    const n = this.def.key.length;
    const p = prefix.length;
    let low: Entry;
    let high: Entry;
    if (p < n && range) {
      const dir = this.def.key[p]![1];
      const rank = compareType(range.lo !== undefined ? range.lo : range.hi);
      // Bounds in value order, then mapped onto the tree's order for this field's direction.
      const vLow: unknown[] = range.lo !== undefined ? [range.lo, range.loInclusive ? MIN : MAX] : [new TypeEdge(rank, false)];
      const vHigh: unknown[] = range.hi !== undefined ? [range.hi, range.hiInclusive ? MAX : MIN] : [new TypeEdge(rank, true)];
      const [a, b] = dir === 1 ? [vLow, vHigh] : [flip(vHigh), flip(vLow)];
      low = [...prefix, ...a];
      high = [...prefix, ...b];
    } else {
      low = [...prefix, MIN];
      high = [...prefix, MAX];
    }
    const dirs = this.def.key.map(([, d]) => d);
    if (compareEntries(low, high, dirs) > 0) return;
    if (!reverse) {
      for (const [k, id] of this.tree.entries(low)) {
        if (compareEntries(k, high, dirs) > 0) return;
        yield id;
      }
    } else {
      for (const [k, id] of this.tree.entriesReversed(high)) {
        if (compareEntries(k, low, dirs) < 0) return;
        yield id;
      }
    }
  }

  /** Ids whose full compound key equals one of the given value tuples. */
  lookupFull(tuples: unknown[][]): Set<string> {
    const out = new Set<string>();
    for (const t of tuples) {
      const ids = this.full.get(t.length === 1 ? keyOf(t[0]) : t.map((v) => `${keyOf(v)}\u0000`).join(''));
      if (ids) for (const id of ids) out.add(id);
    }
    return out;
  }

  /** Ids whose leading field equals one of the values. */
  lookupLead(values: unknown[]): Set<string> {
    const out = new Set<string>();
    for (const v of values) {
      const ids = this.lead.get(keyOf(v));
      if (ids) for (const id of ids) out.add(id);
    }
    return out;
  }

  /** Ids whose leading field lies in the range, in index order. */
  lookupRange(r: Range): Set<string> {
    const out = new Set<string>();
    for (const id of this.walk([], r, false)) out.add(id);
    return out;
  }
}

/**
 * Maps a value-order bound onto a descending field: the inclusive/exclusive sentinel after the
 * value swaps sides (MIN/MAX are compared in tree order). Values and type edges are compared in
 * value order and turned by the field's direction in `compareEntries`, so they stay.
 */
function flip(bound: unknown[]): unknown[] {
  return bound.map((b) => (b === MIN ? MAX : b === MAX ? MIN : b));
}

/** One field of two tree keys, in value order (ascending); sentinels included. */
function compareSlot(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === MIN || b === MAX) return -1;
  if (a === MAX || b === MIN) return 1;
  if (a instanceof TypeEdge) return edgeVsValue(a, b);
  if (b instanceof TypeEdge) return -edgeVsValue(b, a);
  return compareValues(a, b);
}

function edgeVsValue(e: TypeEdge, v: unknown): number {
  const r = v instanceof TypeEdge ? v.rank : compareType(v);
  if (e.rank !== r) return e.rank < r ? -1 : 1;
  if (v instanceof TypeEdge) return e.after === v.after ? 0 : e.after ? 1 : -1;
  return e.after ? 1 : -1;
}

/**
 * Tree order: field by field in each field's direction, then `_id` ascending (so equal keys have
 * a stable order, and a trailing `_id` sort field can ride on it: keyset pagination on (key, _id)). Keys may be
 * shorter than a full entry only when they end in a sentinel, which decides before length does.
 */
function compareEntries(a: Entry, b: Entry, dirs: ReadonlyArray<1 | -1>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareSlot(a[i], b[i]);
    if (c !== 0) {
      if (i >= dirs.length) return c; // the _id: ascending
      // Sentinels are positioned in tree order already (see walk/flip); only values follow the direction.
      const sentinel = a[i] === MIN || a[i] === MAX || b[i] === MIN || b[i] === MAX;
      return sentinel ? c : c * dirs[i]!;
    }
  }
  return a.length - b.length;
}

interface Keys {
  full: string[];
  lead: Map<string, unknown>;
  isArray: boolean;
  anyArray: boolean;
  /** Value tuples, one per full key (same order as `full`). */
  tuples: unknown[][];
}

function sameKeys(a: Keys, b: Keys): boolean {
  if (a.full.length !== b.full.length || a.lead.size !== b.lead.size) return false;
  for (let i = 0; i < a.full.length; i++) if (a.full[i] !== b.full[i]) return false;
  for (const k of a.lead.keys()) if (!b.lead.has(k)) return false;
  return true;
}

/** Type bracket for range queries (numbers only match numbers, etc.). */
const compareType = (v: unknown): number => (v === EMPTY_ARRAY ? 5 : typeRank(v));

function dedupe(values: unknown[]): unknown[] {
  if (values.length < 2) return values;
  const seen = new Map<string, unknown>();
  for (const v of values) seen.set(keyOf(v), v);
  return [...seen.values()];
}

function isMissing(doc: Document, paths: ReadonlyArray<readonly string[]>): boolean {
  return paths.every((p) => {
    let cur: unknown = doc;
    for (const seg of p) {
      if (cur === null || typeof cur !== 'object') return true;
      cur = (cur as Record<string, unknown>)[seg];
    }
    return cur === undefined;
  });
}

function firstValue(doc: Document, path: readonly string[]): unknown {
  const v = valuesAtPath(doc, path)[0];
  return v === EMPTY_ARRAY ? [] : v;
}

function addTo(map: Map<string, Set<string>>, k: string, id: string): void {
  let s = map.get(k);
  if (!s) map.set(k, (s = new Set()));
  s.add(id);
}

function removeFrom(map: Map<string, Set<string>>, k: string, id: string): void {
  const s = map.get(k);
  if (!s) return;
  s.delete(id);
  if (s.size === 0) map.delete(k);
}

/** Normalises createIndex arguments into a definition with MongoDB's default name (`a_1_b_-1`). */
export function indexDefFrom(spec: unknown, options: { name?: string; unique?: boolean; sparse?: boolean; partialFilterExpression?: Document } = {}): IndexDef {
  const key: [string, 1 | -1][] = [];
  const push = (field: unknown, dir: unknown): void => {
    if (typeof field !== 'string' || field.length === 0 || field.startsWith('$')) throw new TypeError(`invalid index field: ${String(field)}`);
    if (dir !== 1 && dir !== -1) throw new TypeError(`unsupported index direction for ${field}: ${String(dir)} (embedded engine supports 1 and -1)`);
    key.push([field, dir]);
  };
  const addSpec = (s: unknown): void => {
    if (typeof s === 'string') push(s, 1);
    else if (Array.isArray(s)) {
      if (s.length === 2 && typeof s[0] === 'string' && (s[1] === 1 || s[1] === -1)) push(s[0], s[1]);
      else for (const part of s) addSpec(part);
    } else if (s instanceof Map) for (const [f, d] of s) push(f, d);
    else if (s && typeof s === 'object') for (const [f, d] of Object.entries(s)) push(f, d);
    else throw new TypeError('invalid index specification');
  };
  addSpec(spec);
  if (key.length === 0 || key.length > 32) throw new TypeError('an index needs between 1 and 32 fields');
  return {
    name: options.name ?? key.map(([f, d]) => `${f}_${d}`).join('_'),
    key,
    unique: options.unique === true,
    sparse: options.sparse === true,
    ...(options.partialFilterExpression ? { partialFilterExpression: options.partialFilterExpression } : {}),
  };
}
