/**
 * Composes schema/<name>.graphql into schema/supergraph.graphql with @apollo/composition, offline
 * (rover cannot download its plugins here). `--check` exits non-zero when the file is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPH_NAMES } from '../lib/config.js';

const schemaDir = new URL('./', import.meta.url);
export const SUPERGRAPH_FILE = new URL('supergraph.graphql', schemaDir);

/** Placeholder URLs: the gateway overrides them from configuration at start-up. */
export const defaultSubgraphUrl = (index: number): string => `http://127.0.0.1:${4001 + index}/graphql`;

export type ComposeResult = { ok: true; supergraphSdl: string } | { ok: false; errors: string[] };

export function composeSupergraph(): ComposeResult {
  const services = SUBGRAPH_NAMES.map((name, index) => ({
    name,
    url: defaultSubgraphUrl(index),
    typeDefs: parse(readFileSync(new URL(`${name}.graphql`, schemaDir), 'utf8')),
  }));
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map((e) => e.message) };
  return { ok: true, supergraphSdl: result.supergraphSdl };
}

async function main(): Promise<void> {
  const result = composeSupergraph();
  if (!result.ok) {
    console.error(`Composition failed:\n${result.errors.map((e) => `  - ${e}`).join('\n')}`);
    process.exit(1);
  }
  if (process.argv.includes('--check')) {
    const current = readFileSync(SUPERGRAPH_FILE, 'utf8');
    if (current !== result.supergraphSdl) {
      console.error('schema/supergraph.graphql is stale: run `npm run compose`.');
      process.exit(1);
    }
    console.log('schema/supergraph.graphql is up to date.');
    return;
  }
  writeFileSync(SUPERGRAPH_FILE, result.supergraphSdl);
  console.log(`Wrote ${SUPERGRAPH_FILE.pathname}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
