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
  private readonly sorted: SortedEntry[] = [];

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
  private keys(doc: Document): { full: string[]; lead: Map<string, unknown> } | null {
    if (this.partial && !this.partial.test(doc)) return null;
    if (this.def.sparse && isMissing(doc, this.paths)) return null;
    const perField = this.paths.map((p) => dedupe(valuesAtPath(doc, p)));
    const lead = new Map<string, unknown>();
    for (const v of perField[0]!) lead.set(keyOf(v), v);
    if (perField.length === 1) return { full: [...lead.keys()], lead };
    let combos: string[] = [''];
    for (const vals of perField) {
      const next: string[] = [];
      for (const prefix of combos) for (const v of vals) if (next.length < MAX_KEYS_PER_DOC) next.push(`${prefix}${keyOf(v)}\u0000`);
      combos = next;
    }
    return { full: combos, lead };
  }

  /** Throws the driver's duplicate-key error if `doc` (stored under `id`) would collide. */
  check(ns: string, id: string, doc: Document): void {
    if (!this.def.unique) return;
    const keys = this.keys(doc);
    if (!keys) return;
    for (const k of keys.full) {
      const ids = this.full.get(k);
      if (!ids) continue;
      for (const other of ids) {
        if (other !== id) {
          const keyPattern = Object.fromEntries(this.def.key);
          const keyValue = Object.fromEntries(this.paths.map((p, i) => [this.def.key[i]![0], firstValue(doc, p)]));
          throw new DuplicateKeyError(ns, this.def.name, keyPattern, keyValue);
        }
      }
    }
  }

  add(id: string, doc: Document): void {
    const keys = this.keys(doc);
    if (!keys) return;
    for (const k of keys.full) addTo(this.full, k, id);
    if (this.lead !== this.full) for (const k of keys.lead.keys()) addTo(this.lead, k, id);
    for (const [k, v] of keys.lead) if (this.lead.get(k)!.size === 1) this.insertSorted(k, v);
  }

  remove(id: string, doc: Document): void {
    const keys = this.keys(doc);
    if (!keys) return;
    for (const k of keys.full) removeFrom(this.full, k, id);
    if (this.lead !== this.full) for (const k of keys.lead.keys()) removeFrom(this.lead, k, id);
    for (const [k, v] of keys.lead) if (!this.lead.has(k)) this.removeSorted(k, v);
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
    const bound = r.lo !== undefined ? r.lo : r.hi;
    const rank = compareType(bound);
    let i = 0;
    if (r.lo !== undefined) i = this.lowerBound(r.lo, !r.loInclusive);
    else i = this.lowerBoundType(rank);
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

  private insertSorted(k: string, v: unknown): void {
    const i = this.lowerBound(v, false);
    this.sorted.splice(i, 0, { v, k });
  }

  private removeSorted(k: string, v: unknown): void {
    for (let i = this.lowerBound(v, false); i < this.sorted.length; i++) {
      if (this.sorted[i]!.k === k) {
        this.sorted.splice(i, 1);
        return;
      }
      if (compareValues(this.sorted[i]!.v, v) !== 0) return;
    }
  }
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
