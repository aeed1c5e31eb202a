/**
 * Field usage for admins (no GraphQL here): one coordinate's requests per hour and client, the
 * served schema's fields by use, and deprecated coordinates still in use with their clients.
 * Every read asks policy.ts (`schemaUsage.read`: ADMIN only). The gateway's writes arrive on the
 * signed internal route (schemaUsageRoutes.ts), never through the API.
 */
import { badInput } from '../../lib/errors.js';
import { connectionOf, decodeCursor, pageSize, type Connection, type CountedConnection, type PageArgs } from '../../lib/pagination.js';
import { authorize, type Viewer } from './policy.js';
import { clientLabel, type SchemaUsageDoc, type SchemaUsageStore, type UsageWrite } from './schemaUsageStore.js';

export interface UsageClientView {
  name: string;
  version: string;
  partnerKeyId: string | null;
}

export interface UsageBucketView {
  hour: Date;
  client: UsageClientView;
  requests: number;
}

export interface FieldUsageView {
  coordinate: string;
  requests: number;
  deprecationReason: string | null;
  /** Most requests first, at most MAX_CLIENTS. */
  clients: Array<{ client: UsageClientView; requests: number }>;
}

export type UsageOrder = 'MOST_USED' | 'LEAST_USED';

/** `Type.field`, `Type.field.argument` or `Enum.VALUE`. */
const COORDINATE = /^[_A-Za-z][_0-9A-Za-z]{0,99}(\.[_A-Za-z][_0-9A-Za-z]{0,99}){1,2}$/;
const MAX_CLIENTS = 50;
/** GraphQL Int is 32-bit; a count beyond it is shown as the maximum. */
const clampInt = (n: number): number => Math.min(n, 2_147_483_647);

const clientOf = (d: Pick<SchemaUsageDoc, 'clientName' | 'clientVersion' | 'partnerKeyId'>): UsageClientView => ({
  name: d.clientName,
  version: d.clientVersion,
  partnerKeyId: d.partnerKeyId,
});

export class SchemaUsageService {
  constructor(private readonly store: SchemaUsageStore) {}

  /** The gateway's flush (internal route, already validated). */
  record(input: UsageWrite): Promise<void> {
    return this.store.write(input);
  }

  /** `since` defaults to, and is never older than, the start of the retention window. */
  private window(since: Date | null | undefined, now = Date.now()): Date {
    const oldest = this.store.windowStart(now);
    if (since && Number.isNaN(since.getTime())) throw badInput('since is not a valid date-time.', 'since');
    return since && since > oldest ? since : oldest;
  }

  async coordinateUsage(viewer: Viewer, coordinate: string, since: Date | null | undefined, args: PageArgs): Promise<Connection<UsageBucketView> & { totalRequests: number }> {
    authorize(viewer, 'schemaUsage.read', null);
    if (!COORDINATE.test(coordinate)) throw badInput('coordinate must look like Type.field, Type.field.argument or Enum.VALUE.', 'coordinate');
    const size = pageSize(args.first);
    const key = decodeCursor(args.after, ['number', 'string']);
    const from = this.window(since);
    const [docs, totals] = await Promise.all([
      this.store.buckets(coordinate, from, size + 1, key ? { hour: key[0] as number, id: key[1] as string } : null),
      this.store.totals(from, [coordinate]),
    ]);
    const buckets = connectionOf(docs, size, (d) => [d.hour.getTime(), d._id]);
    return {
      ...buckets,
      edges: buckets.edges.map(({ cursor, node: d }) => ({ cursor, node: { hour: d.hour, client: clientOf(d), requests: clampInt(d.requests) } })),
      totalRequests: clampInt(totals.reduce((n, t) => n + t.requests, 0)),
    };
  }

  /** The served schema's fields (as the gateway last reported it) by requests in the window. */
  async fieldUsage(viewer: Viewer, order: UsageOrder, since: Date | null | undefined, args: PageArgs): Promise<CountedConnection<FieldUsageView>> {
    authorize(viewer, 'schemaUsage.read', null);
    const [schema, usage] = await Promise.all([this.store.schema(), this.usageBy(this.window(since))]);
    const deprecated = new Map((schema?.deprecated ?? []).map((d) => [d.coordinate, d.reason]));
    // The served schema's fields; before the gateway has reported one, the fields with usage.
    const coordinates = schema ? schema.fields : [...usage.keys()].filter((c) => c.split('.').length === 2 && !isEnumValueLike(c));
    const fields = coordinates.map((c) => this.view(c, usage, deprecated));
    fields.sort((a, b) => (order === 'MOST_USED' ? b.requests - a.requests : a.requests - b.requests) || a.coordinate.localeCompare(b.coordinate));
    return this.offsetPage(fields, args);
  }

  /** Deprecated fields, arguments and enum values with requests in the window, most used first. */
  async deprecatedUsage(viewer: Viewer, since: Date | null | undefined, args: PageArgs): Promise<CountedConnection<FieldUsageView>> {
    authorize(viewer, 'schemaUsage.read', null);
    const schema = await this.store.schema();
    const deprecated = new Map((schema?.deprecated ?? []).map((d) => [d.coordinate, d.reason]));
    const usage = deprecated.size > 0 ? await this.usageBy(this.window(since), [...deprecated.keys()]) : new Map<string, Map<string, { client: UsageClientView; requests: number }>>();
    const inUse = [...deprecated.keys()].map((c) => this.view(c, usage, deprecated)).filter((f) => f.requests > 0);
    inUse.sort((a, b) => b.requests - a.requests || a.coordinate.localeCompare(b.coordinate));
    return this.offsetPage(inUse, args);
  }

  private async usageBy(since: Date, coordinates?: readonly string[]): Promise<Map<string, Map<string, { client: UsageClientView; requests: number }>>> {
    const out = new Map<string, Map<string, { client: UsageClientView; requests: number }>>();
    for (const t of await this.store.totals(since, coordinates)) {
      let clients = out.get(t.coordinate);
      if (!clients) out.set(t.coordinate, (clients = new Map()));
      const label = clientLabel(t);
      const seen = clients.get(label);
      if (seen) seen.requests += t.requests;
      else clients.set(label, { client: clientOf(t), requests: t.requests });
    }
    return out;
  }

  private view(coordinate: string, usage: Map<string, Map<string, { client: UsageClientView; requests: number }>>, deprecated: Map<string, string>): FieldUsageView {
    const clients = [...(usage.get(coordinate)?.values() ?? [])].sort((a, b) => b.requests - a.requests || clientLabel(toDoc(a.client)).localeCompare(clientLabel(toDoc(b.client))));
    return {
      coordinate,
      requests: clampInt(clients.reduce((n, c) => n + c.requests, 0)),
      deprecationReason: deprecated.get(coordinate) ?? null,
      clients: clients.slice(0, MAX_CLIENTS).map((c) => ({ client: c.client, requests: clampInt(c.requests) })),
    };
  }

  /** Lists computed whole (bounded by the schema's coordinates): the cursor is the position. */
  private offsetPage<T>(items: T[], args: PageArgs): CountedConnection<T> {
    const size = pageSize(args.first);
    const start = (decodeCursor(args.after, ['number'])?.[0] as number | undefined) ?? 0;
    if (!Number.isInteger(start) || start < 0) throw badInput('The cursor is not valid.', 'after');
    return connectionOf(items.slice(start, start + size + 1), size, (_, i) => [start + i + 1], items.length);
  }
}

/** `Enum.VALUE` coordinates look like fields; values are upper case by convention. */
const isEnumValueLike = (c: string): boolean => /^[A-Z0-9_]+$/.test(c.split('.')[1] ?? '');

const toDoc = (c: UsageClientView) => ({ clientName: c.name, clientVersion: c.version, partnerKeyId: c.partnerKeyId });
