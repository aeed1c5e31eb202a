/**
 * The ceiling a Folio subgraph is measured against in `npm run bench:gateway`: a bare
 * `@apollo/subgraph` + `@apollo/server` (standalone, its defaults) serving a flat `books(first)`
 * list of the same shape as catalog's (`BookConnection { edges { node { id title } } }`) from an
 * array in memory: no identity check, no store, no policy, no loaders, no logging, no metrics.
 *
 *   node --import tsx bench/gateway/bareSubgraph.ts <port>     (prints READY)
 *
 * The platform's own copies of @apollo/server, @apollo/subgraph and graphql (the versions Folio's
 * subgraphs run), not bench/gateway's: loaded through the root package.json.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const platform = createRequire(path.join(ROOT, 'package.json'));
const { ApolloServer } = platform('@apollo/server') as typeof import('@apollo/server');
const { startStandaloneServer } = platform('@apollo/server/standalone') as typeof import('@apollo/server/standalone');
const { buildSubgraphSchema } = platform('@apollo/subgraph') as typeof import('@apollo/subgraph');
const { parse } = platform('graphql') as typeof import('graphql');

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Book @key(fields: "id") { id: ID! title: String! }
  type BookEdge { cursor: String! node: Book! }
  type BookConnection { edges: [BookEdge!]! totalCount: Int! }
  type Query { books(first: Int = 20, after: String): BookConnection }
`);

// The demo library's size: six books, as catalog answers the benchmark's query.
const BOOKS = ['Alice', 'Bleak House', 'Emma', 'Middlemarch', 'Persuasion', 'Walden'].map((title, i) => ({ id: `book-${i + 1}`, title }));

interface BooksArgs {
  readonly first?: number | null;
}

const resolvers = {
  Query: {
    books: (_: unknown, { first }: BooksArgs) => {
      const page = BOOKS.slice(0, Math.max(0, Math.min(first ?? 20, 100)));
      return { edges: page.map((node) => ({ cursor: node.id, node })), totalCount: BOOKS.length };
    },
  },
  Book: { __resolveReference: (ref: { id: string }) => BOOKS.find((b) => b.id === ref.id) ?? null },
};

export async function startBareSubgraph(port: number): Promise<string> {
  const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs, resolvers } as Parameters<typeof buildSubgraphSchema>[0]) });
  const { url } = await startStandaloneServer(server, { listen: { port, host: '127.0.0.1' } });
  return url;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await startBareSubgraph(Number(process.argv[2] ?? 4345));
  console.log('READY');
}
