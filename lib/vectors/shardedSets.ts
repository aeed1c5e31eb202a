/**
 * A set of slots and a map by id whose growth never rehashes more than a small part at once
 * (private to lib/vectors).
 *
 * V8 grows a Set or Map by rehashing every entry into a table twice the size, synchronously: at
 * 65,536 and 131,072 entries that took 20–60 ms of the event loop (2 cores under load) in the
 * middle of an upsert while a 100,000-paragraph book was indexed, and an embedded collection has
 * such a set for every indexed payload value a whole book shares (its bookId, its revisionId).
 * Splitting them caps each rehash at one part. Hand-written: a few lines over Set and Map, and no
 * maintained package offers it.
 */

/** Slots per part of a SlotSet: slots are allocated in increasing order, so parts fill one after another. */
const SLOT_PART = 4096;

/** A set of slots, kept in one Set per SLOT_PART consecutive slots. */
export class SlotSet implements Iterable<number> {
  private readonly parts: Array<Set<number> | undefined> = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(slot: number): void {
    const at = Math.floor(slot / SLOT_PART);
    const part = (this.parts[at] ??= new Set());
    if (part.has(slot)) return;
    part.add(slot);
    this.count++;
  }

  delete(slot: number): boolean {
    const at = Math.floor(slot / SLOT_PART);
    const part = this.parts[at];
    if (!part?.delete(slot)) return false;
    this.count--;
    if (part.size === 0) this.parts[at] = undefined;
    return true;
  }

  toArray(): number[] {
    const slots: number[] = [];
    for (const part of this.parts) if (part) for (const slot of part) slots.push(slot);
    return slots;
  }

  *[Symbol.iterator](): Iterator<number> {
    for (const part of this.parts) if (part) yield* part;
  }
}

/** Parts of an IdMap: at a million ids each holds ~4,000 (a rehash well under a millisecond). */
const ID_BITS = 8;
const ID_PARTS = 1 << ID_BITS;

/** A map from ids (strings, or numbers such as hashed term ids), kept in ID_PARTS Maps chosen by a hash of the id. */
export class IdMap<V, K extends string | number = string> implements Iterable<[K, V]> {
  private readonly parts = Array.from({ length: ID_PARTS }, () => new Map<K, V>());
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: K): V | undefined {
    return this.partOf(id).get(id);
  }

  set(id: K, value: V): void {
    const part = this.partOf(id);
    if (!part.has(id)) this.count++;
    part.set(id, value);
  }

  delete(id: K): boolean {
    if (!this.partOf(id).delete(id)) return false;
    this.count--;
    return true;
  }

  *values(): Generator<V> {
    for (const part of this.parts) yield* part.values();
  }

  *[Symbol.iterator](): Iterator<[K, V]> {
    for (const part of this.parts) yield* part;
  }

  private partOf(id: K): Map<K, V> {
    // Fibonacci hashing spreads consecutive or clustered numbers over the parts.
    if (typeof id === 'number') return this.parts[Math.imul(id, 0x9e3779b1) >>> (32 - ID_BITS)]!;
    let hash = 0;
    for (let i = 0; i < id.length; i++) hash = (Math.imul(hash, 31) + id.charCodeAt(i)) | 0;
    return this.parts[hash & (ID_PARTS - 1)]!;
  }
}
