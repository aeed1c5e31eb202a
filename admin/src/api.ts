/** The console's one way to the API: a JSON POST to the gateway's /graphql, same origin. */

export interface GraphQLErrorBody {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly extensions?: { readonly code?: string } & Record<string, unknown>;
}

export interface GraphQLResult<T> {
  readonly data?: T | null;
  readonly errors?: readonly GraphQLErrorBody[];
}

/** Raised when the answer carries errors and no usable data; the messages are the server's own. */
export class ApiError extends Error {
  constructor(readonly errors: readonly GraphQLErrorBody[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'ApiError';
  }
  get codes(): string[] {
    return this.errors.map((e) => e.extensions?.code ?? 'UNKNOWN');
  }
}

export async function request<T>(query: string, variables: Record<string, unknown>, token: string | null): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body: GraphQLResult<T>;
  try {
    body = (await response.json()) as GraphQLResult<T>;
  } catch {
    throw new ApiError([{ message: `The gateway answered HTTP ${response.status} without a GraphQL body.` }]);
  }
  if (body.errors?.length) throw new ApiError(body.errors);
  if (body.data == null) throw new ApiError([{ message: `The gateway answered HTTP ${response.status} with no data.` }]);
  return body.data;
}
