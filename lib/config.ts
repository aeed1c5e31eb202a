/**
 * The one place that reads Folio's settings (FOLIO_*, NODE_ENV, MONGODB_URI, QDRANT_*) from the
 * environment; everything else gets them from FolioConfig (entry points may rename variables
 * first, as gateway/main.ts does for benchmark harnesses). Three steps, as in apollographql/federation:
 * typed options with documented defaults, a function that fills them in, and a validator that
 * names the bad variable. A bad value stops start-up with a message a person can act on.
 */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { z } from 'zod';

export const SUBGRAPH_NAMES = ['accounts', 'catalog', 'ugc', 'search'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];
export const SERVICE_NAMES = [...SUBGRAPH_NAMES, 'gateway'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const optionalUrl = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v ? v : undefined))
  .pipe(z.url().optional());
const positiveInt = z.coerce.number().int().positive();
const rateSpec = z.string().regex(/^\d+\/\d+$/, 'must be points/seconds, e.g. 600/60');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** Interface every server binds to. @default 127.0.0.1 */
  FOLIO_HOST: z.string().min(1).default('127.0.0.1'),
  /** Gateway HTTP port (GraphQL at /graphql). @default 4000 */
  FOLIO_GATEWAY_PORT: port.default(4000),
  /** accounts, catalog, ugc and search listen on this port and the next three. @default 4001 */
  FOLIO_SUBGRAPH_BASE_PORT: port.default(4001),
  /** Where each service is reached from the others, e.g. `accounts=accounts,catalog=catalog` (docker-compose). @default FOLIO_HOST for all */
  FOLIO_SERVICE_HOSTS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const hosts: Partial<Record<SubgraphName, string>> = {};
      for (const pair of v.split(',').map((p) => p.trim()).filter(Boolean)) {
        const [name, host] = pair.split('=').map((s) => s.trim());
        if (!name || !host || !(SUBGRAPH_NAMES as readonly string[]).includes(name)) {
          ctx.addIssue({ code: 'custom', message: `expected name=host pairs with names from ${SUBGRAPH_NAMES.join(', ')}; got "${pair}"` });
          return z.NEVER;
        }
        hosts[name as SubgraphName] = host;
      }
      return hosts;
    }),
  /** Which services this process runs, e.g. `accounts,catalog` (docker-compose runs one each). @default all, the gateway included */
  FOLIO_SERVICES: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const names = v.split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = names.filter((n) => !(SERVICE_NAMES as readonly string[]).includes(n));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `unknown service(s) ${unknown.join(', ')} (choose from ${SERVICE_NAMES.join(', ')})` });
        return z.NEVER;
      }
      return names.length > 0 ? (names as ServiceName[]) : [...SERVICE_NAMES];
    }),
  /** Where embedded stores keep their files. @default ./.folio-data */
  FOLIO_DATA_DIR: z.string().min(1).default('./.folio-data'),
  /** Embedded store commit mode (lib/storage/embedded/engine.ts): pipelined | serial | single. @default pipelined */
  FOLIO_STORE_COMMIT: z.enum(['pipelined', 'serial', 'single']).default('pipelined'),
  /** How long producers keep outbox events (lib/events.ts). @default 168 (a week) */
  FOLIO_OUTBOX_RETENTION_HOURS: z.coerce.number().positive().max(24 * 366).default(168),
  /** Most outbox events a producer keeps, whatever their age. @default 200000 */
  FOLIO_OUTBOX_MAX_EVENTS: z.coerce.number().int().min(100).max(100_000_000).default(200_000),
  /**
   * This instance's stable name as a worker (e.g. a StatefulSet pod name), so a restarted instance
   * takes back its own jobs at once; unique per running instance. @default an id kept in FOLIO_DATA_DIR
   */
  FOLIO_INSTANCE_ID: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^[A-Za-z0-9._-]{1,100}$/.test(v), 'expected 1-100 letters, digits, dots, dashes or underscores'),
  /** Use this MongoDB instead of the embedded store. */
  MONGODB_URI: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || /^mongodb(\+srv)?:\/\//.test(v), 'must start with mongodb:// or mongodb+srv://'),
  /** Use this Qdrant instead of the embedded vector index. */
  QDRANT_URL: optionalUrl,
  QDRANT_API_KEY: z.string().optional(),
  /** The first admin account, created at start-up if absent. */
  FOLIO_ADMIN_USERNAME: z.string().min(3).max(32).default('admin'),
  FOLIO_ADMIN_PASSWORD: z.string().min(10).max(200).optional(),
  /** Key that signs identity headers from gateway to subgraphs (≥ 32 chars). */
  FOLIO_INTERNAL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Load the demo library on first start (development only). @default true */
  FOLIO_DEMO_DATA: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** Log level for pino. @default info */
  FOLIO_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** scrypt cost as log2(N) for password hashes; lower it only to speed up tests. @default 15 */
  FOLIO_PASSWORD_SCRYPT_LOG_N: z.coerce.number().int().min(10).max(20).default(15),
  /** Lifetime of a session token. @default 30 days */
  FOLIO_SESSION_TTL_HOURS: positiveInt.default(24 * 30),
  /** Failed sign-ins per username + client address per 15 minutes (subgraphs/accounts/loginThrottle.ts). @default 5 */
  FOLIO_LOGIN_FAILURES_PER_PAIR: positiveInt.default(5),
  /** Failed sign-ins per client address per 15 minutes, as usernames not familiar there; shared NATs need headroom. @default 100 */
  FOLIO_LOGIN_FAILURES_PER_ADDRESS: positiveInt.default(100),
  /** Failures per username from unfamiliar addresses before each further attempt waits (1 s, doubling, ≤ 15 min). @default 10 */
  FOLIO_LOGIN_FREE_FAILURES_PER_USERNAME: positiveInt.default(10),
  /** Registrations (an scrypt hash each) per client address per hour. @default 20 */
  FOLIO_REGISTRATIONS_PER_ADDRESS_HOUR: positiveInt.default(20),
  /** Run the gateway on any supergraph file (subgraph URLs from the file). */
  FOLIO_SUPERGRAPH_PATH: z.string().min(1).optional(),
  /** Public URL of the catalog service, used in signed download links. */
  FOLIO_PUBLIC_CATALOG_URL: optionalUrl,
  /** OpenAI-compatible endpoints, used when set. */
  FOLIO_EMBEDDINGS_URL: optionalUrl,
  FOLIO_EMBEDDINGS_MODEL: z.string().min(1).optional(),
  FOLIO_EMBEDDINGS_API_KEY: z.string().optional(),
  FOLIO_EMBEDDINGS_MIN_SIMILARITY: z.coerce.number().min(0).max(1).optional(),
  /** A local sentence-embedding model (ONNX + tokenizer.json + config.json), run in process; instead of FOLIO_EMBEDDINGS_URL. */
  FOLIO_EMBEDDINGS_MODEL_DIR: z.string().min(1).optional(),
  /** Put before queries and passages (e5: "query: " and "passage: "), for either kind of model. */
  FOLIO_EMBEDDINGS_QUERY_PREFIX: z.string().max(100).optional(),
  FOLIO_EMBEDDINGS_PASSAGE_PREFIX: z.string().max(100).optional(),
  FOLIO_LLM_URL: optionalUrl,
  FOLIO_LLM_MODEL: z.string().min(1).optional(),
  FOLIO_LLM_API_KEY: z.string().optional(),
  /** Shared rate-limit store for several gateway instances. */
  FOLIO_REDIS_URL: optionalUrl,
  /** Redis pub/sub channel of response-cache purges (deployments sharing one Redis keep theirs apart). */
  FOLIO_GATEWAY_CACHE_PURGE_CHANNEL: z.string().regex(/^[\w:.-]{1,100}$/, 'letters, digits, _ : . - (at most 100)').default('folio:gateway:cache-purge'),
  /** S3-compatible object store for per-user private indexes (a directory otherwise). */
  FOLIO_S3_ENDPOINT: optionalUrl,
  FOLIO_S3_BUCKET: z.string().min(3).optional(),
  FOLIO_S3_REGION: z.string().default('us-east-1'),
  FOLIO_S3_ACCESS_KEY_ID: z.string().optional(),
  FOLIO_S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Memory budget of the private-index LRU cache, in MB. @default 256 */
  FOLIO_PRIVATE_INDEX_CACHE_MB: positiveInt.default(256),
  /** Distinct readers who must have highlighted a passage before anyone sees it as popular (k-anonymity of highlights). @default 3 */
  FOLIO_POPULAR_HIGHLIGHT_MIN_READERS: z.coerce.number().int().min(2).max(1000).default(3),
  /** Worker threads for CPU-heavy work (EPUB parsing, embedding); 0 runs it on the event loop. @default max(1, cores − 1) */
  FOLIO_WORKER_THREADS: z.coerce.number().int().min(0).max(64).optional(),
  // --- gateway (see gateway/README.md) ---
  /** Per-user / per-address rate limits, `points/seconds`, each per client application. */
  FOLIO_GATEWAY_RATE_LIMIT_USER: rateSpec.default('1200/60'),
  FOLIO_GATEWAY_RATE_LIMIT_ADDRESS: rateSpec.default('600/60'),
  /** Operation limits (graphql-armor). */
  FOLIO_GATEWAY_MAX_DEPTH: positiveInt.default(12),
  FOLIO_GATEWAY_MAX_COST: positiveInt.default(20_000),
  FOLIO_GATEWAY_MAX_ALIASES: positiveInt.default(30),
  FOLIO_GATEWAY_MAX_TOKENS: positiveInt.default(3000),
  /** Field selections in one document (bounds validation time). @default 500 */
  FOLIO_GATEWAY_MAX_FIELDS: positiveInt.default(500),
  /** Request body limit in bytes. @default 1 MiB */
  FOLIO_GATEWAY_MAX_BODY_BYTES: positiveInt.default(1024 * 1024),
  /** Request body limit for EDITOR/ADMIN callers (EPUB uploads as base64, catalog accepts 24 MiB). @default 24 MiB */
  FOLIO_GATEWAY_MAX_STAFF_BODY_BYTES: positiveInt.default(24 * 1024 * 1024),
  /** Single-fetch fast path (gateway/singleFetch.ts): one-subgraph plans skip @apollo/gateway's plan execution. @default true */
  FOLIO_GATEWAY_SINGLE_FETCH: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** GraphiQL for browsers at GET /graphql (gateway/ui). @default true, false when NODE_ENV=production */
  FOLIO_GATEWAY_GRAPHIQL: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
  /** Per-subgraph request timeout. @default 10 s */
  FOLIO_GATEWAY_SUBGRAPH_TIMEOUT_MS: positiveInt.default(10_000),
  /** Load shedding: in-flight requests / mean event-loop lag above which new work is refused. */
  FOLIO_GATEWAY_MAX_IN_FLIGHT: positiveInt.default(2000),
  FOLIO_GATEWAY_MAX_EVENT_LOOP_LAG_MS: positiveInt.default(250),
  /** Admission (gateway/plugins/admission.ts): per-client and per-address concurrency, connections per address. */
  FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT: positiveInt.default(32),
  FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_ADDRESS: positiveInt.default(128),
  FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS: positiveInt.default(128),
  /** A request body may take this long; past it only while it averages FOLIO_GATEWAY_MIN_BODY_BYTES_PER_SECOND. @default 10 s */
  FOLIO_GATEWAY_BODY_TIMEOUT_MS: positiveInt.default(10_000),
  FOLIO_GATEWAY_MIN_BODY_BYTES_PER_SECOND: positiveInt.default(8192),
  /** Node's hard limit on receiving one whole request. @default 300 s */
  FOLIO_GATEWAY_REQUEST_TIMEOUT_MS: positiveInt.default(300_000),
  /** How long a resolved token / API key is trusted (revocation takes effect within this). @default 5 */
  FOLIO_GATEWAY_AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  /** Where the accounts internal endpoints live; defaults to the accounts subgraph URL minus its path. */
  FOLIO_GATEWAY_AUTH_URL: optionalUrl,
  /** Subscriptions (gateway/subscriptions/): open WebSocket/SSE connections and active subscriptions per user, per process. */
  FOLIO_GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS_PER_USER: positiveInt.max(1000).default(10),
  FOLIO_GATEWAY_SUBSCRIPTION_MAX_PER_USER: positiveInt.max(10_000).default(50),
  /** graphql-ws ping / SSE keep-alive comment interval. @default 12 s */
  FOLIO_GATEWAY_SUBSCRIPTION_KEEPALIVE_MS: z.coerce.number().int().min(1000).max(120_000).default(12_000),
  /** A connection whose unsent events exceed this (queued or in the socket's buffer) is cut (close 4429): slow consumer. */
  FOLIO_GATEWAY_SUBSCRIPTION_MAX_QUEUED_EVENTS: positiveInt.max(10_000).default(100),
  FOLIO_GATEWAY_SUBSCRIPTION_MAX_BUFFERED_BYTES: positiveInt.max(64 * 1024 * 1024).default(1024 * 1024),
  /** Redis pub/sub channel (and key prefix) of sync events between gateway processes, with FOLIO_REDIS_URL. */
  FOLIO_GATEWAY_SUBSCRIPTION_CHANNEL: z.string().regex(/^[\w:.-]{1,100}$/, 'letters, digits, _ : . - (at most 100)').default('folio:gateway:sync'),
  /**
   * Serve the gateway's operational endpoints (/metrics, /readyz, /healthz) on this port (a private
   * network's) instead of the public one; 0 means any free port. @default unset (the public port)
   */
  FOLIO_GATEWAY_OPS_PORT: port.optional(),
  /**
   * Bearer token that /metrics and /readyz of the gateway and of every subgraph require when set.
   * In production one of FOLIO_OPS_TOKEN and FOLIO_GATEWAY_OPS_PORT is required. @default unset (open)
   */
  FOLIO_OPS_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  /** Record field usage per operation and client for schema checks and admins (gateway/plugins/schemaUsage.ts). @default true */
  FOLIO_GATEWAY_SCHEMA_USAGE: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1'),
  /** How often the gateway sends recorded usage to accounts. @default 60 */
  FOLIO_GATEWAY_SCHEMA_USAGE_FLUSH_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Days accounts keeps recorded field usage and operations (older hours are pruned). @default 30 */
  FOLIO_SCHEMA_USAGE_RETENTION_DAYS: z.coerce.number().int().min(1).max(400).default(30),
  /** Gateway processes sharing the port (node:cluster). @default 1 */
  FOLIO_GATEWAY_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /**
   * Proxies whose X-Forwarded-For the gateway believes: comma-separated addresses or CIDRs
   * (`10.0.0.0/8,::1`). The client address is the rightmost forwarded address that is not one of
   * them. @default none (the socket address, X-Forwarded-For ignored)
   */
  FOLIO_GATEWAY_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const entries = v.split(',').map((p) => p.trim()).filter(Boolean);
      for (const entry of entries) {
        if (!isAddressOrCidr(entry)) {
          ctx.addIssue({ code: 'custom', message: `expected IP addresses or CIDRs (e.g. 10.0.0.0/8); got "${entry}"` });
          return z.NEVER;
        }
      }
      return entries;
    }),
  /**
   * Request header in which a CDN/load balancer names the client's country (`cf-ipcountry`), read
   * only on requests from FOLIO_GATEWAY_TRUSTED_PROXIES. @default none (no territory)
   */
  FOLIO_GATEWAY_TERRITORY_HEADER: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^$|^[a-z0-9-]{1,64}$/, 'expected a header name such as cf-ipcountry')
    .optional()
    .transform((v) => v || undefined),
});

export type RawConfig = z.infer<typeof schema>;

export interface FolioConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly production: boolean;
  readonly host: string;
  readonly gatewayPort: number;
  readonly subgraphPorts: Readonly<Record<SubgraphName, number>>;
  /** Host of each service as the others reach it. */
  readonly serviceHosts: Readonly<Record<SubgraphName, string>>;
  /** FOLIO_SERVICES: what `npm start` runs in this process. */
  readonly services: readonly ServiceName[];
  readonly dataDir: string;
  /** FOLIO_STORE_COMMIT: the embedded store's commit mode. */
  readonly storeCommit: 'pipelined' | 'serial' | 'single';
  /** FOLIO_OUTBOX_RETENTION_HOURS / FOLIO_OUTBOX_MAX_EVENTS: what producers' outboxes keep. */
  readonly outboxRetention: { readonly maxAgeMs: number; readonly maxEvents: number };
  /** FOLIO_INSTANCE_ID; see lib/instance.ts. */
  readonly instanceId: string | undefined;
  readonly mongodbUri: string | undefined;
  readonly qdrant: { readonly url: string; readonly apiKey: string | undefined } | undefined;
  readonly admin: { readonly username: string; readonly password: string; readonly generated: boolean };
  readonly internalSecret: string;
  /** True when FOLIO_INTERNAL_SECRET was unset (development): `internalSecret` is then a per-process random one, which the launcher replaces with the one kept in the data directory (lib/devSecret.ts). */
  readonly internalSecretGenerated?: boolean;
  readonly demoData: boolean;
  readonly logLevel: RawConfig['FOLIO_LOG_LEVEL'];
  readonly sessionTtlMs: number;
  readonly passwordScryptLogN: number;
  readonly loginThrottle: { readonly perPair: number; readonly perAddress: number; readonly usernameFree: number; readonly registrationsPerAddress: number };
  readonly supergraphPath: string | undefined;
  readonly publicCatalogUrl: string;
  readonly embeddings:
    | { readonly url: string; readonly model: string; readonly apiKey: string | undefined; readonly minSimilarity: number | undefined; readonly queryPrefix: string | undefined; readonly passagePrefix: string | undefined }
    | undefined;
  readonly embeddingsModel: { readonly dir: string; readonly minSimilarity: number | undefined; readonly queryPrefix: string | undefined; readonly passagePrefix: string | undefined } | undefined;
  readonly llm: { readonly url: string; readonly model: string; readonly apiKey: string | undefined } | undefined;
  readonly redisUrl: string | undefined;
  readonly s3:
    | { readonly endpoint: string; readonly bucket: string; readonly region: string; readonly accessKeyId: string | undefined; readonly secretAccessKey: string | undefined }
    | undefined;
  readonly privateIndexCacheBytes: number;
  /** A passage is shown in popularHighlights only when this many distinct users highlighted it. */
  readonly popularHighlightMinReaders: number;
  /** Bearer token for /metrics and /readyz on every service; undefined: open. */
  readonly opsToken: string | undefined;
  /** Threads of the process-wide worker pool (lib/workers.ts); 0 = inline. */
  readonly workerThreads: number;
  /** Days of recorded field usage accounts keeps (subgraphs/accounts/schemaUsageStore.ts). */
  readonly schemaUsageRetentionDays: number;
  readonly gateway: GatewaySettings;
}

export interface RateSpec {
  readonly points: number;
  readonly durationSeconds: number;
}

/** Gateway knobs (gateway/README.md documents each). */
export interface GatewaySettings {
  readonly rateLimitUser: RateSpec;
  readonly rateLimitAddress: RateSpec;
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxTokens: number;
  readonly maxFields: number;
  readonly maxBodyBytes: number;
  /** Body limit for authenticated EDITOR/ADMIN callers. */
  readonly maxStaffBodyBytes: number;
  /** Single-fetch fast path on (gateway/singleFetch.ts). */
  readonly singleFetch: boolean;
  /** Serve GraphiQL to browsers at GET /graphql (gateway/ui). */
  readonly graphiql: boolean;
  readonly subgraphTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxEventLoopLagMs: number;
  readonly maxInFlightPerClient: number;
  readonly maxInFlightPerAddress: number;
  readonly maxConnectionsPerAddress: number;
  readonly bodyTimeoutMs: number;
  readonly minBodyBytesPerSecond: number;
  readonly requestTimeoutMs: number;
  readonly authCacheSeconds: number;
  readonly authUrl: string | undefined;
  readonly subscriptions: {
    readonly maxConnectionsPerUser: number;
    readonly maxPerUser: number;
    readonly keepAliveMs: number;
    readonly maxQueuedEvents: number;
    readonly maxBufferedBytes: number;
    readonly channel: string;
  };
  /** Redis pub/sub channel for response-cache purges. */
  readonly cachePurgeChannel: string;
  readonly workers: number;
  /** A separate port for /metrics, /readyz and /healthz; undefined: the public port. */
  readonly opsPort: number | undefined;
  /** Addresses/CIDRs whose X-Forwarded-For is believed (validated by isAddressOrCidr). */
  readonly trustedProxies: readonly string[];
  /** Header (lower case) carrying the client's ISO country code, believed from trusted proxies only. */
  readonly territoryHeader: string | undefined;
  /** Record field usage (plugins/schemaUsage.ts) and send it to accounts every schemaUsageFlushMs. */
  readonly schemaUsage: boolean;
  readonly schemaUsageFlushMs: number;
}

/** `192.0.2.1`, `2001:db8::1`, `10.0.0.0/8` or `2001:db8::/32`. */
export function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const parseRate = (spec: string): RateSpec => {
  const [points, seconds] = spec.split('/').map(Number) as [number, number];
  return { points, durationSeconds: seconds };
};

const isDirectory = (dir: string): boolean => statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses, fills defaults and validates; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): FolioConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const raw = parsed.data;
  const production = raw.NODE_ENV === 'production';
  const problems: string[] = [];
  if (production && !raw.FOLIO_INTERNAL_SECRET) problems.push('FOLIO_INTERNAL_SECRET: required when NODE_ENV=production');
  if (production && !raw.FOLIO_ADMIN_PASSWORD) problems.push('FOLIO_ADMIN_PASSWORD: required when NODE_ENV=production');
  if (raw.FOLIO_EMBEDDINGS_URL && !raw.FOLIO_EMBEDDINGS_MODEL) problems.push('FOLIO_EMBEDDINGS_MODEL: required with FOLIO_EMBEDDINGS_URL');
  if (raw.FOLIO_EMBEDDINGS_URL && raw.FOLIO_EMBEDDINGS_MODEL_DIR) {
    problems.push('FOLIO_EMBEDDINGS_MODEL_DIR: set it or FOLIO_EMBEDDINGS_URL, not both (a local model directory or an embedding server)');
  }
  if (raw.FOLIO_EMBEDDINGS_MODEL_DIR && !isDirectory(raw.FOLIO_EMBEDDINGS_MODEL_DIR)) problems.push(`FOLIO_EMBEDDINGS_MODEL_DIR: ${path.resolve(raw.FOLIO_EMBEDDINGS_MODEL_DIR)} is not a directory`);
  if ((raw.FOLIO_EMBEDDINGS_QUERY_PREFIX || raw.FOLIO_EMBEDDINGS_PASSAGE_PREFIX) && !raw.FOLIO_EMBEDDINGS_URL && !raw.FOLIO_EMBEDDINGS_MODEL_DIR) {
    problems.push('FOLIO_EMBEDDINGS_QUERY_PREFIX/FOLIO_EMBEDDINGS_PASSAGE_PREFIX: only with FOLIO_EMBEDDINGS_URL or FOLIO_EMBEDDINGS_MODEL_DIR');
  }
  if (raw.FOLIO_LLM_URL && !raw.FOLIO_LLM_MODEL) problems.push('FOLIO_LLM_MODEL: required with FOLIO_LLM_URL');
  if (raw.FOLIO_S3_ENDPOINT && !raw.FOLIO_S3_BUCKET) problems.push('FOLIO_S3_BUCKET: required with FOLIO_S3_ENDPOINT');
  if (production && raw.FOLIO_PASSWORD_SCRYPT_LOG_N < 15) problems.push('FOLIO_PASSWORD_SCRYPT_LOG_N: must be at least 15 in production');
  if (production && !raw.FOLIO_OPS_TOKEN && raw.FOLIO_GATEWAY_OPS_PORT === undefined) {
    problems.push('FOLIO_OPS_TOKEN: required when NODE_ENV=production (metrics and readiness are not public), unless FOLIO_GATEWAY_OPS_PORT serves them on a private port');
  }
  if (raw.FOLIO_SUBGRAPH_BASE_PORT > 65532) problems.push('FOLIO_SUBGRAPH_BASE_PORT: needs four consecutive ports (at most 65532)');
  if (problems.length > 0) throw new ConfigError(problems);

  const base = raw.FOLIO_SUBGRAPH_BASE_PORT;
  // Port 0 means "any free port" for every server (tests use it).
  const subgraphPort = (i: number): number => (base === 0 ? 0 : base + i);
  return {
    env: raw.NODE_ENV,
    production,
    host: raw.FOLIO_HOST,
    gatewayPort: raw.FOLIO_GATEWAY_PORT,
    subgraphPorts: { accounts: subgraphPort(0), catalog: subgraphPort(1), ugc: subgraphPort(2), search: subgraphPort(3) },
    serviceHosts: Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [name, raw.FOLIO_SERVICE_HOSTS[name] ?? (raw.FOLIO_HOST === '0.0.0.0' ? '127.0.0.1' : raw.FOLIO_HOST)]),
    ) as Record<SubgraphName, string>,
    services: raw.FOLIO_SERVICES,
    dataDir: path.resolve(raw.FOLIO_DATA_DIR),
    storeCommit: raw.FOLIO_STORE_COMMIT,
    outboxRetention: { maxAgeMs: raw.FOLIO_OUTBOX_RETENTION_HOURS * 3_600_000, maxEvents: raw.FOLIO_OUTBOX_MAX_EVENTS },
    instanceId: raw.FOLIO_INSTANCE_ID,
    mongodbUri: raw.MONGODB_URI,
    qdrant: raw.QDRANT_URL ? { url: raw.QDRANT_URL, apiKey: raw.QDRANT_API_KEY } : undefined,
    admin: {
      username: raw.FOLIO_ADMIN_USERNAME,
      password: raw.FOLIO_ADMIN_PASSWORD ?? 'folio-demo-admin',
      generated: !raw.FOLIO_ADMIN_PASSWORD,
    },
    // A per-process secret unless set; `npm start` keeps one in the data directory (lib/devSecret.ts)
    // so signed download links survive a restart in development.
    internalSecret: raw.FOLIO_INTERNAL_SECRET ?? randomBytes(32).toString('base64url'),
    internalSecretGenerated: !raw.FOLIO_INTERNAL_SECRET,
    demoData: raw.FOLIO_DEMO_DATA && !production,
    logLevel: raw.FOLIO_LOG_LEVEL,
    sessionTtlMs: raw.FOLIO_SESSION_TTL_HOURS * 3_600_000,
    passwordScryptLogN: raw.FOLIO_PASSWORD_SCRYPT_LOG_N,
    loginThrottle: {
      perPair: raw.FOLIO_LOGIN_FAILURES_PER_PAIR,
      perAddress: raw.FOLIO_LOGIN_FAILURES_PER_ADDRESS,
      usernameFree: raw.FOLIO_LOGIN_FREE_FAILURES_PER_USERNAME,
      registrationsPerAddress: raw.FOLIO_REGISTRATIONS_PER_ADDRESS_HOUR,
    },
    supergraphPath: raw.FOLIO_SUPERGRAPH_PATH ? path.resolve(raw.FOLIO_SUPERGRAPH_PATH) : undefined,
    publicCatalogUrl: raw.FOLIO_PUBLIC_CATALOG_URL ?? `http://${raw.FOLIO_HOST}:${subgraphPort(1)}`,
    embeddings: raw.FOLIO_EMBEDDINGS_URL
      ? {
          url: raw.FOLIO_EMBEDDINGS_URL,
          model: raw.FOLIO_EMBEDDINGS_MODEL!,
          apiKey: raw.FOLIO_EMBEDDINGS_API_KEY,
          minSimilarity: raw.FOLIO_EMBEDDINGS_MIN_SIMILARITY,
          queryPrefix: raw.FOLIO_EMBEDDINGS_QUERY_PREFIX,
          passagePrefix: raw.FOLIO_EMBEDDINGS_PASSAGE_PREFIX,
        }
      : undefined,
    embeddingsModel: raw.FOLIO_EMBEDDINGS_MODEL_DIR
      ? {
          dir: path.resolve(raw.FOLIO_EMBEDDINGS_MODEL_DIR),
          minSimilarity: raw.FOLIO_EMBEDDINGS_MIN_SIMILARITY,
          queryPrefix: raw.FOLIO_EMBEDDINGS_QUERY_PREFIX,
          passagePrefix: raw.FOLIO_EMBEDDINGS_PASSAGE_PREFIX,
        }
      : undefined,
    llm: raw.FOLIO_LLM_URL ? { url: raw.FOLIO_LLM_URL, model: raw.FOLIO_LLM_MODEL!, apiKey: raw.FOLIO_LLM_API_KEY } : undefined,
    redisUrl: raw.FOLIO_REDIS_URL,
    s3: raw.FOLIO_S3_ENDPOINT
      ? {
          endpoint: raw.FOLIO_S3_ENDPOINT,
          bucket: raw.FOLIO_S3_BUCKET!,
          region: raw.FOLIO_S3_REGION,
          accessKeyId: raw.FOLIO_S3_ACCESS_KEY_ID,
          secretAccessKey: raw.FOLIO_S3_SECRET_ACCESS_KEY,
        }
      : undefined,
    privateIndexCacheBytes: raw.FOLIO_PRIVATE_INDEX_CACHE_MB * 1024 * 1024,
    popularHighlightMinReaders: raw.FOLIO_POPULAR_HIGHLIGHT_MIN_READERS,
    opsToken: raw.FOLIO_OPS_TOKEN,
    workerThreads: raw.FOLIO_WORKER_THREADS ?? Math.max(1, availableParallelism() - 1),
    gateway: {
      rateLimitUser: parseRate(raw.FOLIO_GATEWAY_RATE_LIMIT_USER),
      rateLimitAddress: parseRate(raw.FOLIO_GATEWAY_RATE_LIMIT_ADDRESS),
      maxDepth: raw.FOLIO_GATEWAY_MAX_DEPTH,
      maxCost: raw.FOLIO_GATEWAY_MAX_COST,
      maxAliases: raw.FOLIO_GATEWAY_MAX_ALIASES,
      maxTokens: raw.FOLIO_GATEWAY_MAX_TOKENS,
      maxFields: raw.FOLIO_GATEWAY_MAX_FIELDS,
      maxBodyBytes: raw.FOLIO_GATEWAY_MAX_BODY_BYTES,
      maxStaffBodyBytes: Math.max(raw.FOLIO_GATEWAY_MAX_STAFF_BODY_BYTES, raw.FOLIO_GATEWAY_MAX_BODY_BYTES),
      singleFetch: raw.FOLIO_GATEWAY_SINGLE_FETCH,
      graphiql: raw.FOLIO_GATEWAY_GRAPHIQL ?? !production,
      subgraphTimeoutMs: raw.FOLIO_GATEWAY_SUBGRAPH_TIMEOUT_MS,
      maxInFlight: raw.FOLIO_GATEWAY_MAX_IN_FLIGHT,
      maxEventLoopLagMs: raw.FOLIO_GATEWAY_MAX_EVENT_LOOP_LAG_MS,
      maxInFlightPerClient: raw.FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_CLIENT,
      maxInFlightPerAddress: raw.FOLIO_GATEWAY_MAX_IN_FLIGHT_PER_ADDRESS,
      maxConnectionsPerAddress: raw.FOLIO_GATEWAY_MAX_CONNECTIONS_PER_ADDRESS,
      bodyTimeoutMs: raw.FOLIO_GATEWAY_BODY_TIMEOUT_MS,
      minBodyBytesPerSecond: raw.FOLIO_GATEWAY_MIN_BODY_BYTES_PER_SECOND,
      requestTimeoutMs: raw.FOLIO_GATEWAY_REQUEST_TIMEOUT_MS,
      authCacheSeconds: raw.FOLIO_GATEWAY_AUTH_CACHE_SECONDS,
      authUrl: raw.FOLIO_GATEWAY_AUTH_URL,
      subscriptions: {
        maxConnectionsPerUser: raw.FOLIO_GATEWAY_SUBSCRIPTION_MAX_CONNECTIONS_PER_USER,
        maxPerUser: raw.FOLIO_GATEWAY_SUBSCRIPTION_MAX_PER_USER,
        keepAliveMs: raw.FOLIO_GATEWAY_SUBSCRIPTION_KEEPALIVE_MS,
        maxQueuedEvents: raw.FOLIO_GATEWAY_SUBSCRIPTION_MAX_QUEUED_EVENTS,
        maxBufferedBytes: raw.FOLIO_GATEWAY_SUBSCRIPTION_MAX_BUFFERED_BYTES,
        channel: raw.FOLIO_GATEWAY_SUBSCRIPTION_CHANNEL,
      },
      cachePurgeChannel: raw.FOLIO_GATEWAY_CACHE_PURGE_CHANNEL,
      workers: raw.FOLIO_GATEWAY_WORKERS,
      opsPort: raw.FOLIO_GATEWAY_OPS_PORT,
      trustedProxies: raw.FOLIO_GATEWAY_TRUSTED_PROXIES,
      territoryHeader: raw.FOLIO_GATEWAY_TERRITORY_HEADER,
      schemaUsage: raw.FOLIO_GATEWAY_SCHEMA_USAGE,
      schemaUsageFlushMs: raw.FOLIO_GATEWAY_SCHEMA_USAGE_FLUSH_SECONDS * 1000,
    },
    schemaUsageRetentionDays: raw.FOLIO_SCHEMA_USAGE_RETENTION_DAYS,
  };
}

/** For entry points: runs `read`, or ends the process (exit 2) with a message naming each bad variable. */
export function configOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

/** Builds a config for tests and tools: defaults plus overrides, no process.env. */
export function testConfig(overrides: Record<string, string> = {}): FolioConfig {
  return loadConfig({ NODE_ENV: 'test', FOLIO_LOG_LEVEL: 'silent', ...overrides });
}
