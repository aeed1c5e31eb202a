/**
 * Generates each subgraph's resolver types from its SDL (GraphQL Code Generator's `typescript` and
 * `typescript-resolvers` plugins, federation-aware) into subgraphs/<name>/generated/resolvers.ts.
 * Object types map to what the resolvers are really handed (the store's documents, mostly), so a
 * resolver's parent, arguments, context and result are all checked against the schema.
 * `--check` writes nothing and exits non-zero when a committed file differs from what the SDL gives.
 *
 * Run through @graphql-codegen/core rather than the CLI: the CLI's loaders (URL, GitHub, Apollo
 * engine) need Node 22 and add some 260 packages, for schemas we can read from disk ourselves.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codegen } from '@graphql-codegen/core';
import * as typescriptPlugin from '@graphql-codegen/typescript';
import * as resolversPlugin from '@graphql-codegen/typescript-resolvers';
import { parse } from 'graphql';
import { SUBGRAPH_NAMES, type SubgraphName } from '../lib/config.js';

interface SubgraphTypes {
  /** `Name` of the context interface in the subgraph's resolvers.ts. */
  readonly context: string;
  /** GraphQL type → `module#Type`, the module relative to the subgraph's folder. */
  readonly mappers: Readonly<Record<string, string>>;
}

/** What each subgraph's resolvers receive as the parent of each type (the rest get the SDL's own shape). */
const SUBGRAPHS: Record<SubgraphName, SubgraphTypes> = {
  accounts: {
    context: 'AccountsContext',
    mappers: {
      User: 'store.js#UserDoc',
      Session: 'store.js#SessionDoc',
      ApiKey: 'store.js#ApiKeyDoc',
      TrustedDocument: 'store.js#TrustedDocumentDoc',
    },
  },
  catalog: {
    context: 'CatalogContext',
    mappers: {
      Book: 'store.js#BookDoc',
      BookRevision: 'store.js#RevisionDoc',
      BookLicense: 'store.js#LicenseDoc',
      Chapter: 'store.js#ChapterSummary',
      Paragraph: 'resolvers.js#ParagraphNode',
      UploadJob: 'store.js#JobDoc',
      UploadJobUpdate: 'service.js#UploadJobUpdateView',
    },
  },
  ugc: {
    context: 'UgcContext',
    mappers: {
      User: 'resolvers.js#Ref',
      Book: 'resolvers.js#Ref',
      Chapter: 'resolvers.js#Ref',
      Paragraph: 'resolvers.js#Ref',
      ShelfEntry: 'service/shelf.js#ShelfEntryView',
      ReadingProgress: 'store.js#ProgressDoc',
      ReadingStats: 'service/shelf.js#ReadingStats as ReadingStatsModel',
      Highlight: 'store.js#HighlightDoc',
      Note: 'store.js#NoteDoc',
      Review: 'store.js#ReviewDoc',
      PopularHighlight: 'store.js#PassageDoc',
      RepairJob: 'store.js#RepairJobDoc',
      ReadingProgressChange: 'service/sync.js#ProgressChangeView',
      AnnotationChange: 'service/sync.js#AnnotationChangeView',
      ShelfChange: 'service/sync.js#ShelfChangeView',
      Change: 'service/sync.js#ChangeView',
      ShelfEntryChange: 'service/sync.js#ChangeView',
      ProgressChange: 'service/sync.js#ChangeView',
      HighlightChange: 'service/sync.js#ChangeView',
      NoteChange: 'service/sync.js#ChangeView',
      ReviewChange: 'service/sync.js#ChangeView',
    },
  },
  search: {
    context: 'SearchContext',
    mappers: {
      BookHit: 'service.js#BookResult',
      ParagraphHit: 'service.js#ParagraphResult',
      MyNoteHit: 'service.js#NoteResult',
      Citation: 'answer.js#Citation as CitationModel',
      Answer: 'answer.js#AnswerResult',
      BookIndexStatus: 'store.js#BookIndexDoc',
      Recommendation: 'recommendations/service.js#RecommendationItem',
      RecommendationReason: 'recommendations/service.js#RecommendationItem as RecommendationReasonModel',
    },
  },
};

const root = new URL('../', import.meta.url);

export const generatedFile = (name: SubgraphName): URL => new URL(`subgraphs/${name}/generated/resolvers.ts`, root);

export const readSubgraphSdl = (name: SubgraphName): string => readFileSync(new URL(`schema/${name}.graphql`, root), 'utf8');

/** The generated resolver types of one subgraph, as the file's text. */
export async function generateResolverTypes(name: SubgraphName, sdl = readSubgraphSdl(name)): Promise<string> {
  const { context, mappers } = SUBGRAPHS[name];
  const fromGenerated = (pointer: string): string => `../${pointer}`;
  const output = await codegen({
    filename: fileURLToPath(generatedFile(name)),
    schema: parse(sdl),
    documents: [],
    plugins: [{ typescript: {} }, { 'typescript-resolvers': {} }],
    pluginMap: { typescript: typescriptPlugin, 'typescript-resolvers': resolversPlugin },
    config: {
      federation: true,
      useTypeImports: true,
      // String unions, as the services already spell their enums ('READER' | 'EDITOR' | …).
      enumsAsTypes: true,
      immutableTypes: true,
      scalars: { DateTime: 'Date' },
      contextType: fromGenerated(`resolvers.js#${context}`),
      mappers: Object.fromEntries(Object.entries(mappers).map(([type, pointer]) => [type, fromGenerated(pointer)])),
      // ApolloServerPluginCacheControl (lib/subgraphServer.ts) puts `cacheControl` on every info.
      customResolveInfo: '@apollo/cache-control-types#GraphQLResolveInfoWithCacheControl',
    },
  });
  return `// Generated by \`npm run codegen\` from schema/${name}.graphql (schema/codegen.ts). Do not edit.\n${output}`;
}

/** The subgraphs whose committed generated file differs from what their SDL gives now. */
export async function staleGeneratedFiles(): Promise<SubgraphName[]> {
  const stale: SubgraphName[] = [];
  for (const name of SUBGRAPH_NAMES) {
    let committed: string | null = null;
    try {
      committed = readFileSync(generatedFile(name), 'utf8');
    } catch {
      // missing: stale
    }
    if (committed !== (await generateResolverTypes(name))) stale.push(name);
  }
  return stale;
}

async function main(): Promise<void> {
  if (process.argv.includes('--check')) {
    const stale = await staleGeneratedFiles();
    if (stale.length > 0) {
      console.error(`Generated resolver types are stale for ${stale.join(', ')}: run \`npm run codegen\`.`);
      process.exit(1);
    }
    console.log('Generated resolver types are up to date.');
    return;
  }
  for (const name of SUBGRAPH_NAMES) {
    const file = generatedFile(name);
    mkdirSync(new URL('./', file), { recursive: true });
    writeFileSync(file, await generateResolverTypes(name));
    console.log(`Wrote ${fileURLToPath(file)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
