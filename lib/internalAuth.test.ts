import { describe, expect, it } from 'vitest';
import { INTERNAL_MAX_SKEW_MS, signInternalRequest, verifyInternalRequest } from './internalAuth.js';

const secret = 'internal-secret-internal-secret-internal';

describe('internal request signatures', () => {
  it('verifies what it signed', () => {
    const headers = signInternalRequest(secret, 'POST', '/internal/auth/resolve', '{"token":"t"}');
    expect(verifyInternalRequest(secret, headers, 'POST', '/internal/auth/resolve', '{"token":"t"}')).toBe(true);
  });

  it('binds method, path, query and body', () => {
    const headers = signInternalRequest(secret, 'GET', '/internal/events?after=1', '');
    expect(verifyInternalRequest(secret, headers, 'GET', '/internal/events?after=0', '')).toBe(false);
    expect(verifyInternalRequest(secret, headers, 'POST', '/internal/events?after=1', '')).toBe(false);
    expect(verifyInternalRequest(secret, headers, 'GET', '/internal/events?after=1', 'x')).toBe(false);
  });

  it('refuses replays outside the allowed clock skew, and unsigned requests', () => {
    const old = signInternalRequest(secret, 'GET', '/x', '', Date.now() - INTERNAL_MAX_SKEW_MS - 1_000);
    expect(verifyInternalRequest(secret, old, 'GET', '/x', '')).toBe(false);
    expect(verifyInternalRequest(secret, {}, 'GET', '/x', '')).toBe(false);
  });
});
