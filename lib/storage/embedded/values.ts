/**
 * Private to the embedded engine. BSON-aware value helpers: copying documents in and out (so
 * callers never hold references to stored data), canonical index keys, and the BSON type order
 * used by range scans.
 */
import { Binary, BSON, type ObjectId } from 'mongodb';
import type { Document } from 'mongodb';

type Bsonish = { _bsontype?: string };

const bsonType = (v: object): string | undefined => (v as Bsonish)._bsontype;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Copies a value as the driver would store it: Buffers and typed arrays become Binary, `undefined`
 * becomes null (driver default `ignoreUndefined: false`), functions are dropped.
 */
export function toStored(v: unknown): unknown {
  if (v === undefined) return null;
  if (v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
  if (Array.isArray(v)) return v.map(toStored);
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof Uint8Array) return new Binary(Uint8Array.prototype.slice.call(v));
  if (v instanceof RegExp) return new RegExp(v.source, v.flags);
  const t = bsonType(v);
  if (t === 'Binary') return new Binary((v as Binary).buffer.slice(), (v as Binary).sub_type);
  if (t !== undefined) return v; // ObjectId, Long, Decimal128, Timestamp…: immutable values
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const c = toStored((v as Record<string, unknown>)[k]);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/**
 * A deep copy of stored data, handed to callers. Every document a read returns goes through here,
 * and most of what it holds are plain objects (toStored makes them): they are tested for first,
 * before the class checks and the `_bsontype` lookup that only BSON values answer (issue 14).
 */
export function cloneOut<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = cloneOut((v as Record<string, unknown>)[k]);
    return out as T;
  }
  if (Array.isArray(v)) return v.map(cloneOut) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (v instanceof RegExp) return new RegExp(v.source, v.flags) as T;
  const t = bsonType(v);
  if (t === 'Binary') return new Binary((v as unknown as Binary).buffer.slice(), (v as unknown as Binary).sub_type) as T;
  if (t !== undefined) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = cloneOut((v as Record<string, unknown>)[k]);
  return out as T;
}

/**
 * A canonical string for a scalar, equal for values MongoDB considers equal (1 and 1.0, two
 * ObjectIds with the same hex). Used as Map keys by `_id` lookup and secondary indexes.
 */
export function keyOf(v: unknown): string {
  if (v === null || v === undefined) return 'n';
  switch (typeof v) {
    case 'number':
      return `d${v === 0 ? 0 : v}`;
    case 'string':
      return `s${v}`;
    case 'boolean':
      return v ? 'b1' : 'b0';
    case 'bigint':
      return `d${v}`;
    case 'object':
      break;
    default:
      return `?${String(v)}`;
  }
  if (v instanceof Date) return `t${v.getTime()}`;
  if (v instanceof RegExp) return `r${String(v)}`;
  if (Array.isArray(v)) return `A${BSON.EJSON.stringify(v, { relaxed: false })}`;
  const t = bsonType(v);
  if (t === 'ObjectId' || t === 'ObjectID') return `o${(v as ObjectId).toHexString()}`;
  if (t === 'Binary') return `x${(v as Binary).sub_type}:${Buffer.from((v as Binary).buffer).toString('base64')}`;
  if (t === 'Long' || t === 'Int32' || t === 'Double' || t === 'Decimal128') return `d${Number(String(v))}`;
  return `O${BSON.EJSON.stringify(v as Document, { relaxed: false })}`;
}

/** MongoDB's cross-type sort order (numbers < strings < objects < … < ObjectId < bool < Date). */
export function typeRank(v: unknown): number {
  if (v === null || v === undefined) return 1;
  switch (typeof v) {
    case 'number':
    case 'bigint':
      return 2;
    case 'string':
      return 3;
    case 'boolean':
      return 8;
    default:
      break;
  }
  if (v instanceof Date) return 9;
  if (Array.isArray(v)) return 5;
  if (v instanceof RegExp) return 11;
  const t = bsonType(v as object);
  if (t === 'ObjectId' || t === 'ObjectID') return 7;
  if (t === 'Binary') return 6;
  if (t === 'Long' || t === 'Int32' || t === 'Double' || t === 'Decimal128') return 2;
  return 4;
}

/** Total order over indexable scalars of the same or different types. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 1:
      return 0;
    case 2: {
      const x = Number(typeof a === 'object' ? String(a) : a);
      const y = Number(typeof b === 'object' ? String(b) : b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 3:
      return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
    case 7: {
      const x = (a as ObjectId).toHexString();
      const y = (b as ObjectId).toHexString();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 8:
      return Number(a) - Number(b);
    case 9:
      return (a as Date).getTime() - (b as Date).getTime();
    default: {
      const x = keyOf(a);
      const y = keyOf(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

/**
 * Every value at a dotted path, descending into arrays as MongoDB does for multikey indexes:
 * array elements are yielded one by one, and a missing field yields null.
 */
export function valuesAtPath(doc: unknown, path: readonly string[], i = 0, out: unknown[] = []): unknown[] {
  if (i === path.length) {
    if (Array.isArray(doc)) {
      if (doc.length === 0) out.push(EMPTY_ARRAY);
      for (const el of doc) out.push(el === undefined ? null : el);
    } else {
      out.push(doc === undefined ? null : doc);
    }
    return out;
  }
  if (doc === null || typeof doc !== 'object') {
    out.push(null);
    return out;
  }
  const seg = path[i]!;
  if (Array.isArray(doc)) {
    const idx = /^\d+$/.test(seg) ? Number(seg) : -1;
    if (idx >= 0 && idx < doc.length) valuesAtPath(doc[idx], path, i + 1, out);
    for (const el of doc) {
      if (el !== null && typeof el === 'object' && !Array.isArray(el)) valuesAtPath(el, path, i, out);
      else if (idx < 0) out.push(null);
    }
    if (doc.length === 0) out.push(null);
    return out;
  }
  return valuesAtPath((doc as Record<string, unknown>)[seg], path, i + 1, out);
}

/** Marker for an empty array at an indexed path (MongoDB indexes `[]` as its own key). */
export const EMPTY_ARRAY: readonly unknown[] = Object.freeze([]);

/** True for values an index can look up by equality or range (not documents or arrays). */
export function isIndexableScalar(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'undefined' && typeof v !== 'function' && typeof v !== 'symbol';
  if (v instanceof Date) return true;
  const t = bsonType(v);
  return t === 'ObjectId' || t === 'ObjectID' || t === 'Binary';
}
