/**
 * Durable field usage, written by the gateway (`POST /internal/schema-usage`) and read by the
 * admin queries and `npm run schema:check -- --usage-days N`. Three collections in accounts'
 * database:
 *
 * - `schema_usage`: requests per (UTC hour, schema coordinate, client). Bounded: at most
 *   `maxRowsPerHour` client rows per hour; past that a coordinate's further clients are counted
 *   under the client `(other)` (one row per coordinate, and coordinates are bounded by the schema),
 *   so usage is never lost, only its attribution. Hours older than the retention are pruned.
 * - `schema_operations`: each operation signature once, with its normalised text (literals
 *   blanked by the gateway; ≤ 20,000 bytes), coordinates, up to 20 client labels and when it was
 *   last seen. At most `maxOperations`; operations unseen for the retention are pruned.
 * - `schema_usage_meta`: the served schema's field and deprecated coordinates, as the gateway
 *   last reported them (least-used and deprecated listings start from these).
 */
import type { DocCollection, FolioDb } from '../../lib/storage/index.js';

export interface SchemaUsageDoc {
  /** `${hourMs}|${coordinate}|${clientName}|${clientVersion}|${partnerKeyId}` */
  _id: string;
  hour: Date;
  coordinate: string;
  clientName: string;
  clientVersion: string;
  partnerKeyId: string | null;
  requests: number;
}

export interface SchemaOperationDoc {
  /** The operation signature (SHA-256 of the normalised text, 32 hex). */
  _id: string;
  name: string | null;
  /** Normalised text (string and number literals blanked), or null when it was too long to keep. */
  body: string | null;
  coordinates: string[];
  /** Client labels (`name@version (partner key id)`), at most ~20. */
  clients: string[];
  requests: number;
  firstSeen: Date;
  lastSeen: Date;
}

export interface SchemaMetaDoc {
  _id: 'schema';
  fields: string[];
  deprecated: Array<{ coordinate: string; reason: string }>;
  updatedAt: Date;
}

export interface UsageWrite {
  rows: ReadonlyArray<{ hour: number; coordinate: string; clientName: string; clientVersion: string; partnerKeyId: string | null; requests: number }>;
  operations: ReadonlyArray<{ signature: string; name: string | null; body: string | null; coordinates: readonly string[]; clients: readonly string[]; requests: number; hour: number }>;
  schema?: { fields: readonly string[]; deprecated: ReadonlyArray<{ coordinate: string; reason: string }> } | undefined;
}

export interface SchemaUsageStoreOptions {
  /** @default 30 */
  readonly retentionDays?: number;
  /** Client rows per hour before further clients are folded into `(other)`. @default 50000 */
  readonly maxRowsPerHour?: number;
  /** Distinct operations kept. @default 5000 */
  readonly maxOperations?: number;
}

/** Where attribution went once an hour held maxRowsPerHour client rows. */
export const OTHER_CLIENT = { clientName: '(other)', clientVersion: '', partnerKeyId: null } as const;
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
const MAX_CLIENTS_PER_OPERATION = 20;
const PRUNE_EVERY_MS = 10 * 60_000;

const rowId = (hour: number, coordinate: string, c: { clientName: string; clientVersion: string; partnerKeyId: string | null }): string =>
  `${hour}|${coordinate}|${c.clientName}|${c.clientVersion}|${c.partnerKeyId ?? ''}`;

export const clientLabel = (d: { clientName: string; clientVersion: string; partnerKeyId: string | null }): string =>
  `${d.clientName || 'unknown'}${d.clientVersion ? `@${d.clientVersion}` : ''}${d.partnerKeyId ? ` (partner key ${d.partnerKeyId})` : ''}`;

export class SchemaUsageStore {
  readonly retentionDays: number;
  private readonly maxRowsPerHour: number;
  private readonly maxOperations: number;
  private lastPrune = 0;

  private constructor(
    readonly usage: DocCollection<SchemaUsageDoc>,
    readonly operations: DocCollection<SchemaOperationDoc>,
    private readonly meta: DocCollection<SchemaMetaDoc>,
    options: SchemaUsageStoreOptions,
  ) {
    this.retentionDays = options.retentionDays ?? 30;
    this.maxRowsPerHour = options.maxRowsPerHour ?? 50_000;
    this.maxOperations = options.maxOperations ?? 5_000;
  }

  static async open(db: FolioDb, options: SchemaUsageStoreOptions = {}): Promise<SchemaUsageStore> {
    const usage = db.collection<SchemaUsageDoc>('schema_usage');
    const operations = db.collection<SchemaOperationDoc>('schema_operations');
    await usage.createIndex({ coordinate: 1, hour: -1 }, { name: 'coordinate_hour' });
    await usage.createIndex({ hour: 1 }, { name: 'hour' });
    await operations.createIndex({ lastSeen: 1 }, { name: 'lastSeen' });
    return new SchemaUsageStore(usage, operations, db.collection<SchemaMetaDoc>('schema_usage_meta'), options);
  }

  /** The oldest hour still kept. */
  windowStart(now = Date.now()): Date {
    return new Date(now - this.retentionDays * DAY_MS);
  }

  async write(input: UsageWrite, now = Date.now()): Promise<void> {
    const oldest = this.windowStart(now).getTime();
    // Hours outside the window (late or clock-skewed gateways) are not kept: pruning would remove them anyway.
    const rows = input.rows.filter((r) => r.hour >= oldest - HOUR_MS && r.hour <= now + HOUR_MS);
    const byHour = new Map<number, typeof rows>();
    for (const r of rows) byHour.set(r.hour, [...(byHour.get(r.hour) ?? []), r]);
    const writes: Array<{ id: string; hour: number; coordinate: string; client: { clientName: string; clientVersion: string; partnerKeyId: string | null }; requests: number }> = [];
    for (const [hour, hourRows] of byHour) {
      const ids = hourRows.map((r) => rowId(hour, r.coordinate, r));
      const existing = new Set((await this.usage.find({ _id: { $in: ids } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
      let room = this.maxRowsPerHour - (await this.usage.countDocuments({ hour: new Date(hour) }));
      hourRows.forEach((r, i) => {
        const id = ids[i]!;
        if (existing.has(id) || room > 0) {
          if (!existing.has(id)) room -= 1;
          writes.push({ id, hour, coordinate: r.coordinate, client: r, requests: r.requests });
        } else {
          writes.push({ id: rowId(hour, r.coordinate, OTHER_CLIENT), hour, coordinate: r.coordinate, client: OTHER_CLIENT, requests: r.requests });
        }
      });
    }
    if (writes.length > 0) {
      await this.usage.bulkWrite(
        writes.map((w) => ({
          updateOne: {
            filter: { _id: w.id },
            update: {
              $inc: { requests: w.requests },
              $setOnInsert: { hour: new Date(w.hour), coordinate: w.coordinate, clientName: w.client.clientName, clientVersion: w.client.clientVersion, partnerKeyId: w.client.partnerKeyId },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
    await this.writeOperations(input.operations);
    if (input.schema) {
      await this.meta.replaceOne(
        { _id: 'schema' },
        { fields: [...input.schema.fields], deprecated: input.schema.deprecated.map((d) => ({ ...d })), updatedAt: new Date(now) },
        { upsert: true },
      );
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) await this.prune(now);
  }

  private async writeOperations(operations: UsageWrite['operations']): Promise<void> {
    if (operations.length === 0) return;
    const existing = new Set((await this.operations.find({ _id: { $in: operations.map((o) => o.signature) } }, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
    let room = this.maxOperations - (await this.operations.countDocuments({}));
    const kept = operations.filter((o) => existing.has(o.signature) || (room-- > 0));
    if (kept.length === 0) return;
    await this.operations.bulkWrite(
      kept.flatMap((o) => [
        {
          updateOne: {
            filter: { _id: o.signature },
            update: {
              $inc: { requests: o.requests },
              $max: { lastSeen: new Date(o.hour) },
              $setOnInsert: { name: o.name, body: o.body, coordinates: [...o.coordinates], clients: [], firstSeen: new Date(o.hour) },
            },
            upsert: true,
          },
        },
        // The text arrives once; a gateway that restarted may send it again, a known one is kept.
        ...(o.body !== null ? [{ updateOne: { filter: { _id: o.signature, body: null }, update: { $set: { body: o.body } } } }] : []),
        ...(o.clients.length > 0
          ? [{ updateOne: { filter: { _id: o.signature, [`clients.${MAX_CLIENTS_PER_OPERATION - 1}`]: { $exists: false } }, update: { $addToSet: { clients: { $each: [...o.clients] } } } } }]
          : []),
      ]),
      { ordered: true },
    );
  }

  async prune(now = Date.now()): Promise<void> {
    this.lastPrune = now;
    const before = this.windowStart(now);
    await this.usage.deleteMany({ hour: { $lt: before } });
    await this.operations.deleteMany({ lastSeen: { $lt: before } });
  }

  /** Requests per coordinate and client since `since` (one row per pair: bounded by coordinates × clients). */
  async totals(since: Date, coordinates?: readonly string[]): Promise<Array<{ coordinate: string; clientName: string; clientVersion: string; partnerKeyId: string | null; requests: number }>> {
    const match = coordinates ? { hour: { $gte: since }, coordinate: { $in: [...coordinates] } } : { hour: { $gte: since } };
    const grouped = await this.usage
      .aggregate<{ _id: { c: string; n: string; v: string; p: string | null }; requests: number }>([
        { $match: match },
        { $group: { _id: { c: '$coordinate', n: '$clientName', v: '$clientVersion', p: '$partnerKeyId' }, requests: { $sum: '$requests' } } },
      ])
      .toArray();
    return grouped.map((g) => ({ coordinate: g._id.c, clientName: g._id.n, clientVersion: g._id.v, partnerKeyId: g._id.p ?? null, requests: g.requests }));
  }

  /** One coordinate's buckets, newest hour first (then by id), after a keyset position. */
  async buckets(coordinate: string, since: Date, limit: number, after: { hour: number; id: string } | null): Promise<SchemaUsageDoc[]> {
    const filter = after
      ? { coordinate, hour: { $gte: since }, $or: [{ hour: { $lt: new Date(after.hour) } }, { hour: new Date(after.hour), _id: { $gt: after.id } }] }
      : { coordinate, hour: { $gte: since } };
    return this.usage.find(filter).sort({ hour: -1, _id: 1 }).limit(limit).toArray();
  }

  async schema(): Promise<SchemaMetaDoc | null> {
    return this.meta.findOne({ _id: 'schema' });
  }

  /** Operations seen since `since` (the schema check validates their text). */
  /** The oldest hour still kept: how far back recorded usage reaches (null before any). */
  async firstHour(): Promise<Date | null> {
    const [oldest] = await this.usage.find({}).sort({ hour: 1 }).limit(1).project<{ hour: Date }>({ hour: 1 }).toArray();
    return oldest?.hour ?? null;
  }

  async operationsSince(since: Date): Promise<SchemaOperationDoc[]> {
    return this.operations.find({ lastSeen: { $gte: since } }).toArray();
  }
}
