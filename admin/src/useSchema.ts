/**
 * The schema, read once per token by introspection and shared by every page (each page used to
 * read its own). A failed read is forgotten so that the next page can try again.
 */
import { useEffect, useState } from 'react';
import type { GraphQLSchema } from 'graphql';
import { ApiError } from './api.js';
import { loadSchema } from './schema.js';

let cached: { token: string; schema: Promise<GraphQLSchema> } | null = null;

function schemaFor(token: string): Promise<GraphQLSchema> {
  if (cached?.token !== token) {
    const schema = loadSchema(token);
    cached = { token, schema };
    schema.catch(() => {
      if (cached?.schema === schema) cached = null;
    });
  }
  return cached.schema;
}

export function useSchema(token: string): { schema: GraphQLSchema | null; error: string | null } {
  const [state, setState] = useState<{ schema: GraphQLSchema | null; error: string | null }>({ schema: null, error: null });
  useEffect(() => {
    let live = true;
    schemaFor(token).then(
      (schema) => live && setState({ schema, error: null }),
      (e: unknown) => live && setState({ schema: null, error: e instanceof ApiError ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [token]);
  return state;
}
