/**
 * The first page of a per-parent list for many parents in one aggregation, so a DataLoader
 * can answer `Paragraph.publicNotes(first)` or `Book.myHighlights(first)` for a whole page of
 * parents with one database round trip instead of one per parent.
 */
import type { Document, Filter } from '../../../lib/storage/types.js';
import type { DocCollection } from '../../../lib/storage/types.js';
import { connectionOf, idKey, type Connection, type CursorKey } from '../../../lib/pagination.js';

export async function firstPagePerGroup<T extends Document & { _id: string }>(
  collection: DocCollection<T>,
  groupField: keyof T & string,
  keys: readonly string[],
  filter: Filter<T>,
  size: number,
  sort: Record<string, 1 | -1> = { _id: -1 },
  keyOf: (doc: T) => CursorKey = idKey,
): Promise<Map<string, Connection<T>>> {
  const groups = await collection
    .aggregate<{ _id: string; docs: T[]; total: number }>([
      { $match: { ...filter, [groupField]: { $in: [...keys] } } },
      { $sort: sort },
      { $group: { _id: `$${groupField}`, docs: { $push: '$$ROOT' }, total: { $sum: 1 } } },
      { $project: { docs: { $slice: ['$docs', size + 1] }, total: 1 } },
    ])
    .toArray();
  const byKey = new Map(groups.map((g) => [g._id, connectionOf(g.docs, size, keyOf, g.total)]));
  return new Map(keys.map((k) => [k, byKey.get(k) ?? connectionOf<T>([], size, keyOf, 0)]));
}
