/**
 * The one catalogue of errors a client can see. Business code throws `FolioError` (it knows
 * nothing of GraphQL); each server's edge turns it into a GraphQL error carrying
 * `extensions.code` and masks anything else as INTERNAL_SERVER_ERROR.
 *
 * This catalogue is also the one list of codes a client may see as they were raised (with their
 * own message): every code here is client-safe unless it says `clientSafe: false`, and an error
 * with a code not listed here is masked at every edge. A status below 500 means the request was
 * the client's fault (not logged as a server problem).
 */

export interface ErrorDefinition {
  readonly status: number;
  readonly message: string;
  /** May an error with this code reach a client with its own message? @default true */
  readonly clientSafe?: boolean;
}

export const ERROR_CODES = {
  // GraphQL-over-HTTP refusals, as graphql-js and Apollo Server name them.
  GRAPHQL_PARSE_FAILED: { status: 400, message: 'The GraphQL document is not valid syntax.' },
  GRAPHQL_VALIDATION_FAILED: { status: 400, message: 'The GraphQL document is not valid against the schema.' },
  BAD_REQUEST: { status: 400, message: 'The request is not a valid GraphQL request.' },
  OPERATION_RESOLUTION_FAILURE: { status: 400, message: 'The operation to run could not be determined.' },
  BAD_USER_INPUT: { status: 400, message: 'The request has invalid input.' },
  UNAUTHENTICATED: { status: 401, message: 'You must be signed in.' },
  FORBIDDEN: { status: 403, message: 'You are not allowed to do that.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  CONFLICT: { status: 409, message: 'That conflicts with existing data.' },
  LINK_EXPIRED: { status: 410, message: 'This link has expired; ask for a new one.' },
  // A sync cursor (me.changes, a subscription's `after`) older than the kept change history.
  CURSOR_EXPIRED: { status: 410, message: 'This cursor is older than the kept change history; resync in full.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request is too large.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request body arrived too slowly.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later.' },
  PERSISTED_QUERY_NOT_FOUND: { status: 200, message: 'PersistedQueryNotFound' },
  OPERATION_LIMIT_EXCEEDED: { status: 400, message: 'The operation exceeds a limit.' },
  SERVICE_OVERLOADED: { status: 503, message: 'The service is overloaded; retry later.' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'A service is unavailable.' },
  // 503 + retry-after rather than 507: the client did nothing wrong and the same request succeeds
  // once space is freed (the store recovers by itself), which is what 503 with Retry-After says.
  STORAGE_FULL: { status: 503, message: 'Storage is full; nothing was saved. Retry later.' },
  INTERNAL_SERVER_ERROR: { status: 500, message: 'Internal server error.', clientSafe: false },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FolioErrorOptions {
  /** Extra, client-safe fields copied into `extensions` (e.g. `field`, `retryAfterSeconds`). */
  readonly details?: Record<string, unknown>;
  readonly cause?: unknown;
}

export class FolioError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message?: string, options: FolioErrorOptions = {}) {
    super(message ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'FolioError';
    this.code = code;
    this.details = options.details ?? {};
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].status;
  }
}

export const badInput = (message: string, field?: string): FolioError =>
  new FolioError('BAD_USER_INPUT', message, field ? { details: { field } } : {});
export const notFound = (what: string): FolioError => new FolioError('NOT_FOUND', `${what} not found.`);
export const unauthenticated = (message?: string): FolioError => new FolioError('UNAUTHENTICATED', message);
export const conflict = (message: string): FolioError => new FolioError('CONFLICT', message);
/** A write refused because the disk is full; `cause` (the storage error) is logged, never shown. */
export const storageFull = (cause?: unknown): FolioError => new FolioError('STORAGE_FULL', undefined, { details: { retryAfterSeconds: 30 }, cause });

export function isFolioError(error: unknown): error is FolioError {
  return error instanceof FolioError;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/** A code that may reach a client as raised, with its own message (see the catalogue's note). */
export function isClientSafeCode(value: unknown): value is ErrorCode {
  return isErrorCode(value) && (ERROR_CODES[value] as ErrorDefinition).clientSafe !== false;
}

/** A client-safe code that blames the request (4xx, or APQ's 200): the client's fault, not the server's. */
export function isClientErrorCode(value: unknown): value is ErrorCode {
  return isClientSafeCode(value) && ERROR_CODES[value].status < 500;
}

/**
 * `details` under the catalogue's own fields: a detail named `code` (or Apollo's `http`) can never
 * replace the error's code or status.
 */
export function errorExtensions(error: FolioError): Record<string, unknown> {
  const { code: _code, http: _http, ...details } = error.details;
  return { code: error.code, ...details };
}

/** Thrown by exhaustive switches: the compiler proves it unreachable. */
export class UnreachableCaseError extends Error {
  constructor(value: never) {
    super(`Unreachable case: ${JSON.stringify(value)}`);
  }
}
