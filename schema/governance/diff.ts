/**
 * Schema diffing for governance checks: composes subgraph SDLs into a supergraph, derives the
 * client-facing API schema, and classifies every change with @graphql-inspector/core.
 * Pure functions over SDL strings so tests run on fixtures, not on the repo's current schemas.
 */
import { composeServices } from '@apollo/composition';
import { buildSubgraph, defaultPrintOptions, printSchema as printFederationSchema } from '@apollo/federation-internals';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import type { Change } from '@graphql-inspector/core';
import { createRequire } from 'node:module';
import type { GraphQLSchema } from 'graphql';

/**
 * graphql ships CommonJS (`main`) and ESM (`module`) builds. Node, and therefore the inspector and
 * Apollo federation, load the CommonJS one; vitest would hand us the ESM one, a different realm
 * for graphql's instanceof checks. Requiring it pins the schemas we build to the same instance.
 */
const { buildSchema, parse } = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export type Severity = 'breaking' | 'dangerous' | 'safe';

export interface SchemaChange {
  /** `api` is the supergraph's client-facing schema; otherwise a subgraph name. */
  scope: string;
  severity: Severity;
  /** Schema coordinate (`Type.field`, `Type.field.arg`, `Enum.VALUE`, `Type`). */
  coordinate: string;
  type: string;
  message: string;
  /** Set for subgraph changes that do not reach clients (e.g. a field moved to another subgraph). */
  note?: string;
}

export type SubgraphSdls = Readonly<Record<string, string>>;

export type ComposeOutcome = { ok: true; supergraphSdl: string; apiSdl: string } | { ok: false; errors: string[] };

export function compose(subgraphs: SubgraphSdls): ComposeOutcome {
  const services = Object.entries(subgraphs).map(([name, sdl], index) => ({
    name,
    url: `http://127.0.0.1:${4001 + index}/graphql`,
    typeDefs: parse(sdl),
  }));
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map((e) => e.message) };
  // Printed by federation-internals itself: it is CommonJS and its graphql instance may differ from ours.
  const apiSdl = printFederationSchema(result.schema.toAPISchema());
  return { ok: true, supergraphSdl: result.supergraphSdl, apiSdl };
}

const severityOf = (change: Change): Severity => {
  switch (change.criticality.level) {
    case CriticalityLevel.Breaking:
      return 'breaking';
    case CriticalityLevel.Dangerous:
      return 'dangerous';
    default:
      return 'safe';
  }
};

async function diffSchemas(scope: string, before: GraphQLSchema, after: GraphQLSchema): Promise<SchemaChange[]> {
  const changes = await diff(before, after);
  return changes.map((c) => ({
    scope,
    severity: severityOf(c),
    coordinate: c.path ?? '(schema)',
    type: c.type,
    message: c.message,
  }));
}

/**
 * Subgraph SDLs use federation directives and link imports: federation-internals completes them
 * with their definitions, printed and rebuilt as a plain graphql-js schema for the inspector.
 * A contributor's `extend type Book` has no base type in its own subgraph: printed merged into one
 * definition, as graphql-js cannot build an extension of an unknown type.
 */
const subgraphSchema = (name: string, sdl: string): GraphQLSchema =>
  buildSchema(printFederationSchema(buildSubgraph(name, `http://${name}.invalid/graphql`, sdl).schema, { ...defaultPrintOptions, mergeTypesAndExtensions: true }), {
    assumeValidSDL: true,
  });

export async function diffApiSchemas(beforeApiSdl: string, afterApiSdl: string): Promise<SchemaChange[]> {
  return diffSchemas('api', buildSchema(beforeApiSdl), buildSchema(afterApiSdl));
}

/**
 * Diffs each subgraph and the API schema. A subgraph change that is breaking for that subgraph but
 * leaves the API schema unchanged at that coordinate (a field moved between subgraphs) is
 * downgraded to safe with a note: clients never see subgraphs, composition already vouches for it.
 */
export async function diffAll(
  published: SubgraphSdls,
  proposed: SubgraphSdls,
  publishedApiSdl: string,
  proposedApiSdl: string,
): Promise<SchemaChange[]> {
  const api = await diffApiSchemas(publishedApiSdl, proposedApiSdl);
  const apiCoordinates = new Set(api.map((c) => c.coordinate));
  const names = [...new Set([...Object.keys(published), ...Object.keys(proposed)])].sort();
  const out: SchemaChange[] = [...api];
  for (const name of names) {
    const before = published[name];
    const after = proposed[name];
    if (before === undefined || after === undefined) {
      out.push({
        scope: name,
        severity: 'safe',
        coordinate: '(subgraph)',
        type: before === undefined ? 'SUBGRAPH_ADDED' : 'SUBGRAPH_REMOVED',
        message: `Subgraph '${name}' was ${before === undefined ? 'added' : 'removed'}`,
        note: 'client impact is in the api scope',
      });
      continue;
    }
    for (const change of await diffSchemas(name, subgraphSchema(name, before), subgraphSchema(name, after))) {
      if (change.severity !== 'safe' && !apiCoordinates.has(change.coordinate)) {
        out.push({ ...change, severity: 'safe', note: `was ${change.severity} for the subgraph; the API schema is unchanged here (moved or internal)` });
      } else {
        out.push(change);
      }
    }
  }
  return out;
}
