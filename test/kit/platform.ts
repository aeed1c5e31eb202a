/** Shared test kit: a whole platform on free ports with a fresh data directory, and a GraphQL client. */
import { rmSync } from 'node:fs';
import { testConfig, type FolioConfig } from '../../lib/config.js';
import type { Caller } from '../../lib/identity.js';
import { createLogger } from '../../lib/logger.js';
import { signRequest } from '../../lib/signing.js';
import { startPlatform, type Platform, type PlatformPart } from '../../scripts/platform.js';
import { tempDataDir } from './tempDir.js';

export interface TestPlatform extends Platform {
  readonly config: FolioConfig;
  readonly dataDir: string;
  readonly gateway: string;
  /** Stops everything and removes the data directory. */
  [Symbol.asyncDispose](): Promise<void>;
}

export interface TestPlatformOptions {
  readonly env?: Record<string, string>;
  readonly parts?: readonly PlatformPart[];
  /** Reuse a data directory (restart tests); a new temporary one otherwise. */
  readonly dataDir?: string;
  /** Keep the data directory on dispose. */
  readonly keepData?: boolean;
}

export { tempDataDir } from './tempDir.js';

/** FOLIO_OPS_TOKEN of a production test platform (production requires one): `Authorization: Bearer` for /metrics and /readyz. */
export const TEST_OPS_TOKEN = 'test-ops-token-test-ops-token-0123';

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? tempDataDir();
  const config = testConfig({
    FOLIO_GATEWAY_PORT: '0',
    FOLIO_SUBGRAPH_BASE_PORT: '0',
    FOLIO_DATA_DIR: dataDir,
    FOLIO_DEMO_DATA: 'false',
    FOLIO_INTERNAL_SECRET: 'test-secret-test-secret-test-secret-0123',
    FOLIO_ADMIN_PASSWORD: 'admin-password-for-tests',
    // Cheaper password hashing: tests exercise behaviour, not the KDF's cost.
    FOLIO_PASSWORD_SCRYPT_LOG_N: '12',
    // CI runs several suites at once on two cores; load shedding has its own tests and must not fail the others.
    FOLIO_GATEWAY_MAX_EVENT_LOOP_LAG_MS: '5000',
    ...(options.env?.NODE_ENV === 'production' ? { FOLIO_OPS_TOKEN: TEST_OPS_TOKEN } : {}),
    // Every test client is 127.0.0.1; suites register hundreds of users. The throttle's own tests lower it.
    FOLIO_REGISTRATIONS_PER_ADDRESS_HOUR: '100000',
    ...options.env,
  });
  const platform = await startPlatform(config, createLogger('test', config.logLevel), options.parts);
  const stop = async (): Promise<void> => {
    await platform.stop();
    if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  return { ...platform, config, dataDir, gateway: platform.gatewayUrl ?? '', stop, [Symbol.asyncDispose]: stop };
}

export interface GraphQLResponse<T = Record<string, any>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: Array<{ message: string; path?: Array<string | number>; extensions?: { code?: string } & Record<string, unknown> }>;
  readonly headers: Headers;
}

export interface RequestOptions {
  readonly token?: string;
  readonly apiKey?: string;
  readonly headers?: Record<string, string>;
  readonly operationName?: string;
  readonly extensions?: Record<string, unknown>;
  /** Sign the request as the gateway does, for a direct call to a subgraph (`audience` is its name). */
  readonly signAs?: { readonly secret: string; readonly audience: string; readonly caller: Caller };
}

/** POSTs one GraphQL operation; never throws for GraphQL errors. */
export async function graphql<T = Record<string, any>>(
  url: string,
  query: string | undefined,
  variables: Record<string, unknown> = {},
  options: RequestOptions = {},
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  const body = JSON.stringify({ query, variables, operationName: options.operationName, extensions: options.extensions });
  if (options.signAs) {
    const { pathname, search } = new URL(url);
    Object.assign(headers, signRequest(options.signAs.secret, { audience: options.signAs.audience, method: 'POST', pathAndQuery: pathname + search, body }, options.signAs.caller));
  }
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let answer: { data?: T; errors?: GraphQLResponse['errors'] };
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response (HTTP ${response.status}): ${text.slice(0, 500)}`);
  }
  return { status: response.status, data: answer.data, errors: answer.errors, headers: response.headers };
}

/** Like graphql(), but fails the test on any error and returns data. */
export async function mustQuery<T = Record<string, any>>(url: string, query: string, variables: Record<string, unknown> = {}, options: RequestOptions = {}): Promise<T> {
  const result = await graphql<T>(url, query, variables, options);
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as T;
}

export const errorCodes = (result: GraphQLResponse): Array<string | undefined> => (result.errors ?? []).map((e) => e.extensions?.code);

export { eventually } from './eventually.js';
