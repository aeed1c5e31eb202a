/**
 * Sends the gateway's field usage to accounts (`POST /internal/schema-usage`, signed with
 * lib/signing.ts like every internal call) once a minute and on shutdown, never on a request's
 * path. Each flush drains the aggregator, expands its rows to counts per (hour, coordinate,
 * client), adds each operation seen (its normalised text only until accounts has it once) and,
 * when the served schema changed, its field and deprecated coordinates (accounts lists least-used
 * and deprecated fields from those). A failed send is retried at the next flush; at most
 * MAX_PENDING payloads wait, older ones are dropped and counted.
 */
import { Counter, type Registry } from 'prom-client';
import type { GraphQLSchema } from 'graphql';
import { createRequire } from 'node:module';
import { callInternal, type InternalTarget } from '../../lib/signing.js';
import type { Logger } from '../../lib/logger.js';
import { OVERFLOW_CLIENT, type DrainedUsage, type UsageAggregator, type UsageClient } from './schemaUsage.js';

const { isEnumType, isInputObjectType, isInterfaceType, isObjectType } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

/** The internal route's body (validated again by accounts: subgraphs/accounts/schemaUsageRoutes.ts). */
export interface UsagePayload {
  rows: Array<{ hour: number; coordinate: string; clientName: string; clientVersion: string; partnerKeyId: string | null; requests: number }>;
  operations: Array<{ signature: string; name: string | null; body: string | null; coordinates: string[]; clients: string[]; requests: number; hour: number }>;
  schema?: SchemaDescriptor;
}

export interface SchemaDescriptor {
  /** Every `Type.field` of object and interface types (introspection excluded). */
  fields: string[];
  /** Deprecated fields, arguments and enum values, with their reasons. */
  deprecated: Array<{ coordinate: string; reason: string }>;
}

export const LIMITS = { rowsPerPayload: 2_000, operationsPerPayload: 100, clientsPerOperation: 10 } as const;
const MAX_PENDING = 20;
const MAX_SENT_BODIES = 20_000;

export const clientLabel = (c: Pick<UsageClient, 'name' | 'version' | 'partnerKeyId'>): string =>
  `${c.name || 'unknown'}${c.version ? `@${c.version}` : ''}${c.partnerKeyId ? ` (partner key ${c.partnerKeyId})` : ''}`;

export function describeSchema(schema: GraphQLSchema): SchemaDescriptor {
  const fields: string[] = [];
  const deprecated: SchemaDescriptor['deprecated'] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        fields.push(coordinate);
        if (field.deprecationReason) deprecated.push({ coordinate, reason: field.deprecationReason });
        for (const arg of field.args) if (arg.deprecationReason) deprecated.push({ coordinate: `${coordinate}.${arg.name}`, reason: arg.deprecationReason });
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (value.deprecationReason) deprecated.push({ coordinate: `${type.name}.${value.name}`, reason: value.deprecationReason });
    } else if (isInputObjectType(type)) {
      // Input fields are not recorded (lib/schemaCoordinates.ts walks arguments and enum values), so not listed.
    }
  }
  return { fields: fields.sort(), deprecated: deprecated.sort((a, b) => a.coordinate.localeCompare(b.coordinate)) };
}

/** Turns one drain into payloads of bounded size. `sentBodies` holds signatures accounts already has the text of. */
export function toPayloads(drained: DrainedUsage, sentBodies: ReadonlySet<string>, schema: SchemaDescriptor | undefined): UsagePayload[] {
  const rows = new Map<string, UsagePayload['rows'][number]>();
  const add = (hour: number, coordinate: string, client: UsageClient, requests: number): void => {
    const key = `${hour}|${coordinate}|${client.name}|${client.version}|${client.partnerKeyId ?? ''}`;
    const row = rows.get(key);
    if (row) row.requests += requests;
    else rows.set(key, { hour, coordinate, clientName: client.name, clientVersion: client.version, partnerKeyId: client.partnerKeyId, requests });
  };
  const operations = new Map<string, UsagePayload['operations'][number]>();
  for (const r of drained.rows) {
    for (const c of r.usage.coordinates) add(r.hour, c, r.client, r.requests);
    let op = operations.get(r.usage.signature);
    if (!op) {
      op = {
        signature: r.usage.signature,
        name: r.usage.name,
        body: sentBodies.has(r.usage.signature) ? null : r.usage.body,
        coordinates: [...r.usage.coordinates],
        clients: [],
        requests: 0,
        hour: r.hour,
      };
      operations.set(r.usage.signature, op);
    }
    op.requests += r.requests;
    op.hour = Math.max(op.hour, r.hour);
    const label = clientLabel(r.client);
    if (op.clients.length < LIMITS.clientsPerOperation && !op.clients.includes(label)) op.clients.push(label);
  }
  for (const [hour, perCoordinate] of drained.overflow) for (const [c, n] of perCoordinate) add(hour, c, OVERFLOW_CLIENT, n);

  const allRows = [...rows.values()];
  const allOps = [...operations.values()];
  const payloads: UsagePayload[] = [];
  for (let r = 0, o = 0; r < allRows.length || o < allOps.length || (payloads.length === 0 && schema); ) {
    payloads.push({
      rows: allRows.slice(r, (r += LIMITS.rowsPerPayload)),
      operations: allOps.slice(o, (o += LIMITS.operationsPerPayload)),
      ...(payloads.length === 0 && schema ? { schema } : {}),
    });
  }
  return payloads;
}

export interface UsageFlusherOptions {
  readonly aggregator: UsageAggregator;
  /** accounts' internal endpoint (audience `accounts`). */
  readonly target: InternalTarget;
  readonly logger: Logger;
  readonly registry?: Registry;
  /** @default 60000 */
  readonly intervalMs?: number;
}

export interface UsageFlusher {
  start(): void;
  /** Sends what has been gathered now (tests, shutdown). */
  flush(): Promise<void>;
  /** Stops the timer and sends what is left (bounded by the call's own timeout). */
  stop(): Promise<void>;
}

export function createUsageFlusher(options: UsageFlusherOptions): UsageFlusher {
  const { aggregator, target, logger } = options;
  const registers = options.registry ? [options.registry] : [];
  const dropped = new Counter({
    name: 'folio_gateway_schema_usage_dropped_total',
    help: 'Requests whose usage was not fully recorded: attribution (buffer full, still counted per coordinate) or lost (accounts unreachable)',
    labelNames: ['reason'],
    registers,
  });
  const flushes = new Counter({ name: 'folio_gateway_schema_usage_flushes_total', help: 'Usage payloads sent to accounts, by outcome', labelNames: ['outcome'], registers });
  const sentBodies = new Set<string>();
  let sentSchema: GraphQLSchema | undefined;
  let pending: UsagePayload[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  async function send(payload: UsagePayload): Promise<boolean> {
    try {
      await callInternal(target, 'POST', '/internal/schema-usage', payload, { timeoutMs: 10_000 });
      flushes.inc({ outcome: 'ok' });
      for (const op of payload.operations) {
        if (op.body === null) continue;
        if (sentBodies.size >= MAX_SENT_BODIES) sentBodies.clear();
        sentBodies.add(op.signature);
      }
      return true;
    } catch (err) {
      flushes.inc({ outcome: 'failed' });
      logger.warn({ err }, 'schema usage not sent to accounts; retrying at the next flush');
      return false;
    }
  }

  /** Sends in order; returns what is left from the first failure on. */
  async function sendAll(queue: UsagePayload[], schema: GraphQLSchema | undefined): Promise<UsagePayload[]> {
    for (const [i, payload] of queue.entries()) {
      if (!(await send(payload))) return queue.slice(i);
      if (payload.schema) sentSchema = schema;
    }
    return [];
  }

  async function flushOnce(): Promise<void> {
    const drained = aggregator.drain();
    if (drained.dropped > 0) dropped.inc({ reason: 'buffer_full' }, drained.dropped);
    const schema = aggregator.schema;
    // Earlier failures first, so the texts and schema they carry are not sent again below.
    const left = await sendAll(pending, schema);
    const fresh = toPayloads(drained, sentBodies, schema && schema !== sentSchema ? describeSchema(schema) : undefined);
    pending = left.length > 0 ? [...left, ...fresh] : await sendAll(fresh, schema);
    if (pending.length > MAX_PENDING) {
      const lost = pending.splice(0, pending.length - MAX_PENDING);
      dropped.inc({ reason: 'send_failed' }, lost.reduce((n, p) => n + p.operations.reduce((m, o) => m + o.requests, 0), 0));
    }
  }

  const flush = (): Promise<void> => (running ??= flushOnce().finally(() => (running = undefined)));

  return {
    start() {
      timer ??= setInterval(() => void flush(), options.intervalMs ?? 60_000);
      timer.unref();
    },
    flush,
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      await flush();
    },
  };
}
