import { readFileSync } from 'node:fs';
import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ANONYMOUS } from './identity.js';
import { assertPartnerScopes, isPartnerScope, ROOT_FIELD_SCOPES, scopesNeeded } from './scopes.js';

const supergraph = parse(readFileSync(new URL('../schema/supergraph.graphql', import.meta.url), 'utf8'));
const partner = { ...ANONYMOUS, partnerId: 'k1', scopes: ['catalog:read'] };

describe('partner scopes', () => {
  it('has exactly one entry for every root field of the supergraph', () => {
    for (const type of ['Query', 'Mutation'] as const) {
      const definition = supergraph.definitions.find((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === type);
      const fields = (definition?.fields ?? []).map((f) => f.name.value).sort();
      expect(Object.keys(ROOT_FIELD_SCOPES[type]).sort(), type).toEqual(fields);
    }
    for (const scope of Object.values(ROOT_FIELD_SCOPES.Query)) if (scope) expect(isPartnerScope(scope)).toBe(true);
  });

  it("collects an operation's root fields through fragments, and every operation when none is named", () => {
    const document = parse(`
      query A { ...Root __typename }
      fragment Root on Query { books { totalCount } ... on Query { search(query: "x") { books { totalCount } } } }
      mutation B { register(input: { username: "u", password: "p", displayName: "d" }) { token } }
    `);
    expect(scopesNeeded(document, 'A')).toEqual({ scopes: ['catalog:read', 'search:read'], unavailable: [] });
    expect(scopesNeeded(document, 'B')).toEqual({ scopes: [], unavailable: ['Mutation.register'] });
    expect(scopesNeeded(document)).toEqual({ scopes: ['catalog:read', 'search:read'], unavailable: ['Mutation.register'] });
    expect(scopesNeeded(document, 'Unknown')).toEqual(scopesNeeded(document));
    // Introspection and fields missing from the table are refused to partners (fail closed).
    expect(scopesNeeded(parse('{ __schema { types { name } } notInTheTable }')).unavailable).toEqual(['Query.__schema', 'Query.notInTheTable']);
  });

  it('refuses a partner missing a scope or using a field no key can have; others pass', () => {
    const books = scopesNeeded(parse('{ books { totalCount } }'));
    const search = scopesNeeded(parse('{ search(query: "x") { books { totalCount } } }'));
    const register = scopesNeeded(parse('mutation { register(input: { username: "u", password: "p", displayName: "d" }) { token } }'));
    expect(() => assertPartnerScopes(partner, books)).not.toThrow();
    expect(() => assertPartnerScopes(partner, search)).toThrow(expect.objectContaining({ code: 'FORBIDDEN', details: { missingScopes: ['search:read'] } }));
    expect(() => assertPartnerScopes({ ...partner, scopes: ['catalog:read', 'search:read', 'notes:read', 'profiles:read'] }, register)).toThrow(
      expect.objectContaining({ code: 'FORBIDDEN', details: { unavailable: ['Mutation.register'] } }),
    );
    expect(() => assertPartnerScopes(ANONYMOUS, register)).not.toThrow();
  });
});
