/** Factories for users and sessions through the gateway. */
import { randomBytes } from 'node:crypto';
import { mustQuery } from './platform.js';

export interface TestUser {
  readonly id: string;
  readonly vid: number;
  readonly username: string;
  readonly password: string;
  readonly token: string;
}

export const REGISTER = /* GraphQL */ `
  mutation Register($input: RegisterInput!) {
    register(input: $input) { token expiresAt user { id vid username displayName } }
  }
`;

export const LOGIN = /* GraphQL */ `
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) { token user { id vid username roles } }
  }
`;

export async function registerUser(gateway: string, overrides: Partial<{ username: string; password: string; displayName: string }> = {}): Promise<TestUser> {
  const username = overrides.username ?? `reader_${randomBytes(4).toString('hex')}`;
  const password = overrides.password ?? `pw-${randomBytes(8).toString('hex')}`;
  const data = await mustQuery<{ register: { token: string; user: { id: string; vid: number; username: string } } }>(gateway, REGISTER, {
    input: { username, password, displayName: overrides.displayName ?? username },
  });
  return { id: data.register.user.id, vid: data.register.user.vid, username: data.register.user.username, password, token: data.register.token };
}

export async function login(gateway: string, username: string, password: string): Promise<string> {
  const data = await mustQuery<{ login: { token: string } }>(gateway, LOGIN, { username, password });
  return data.login.token;
}

/** Signs in as the admin the test platform creates from FOLIO_ADMIN_*. */
export const loginAdmin = (gateway: string): Promise<string> => login(gateway, 'admin', 'admin-password-for-tests');

/** Creates a user and gives it the EDITOR role. */
export async function registerEditor(gateway: string): Promise<TestUser> {
  const user = await registerUser(gateway);
  const adminToken = await loginAdmin(gateway);
  await mustQuery(gateway, `mutation($id: ID!) { setUserRoles(userId: $id, roles: [READER, EDITOR]) { id } }`, { id: user.id }, { token: adminToken });
  // Roles are read at token resolution; sign in again so the gateway's short cache cannot hold the old roles.
  return { ...user, token: await login(gateway, user.username, user.password) };
}
