/**
 * Durable field usage: hourly buckets per (signature, client) with the coordinates the operation
 * selects, in accounts' store (the collection the admin API and schema:check read). Bounded by
 * retention: buckets older than `retentionDays` are deleted on write.
 */
import type { DocCollection, FolioDb } from '../../lib/storage/index.js';

export interface SchemaUsageDoc {
  /** `${hour}|${signature}|${clientName}|${clientVersion}|${partnerKeyId}` */
  _id: string;
  hour: Date;
  signature: string;
  clientName: string;
  clientVersion: string;
  partnerKeyId: string | null;
  coordinates: string[];
  requests: number;
}

export interface UsageInput {
  hour: number;
  signature: string;
  client: { name: string; version: string; partnerKeyId: string | null };
  requests: number;
  coordinates: string[];
}

export interface CoordinateUsage {
  requests: number;
  clients: string[];
}

const DAY_MS = 86_400_000;

export class SchemaUsageStore {
  private constructor(private readonly usage: DocCollection<SchemaUsageDoc>, private readonly retentionDays: number) {}

  static async open(db: FolioDb, retentionDays = 30): Promise<SchemaUsageStore> {
    const usage = db.collection<SchemaUsageDoc>('schema_usage');
    await usage.createIndex({ coordinates: 1, hour: -1 }, { name: 'coordinate_hour' });
    return new SchemaUsageStore(usage, retentionDays);
  }

  async write(rows: readonly UsageInput[], now = Date.now()): Promise<void> {
    if (rows.length > 0) {
      await this.usage.bulkWrite(
        rows.map((r) => {
          const _id = `${r.hour}|${r.signature}|${r.client.name}|${r.client.version}|${r.client.partnerKeyId ?? ''}`;
          return {
            updateOne: {
              filter: { _id },
              update: {
                $inc: { requests: r.requests },
                $setOnInsert: {
                  hour: new Date(r.hour),
                  signature: r.signature,
                  clientName: r.client.name,
                  clientVersion: r.client.version,
                  partnerKeyId: r.client.partnerKeyId,
                  coordinates: r.coordinates,
                },
              },
              upsert: true,
            },
          };
        }),
      );
    }
    await this.usage.deleteMany({ hour: { $lt: new Date(now - this.retentionDays * DAY_MS) } });
  }

  /** Requests touching `coordinate` (a field, or any argument of it) since `since`, with clients. */
  async requests(coordinate: string, since: Date): Promise<CoordinateUsage> {
    const docs = await this.usage.find({ hour: { $gte: since } }).toArray();
    let requests = 0;
    const clients = new Set<string>();
    for (const d of docs) {
      if (!d.coordinates.some((c) => c === coordinate || c.startsWith(`${coordinate}.`))) continue;
      requests += d.requests;
      clients.add(clientLabel(d));
    }
    return { requests, clients: [...clients].sort() };
  }

  /** Every bucket since `since`, for callers that answer many coordinates at once. */
  async since(since: Date): Promise<SchemaUsageDoc[]> {
    return this.usage.find({ hour: { $gte: since } }).toArray();
  }
}

export const clientLabel = (d: Pick<SchemaUsageDoc, 'clientName' | 'clientVersion' | 'partnerKeyId'>): string =>
  `${d.clientName || 'unknown'}@${d.clientVersion || '?'}${d.partnerKeyId ? ` (partner key ${d.partnerKeyId})` : ''}`;
