/**
 * Private to the embedded engine. A secondary index: hash maps from canonical keys to document
 * ids for equality (full compound key, and leading field alone), plus a sorted array of the
 * leading field's distinct values for range scans. A sorted array with binary insertion is
 * enough at development scale (10^5–10^6 keys) and avoids a B-tree dependency.
 */
import { Query } from 'mingo';
import type { Document } from 'mongodb';
import { DuplicateKeyError } from '../errors.js';
import { EMPTY_ARRAY, compareValues, keyOf, typeRank, valuesAtPath } from './values.js';

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

interface SortedEntry {
  readonly v: unknown;
  readonly k: string;
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
  /**
   * Distinct leading values in BSON order, for range scans. New keys wait in `pending` and removed
   * keys stay as stale entries (skipped on scan) until the next range scan tidies up, so writes
   * cost O(1) and bulk loads don't pay an O(n) splice per key.
   */
  private sorted: SortedEntry[] = [];
  private pending: SortedEntry[] = [];
  private stale = 0;
  /** Some document has several values for the leading field (an array): ranges can't use both bounds. */
  multikey = false;

  constructor(def: IndexDef) {
    this.def = def;
    this.paths = def.key.map(([p]) => p.split('.'));
    this.partial = def.partialFilterExpression ? new Query(def.partialFilterExpression, {}) : undefined;
    this.lead = this.paths.length === 1 ? this.full : new Map();
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
    if (perField.length === 1) return { full: [...lead.keys()], lead, isArray };
    let combos: string[] = [''];
    for (const vals of perField) {
      const next: string[] = [];
      for (const prefix of combos) for (const v of vals) if (next.length < MAX_KEYS_PER_DOC) next.push(`${prefix}${keyOf(v)}\u0000`);
      combos = next;
    }
    return { full: combos, lead, isArray };
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
      for (const k of before.full) removeFrom(this.full, k, id);
      if (this.lead !== this.full) for (const k of before.lead.keys()) removeFrom(this.lead, k, id);
      for (const k of before.lead.keys()) if (!this.lead.has(k)) this.stale++;
    }
    if (after) {
      if (after.lead.size > 1 || after.isArray) this.multikey = true;
      for (const k of after.full) addTo(this.full, k, id);
      if (this.lead !== this.full) for (const k of after.lead.keys()) addTo(this.lead, k, id);
      for (const [k, v] of after.lead) if (this.lead.get(k)!.size === 1) this.pending.push({ v, k });
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

  /** Ids whose leading field lies in the range, in ascending key order. */
  lookupRange(r: Range): Set<string> {
    this.tidy();
    const bound = r.lo !== undefined ? r.lo : r.hi;
    const rank = compareType(bound);
    let i = r.lo !== undefined ? this.lowerBound(r.lo, !r.loInclusive) : this.lowerBoundType(rank);
    const out = new Set<string>();
    for (; i < this.sorted.length; i++) {
      const e = this.sorted[i]!;
      if (compareType(e.v) !== rank) break;
      if (r.hi !== undefined) {
        const c = compareValues(e.v, r.hi);
        if (c > 0 || (c === 0 && !r.hiInclusive)) break;
      }
      const ids = this.lead.get(e.k);
      if (ids) for (const id of ids) out.add(id);
    }
    return out;
  }

  private lowerBound(v: unknown, strict: boolean): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareValues(this.sorted[mid]!.v, v);
      if (c < 0 || (strict && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private lowerBoundType(rank: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareType(this.sorted[mid]!.v) < rank) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Folds pending keys into the sorted array and drops stale ones, cheaply when few changed. */
  private tidy(): void {
    if (this.pending.length === 0 && this.stale === 0) return;
    if (this.pending.length <= 16 && this.stale < 1024) {
      for (const e of this.pending) this.sorted.splice(this.lowerBound(e.v, false), 0, e);
    } else {
      const seen = new Set<string>();
      this.sorted = [...this.sorted, ...this.pending].filter((e) => this.lead.has(e.k) && !seen.has(e.k) && seen.add(e.k));
      this.sorted.sort((a, b) => compareValues(a.v, b.v));
      this.stale = 0;
    }
    this.pending = [];
  }
}

interface Keys {
  full: string[];
  lead: Map<string, unknown>;
  isArray: boolean;
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
