import { describe, expect, it } from 'vitest';
import { errorExtensions, FolioError, isClientErrorCode, isClientSafeCode } from './errors.js';

describe('the error catalogue', () => {
  it('is the one list of client-safe codes: unknown and internal codes are not', () => {
    expect(['BAD_USER_INPUT', 'GRAPHQL_PARSE_FAILED', 'OPERATION_RESOLUTION_FAILURE', 'SERVICE_UNAVAILABLE'].every(isClientSafeCode)).toBe(true);
    expect(['INTERNAL_SERVER_ERROR', 'DOWNSTREAM_SERVICE_ERROR', 'INVALID_GRAPHQL', undefined, 42].some(isClientSafeCode)).toBe(false);
  });

  it('tells the client’s errors (4xx, APQ) from the server’s', () => {
    expect(['BAD_REQUEST', 'RATE_LIMITED', 'PERSISTED_QUERY_NOT_FOUND'].every(isClientErrorCode)).toBe(true);
    expect(['SERVICE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'].some(isClientErrorCode)).toBe(false);
  });

  it('never lets details replace the code, or carry Apollo\'s http (status) field', () => {
    const error = new FolioError('RATE_LIMITED', undefined, { details: { code: 'INTERNAL_SERVER_ERROR', http: { status: 200 }, retryAfterSeconds: 3 } });
    expect(errorExtensions(error)).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 3 });
  });
});
