/**
 * Private to the gateway: which supergraph to serve and where its subgraphs live.
 * - Folio's own (`schema/supergraph.graphql`): subgraph URLs come from the configured ports.
 * - Any supergraph file (`FOLIO_SUPERGRAPH_PATH`) or SDL string: URLs from the file.
 * Explicit `subgraphUrls` override both (tests, operators).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FolioConfig } from '../lib/config.js';

export interface SubgraphEndpoint {
  readonly name: string;
  readonly url: string;
}

export interface Supergraph {
  readonly sdl: string;
  readonly subgraphs: readonly SubgraphEndpoint[];
}

export interface SupergraphSourceOptions {
  readonly supergraphSdl?: string;
  readonly subgraphUrls?: Partial<Record<string, string>>;
}

export const FOLIO_SUPERGRAPH_PATH = fileURLToPath(new URL('../schema/supergraph.graphql', import.meta.url));

// `ACCOUNTS @join__graph(name: "accounts", url: "http://…")`, as composition prints it.
const JOIN_GRAPH = /@join__graph\(\s*name:\s*"([^"]+)"\s*,?\s*url:\s*"([^"]*)"\s*\)/g;

export function subgraphsOf(sdl: string): SubgraphEndpoint[] {
  return [...sdl.matchAll(JOIN_GRAPH)].map((m) => ({ name: m[1]!, url: m[2]! }));
}

export function loadSupergraph(config: FolioConfig, options: SupergraphSourceOptions = {}): Supergraph {
  const own = options.supergraphSdl === undefined && config.supergraphPath === undefined;
  const sdl = options.supergraphSdl ?? readFileSync(config.supergraphPath ?? FOLIO_SUPERGRAPH_PATH, 'utf8');
  const ports = config.subgraphPorts as Readonly<Record<string, number>>;
  const subgraphs = subgraphsOf(sdl).map(({ name, url }) => {
    const override = options.subgraphUrls?.[name];
    if (override) return { name, url: override };
    if (own && Object.hasOwn(ports, name)) return { name, url: `http://${config.host}:${ports[name]}/graphql` };
    return { name, url };
  });
  if (subgraphs.length === 0) throw new Error('The supergraph declares no subgraphs (no @join__graph found).');
  return { sdl, subgraphs };
}

/** Base URL of accounts' internal endpoints: the accounts subgraph URL without its /graphql path. */
export function accountsBaseUrl(subgraphs: readonly SubgraphEndpoint[]): string | undefined {
  return subgraphBaseUrl(subgraphs, 'accounts');
}

/** Base URL of a subgraph's internal endpoints (its event feed, say): its URL without the /graphql path. */
export function subgraphBaseUrl(subgraphs: readonly SubgraphEndpoint[], name: string): string | undefined {
  const subgraph = subgraphs.find((s) => s.name === name);
  if (!subgraph) return undefined;
  const url = new URL(subgraph.url);
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '/');
  url.search = '';
  return url.toString();
}
