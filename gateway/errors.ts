/**
 * Private to the gateway: how gateway errors reach clients. Every refusal carries
 * `extensions.code` from lib/errors.ts and the catalogue's HTTP status; the Apollo `formatError`
 * normaliser keeps subgraph errors as the federation engine produced them (our plugins never
 * change federation results) and masks anything unexpected.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ERROR_CODES, errorExtensions, FolioError, isClientSafeCode, type ErrorCode } from '../lib/errors.js';

/** A FolioError's extensions for Apollo Server: the code and details, and the catalogue's status (`http`), which no detail can replace. */
export function httpErrorExtensions(error: FolioError): Record<string, unknown> {
  return { ...errorExtensions(error), http: { status: error.httpStatus } };
}

/** A FolioError as a GraphQLError that Apollo Server sends with the catalogue's status. */
export function toGraphQLError(error: FolioError): GraphQLError {
  return new GraphQLError(error.message, { extensions: httpErrorExtensions(error), originalError: error });
}

export function folioGraphQLError(code: ErrorCode, message?: string, details?: Record<string, unknown>): GraphQLError {
  return toGraphQLError(new FolioError(code, message, details ? { details } : {}));
}

// graphql-armor's rejection messages. Apollo re-wraps validation errors (dropping their
// extensions), so the message is the only thing that survives to formatError.
const LIMIT_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Syntax Error: Query depth limit of \d+ exceeded/, 'depth'],
  [/^Syntax Error: Query Cost limit of \d+ exceeded/, 'cost'],
  [/^Syntax Error: Aliases limit of \d+ exceeded/, 'aliases'],
  [/^Syntax Error: Directives limit of \d+ exceeded/, 'directives'],
  // graphql-js's own token limit (ParseOptions.maxTokens; operationLimits.ts).
  [/^Syntax Error: Document contains more th(?:an|at) \d+ tokens/, 'tokens'],
];
const REJECTION_CODES = new Set(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED']);

function limitOf(formatted: GraphQLFormattedError): string | undefined {
  if (formatted.path || !REJECTION_CODES.has(String(formatted.extensions?.code))) return undefined;
  return LIMIT_MESSAGES.find(([pattern]) => pattern.test(formatted.message))?.[1];
}

// A code the catalogue (lib/errors.ts) does not mark client-safe means "something broke", not "the
// request was wrong": its message may carry driver text, file paths or SQL, so the client gets a
// fixed message (the original is logged with the request id by the logging plugin). That includes
// DOWNSTREAM_SERVICE_ERROR, what @apollo/gateway stamps on a subgraph error without a code, and
// federation's own codes (INVALID_GRAPHQL, …).
// Extensions that only ever carry internals (Apollo's dev-mode stack traces, graphql-js v15's
// `exception`); dropped from every error, whichever subgraph or mode produced them.
const INTERNAL_EXTENSIONS = ['stacktrace', 'exception'] as const;
const INTERNAL_MESSAGE = ERROR_CODES.INTERNAL_SERVER_ERROR.message;

// graphql-js's "Did you mean …?" (fields, arguments, types, enum values, fragments), and the mask
// graphql-armor's block-field-suggestion used to leave in its place: either tells a prober that a
// name close to its guess exists.
const SUGGESTION = /\s*(?:Did you mean\b[^?]*\?|\[Suggestion hidden\]\??)/g;

export interface ErrorFormatterOptions {
  /** Production: no suggestions in any message. */
  readonly production: boolean;
}

/**
 * Apollo `formatError`, the one normaliser at the gateway's edge: FolioErrors keep their code and
 * message, operation-limit rejections become OPERATION_LIMIT_EXCEEDED, errors with a client-safe
 * code (lib/errors.ts) pass through as the federation engine produced them (minus internal
 * extensions, and in production minus suggestions), and anything else is masked as
 * INTERNAL_SERVER_ERROR (keeping `path` and the subgraph's name). Never throws.
 */
export function createErrorFormatter(options: ErrorFormatterOptions): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  if (!options.production) return formatGatewayError;
  return (formatted, error) => {
    const result = formatGatewayError(formatted, error);
    const message = result.message.replace(SUGGESTION, '');
    return message === result.message ? result : { ...result, message };
  };
}

function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  try {
    const original = unwrapResolverError(error);
    if (original instanceof FolioError) {
      return { ...formatted, message: original.message, extensions: errorExtensions(original) };
    }
    const limit = limitOf(formatted);
    if (limit) {
      return {
        ...formatted,
        message: formatted.message.replace(/^Syntax Error: /, '').replace(/^Document contains more th(?:an|at) (\d+) tokens\. Parsing aborted\./, 'Token limit of $1 exceeded.'),
        extensions: { ...withoutInternals(formatted.extensions), code: 'OPERATION_LIMIT_EXCEEDED', limit },
      };
    }
    const code = formatted.extensions?.code;
    if (!isClientSafeCode(code)) {
      const serviceName = formatted.extensions?.serviceName;
      return {
        message: INTERNAL_MESSAGE,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'INTERNAL_SERVER_ERROR', ...(typeof serviceName === 'string' ? { serviceName } : {}) },
      };
    }
    return { ...formatted, extensions: withoutInternals(formatted.extensions) };
  } catch {
    return { message: INTERNAL_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  }
}

function withoutInternals(extensions: GraphQLFormattedError['extensions']): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...extensions };
  for (const name of INTERNAL_EXTENSIONS) delete copy[name];
  return copy;
}
