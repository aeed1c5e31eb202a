/** Errors a subgraph raises before execution (4xx with GraphQL errors) reach the client with their codes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser } from './kit/accounts.js';
import { errorCodes, graphql, startTestPlatform, type TestPlatform } from './kit/platform.js';

let platform: TestPlatform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => platform?.stop());

const PROGRESS = `mutation($t: DateTime!) { updateProgress(bookId: "b1", input: { offset: 0, percent: 1, clientTime: $t, deviceId: "d" }) { applied } }`;

describe('subgraph request errors through the gateway', () => {
  it('passes on BAD_USER_INPUT for a variable the subgraph scalar rejects, instead of an internal error', async () => {
    const user = await registerUser(platform.gateway);
    const result = await graphql(platform.gateway, PROGRESS, { t: 'yesterday' }, { token: user.token });
    expect(errorCodes(result)).toEqual(['BAD_USER_INPUT']);
    expect(result.errors![0]!.message).toMatch(/DateTime/);
    expect(JSON.stringify(result)).not.toMatch(/stack|127\.0\.0\.1|INTERNAL/);
  });

  it('reports an invalid inline literal as a validation error naming the scalar', async () => {
    const user = await registerUser(platform.gateway);
    const literal = `mutation { updateProgress(bookId: "b1", input: { offset: 0, percent: 1, clientTime: "not a date", deviceId: "d" }) { applied } }`;
    const result = await graphql(platform.gateway, literal, {}, { token: user.token });
    // The subgraph validates the literal against its scalar: a validation error, with its message.
    expect(errorCodes(result)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(result.errors![0]!.message).toMatch(/DateTime/);
  });
});
