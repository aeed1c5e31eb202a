/**
 * Validation cost of the worst documents a client can send within the gateway's limits (tokens,
 * body bytes, depth, aliases, directives, cost, field count), on Folio's API schema, through the
 * gateway's own validation (gateway/plugins/operationLimits.ts: the field-count pre-check, the
 * standard rules with the linear fieldsCanMerge rule, graphql-armor's rules). Each shape is grown
 * to the largest size the limits still let through (or, for the issue's 740 × `{ me { id } }`,
 * taken as sent) and validated on a fresh parse every time (no document cache). "graphql-js" is
 * the same with graphql-js's stock OverlappingFieldsCanBeMergedRule, i.e. the gateway before the
 * fix (run once or twice: it can take seconds). Writes bench/results/validation-<time>.{json,md}.
 *
 *   npm run bench:validation      (BENCH_ITERATIONS=40)
 *
 * Times are wall-clock and CPU (process.cpuUsage) per validation; on a shared, loaded machine
 * the CPU figure is the steadier one. The goal is ≤ 20 ms worst case per document.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import { type GraphQLError, Lexer, OverlappingFieldsCanBeMergedRule, Source, TokenKind, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { testConfig } from '../lib/config.js';
import { operationLimits, type OperationLimits } from '../gateway/plugins/operationLimits.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

export interface Shape {
  readonly name: string;
  /** Builds the document for size n; the bench picks the largest n the limits let through. */
  readonly build: (n: number) => string;
  /** A fixed size (the issue's document) instead of the largest accepted one. */
  readonly fixed?: number;
}

const repeat = (n: number, f: (i: number) => string, sep = ' '): string => Array.from({ length: n }, (_, i) => f(i)).join(sep);

// A binary tree of same-named fields (book → reviews → edges → node → book …): every pair of siblings
// must be merged, and graphql-js compares the pairs' sub-trees pairwise, level by level.
function binaryTree(depth: number): string {
  const cycle = ['reviews', 'edges', 'node', 'book'];
  const level = (d: number): string => {
    if (d === depth) return 'id';
    const name = cycle[d % cycle.length]!;
    const inner = level(d + 1);
    return `${name} { ${inner} } ${name} { ${inner} }`;
  };
  return `{ book(id: "b1") { ${level(0)} } }`;
}

// Fragments that each spread the next twice under two parents: an exponential expansion if
// fragments are re-checked at every spread site.
function fragmentFanOut(n: number): string {
  const defs = repeat(n, (i) => (i + 1 < n ? `fragment F${i} on Book { id reviews { edges { node { book { ...F${i + 1} } } } } rating { average } reviews { edges { node { book { ...F${i + 1} } } } } }` : `fragment F${i} on Book { id title }`), '\n');
  return `{ book(id: "b1") { ...F0 } }\n${defs}`;
}

export const SHAPES: readonly Shape[] = [
  { name: 'issue: 740 × `me { id }` (refused: fields)', build: (n) => `{ ${repeat(n, () => 'me { id }')} }`, fixed: 740 },
  { name: 'repeated identical fields `me { id }`', build: (n) => `{ ${repeat(n, () => 'me { id }')} }` },
  { name: 'repeated identical leaf `__typename`', build: (n) => `{ me { ${repeat(n, () => '__typename')} } }` },
  { name: 'same name, differing sub-selections', build: (n) => `{ ${repeat(n, (i) => `me { ${['id', 'username', 'bio', 'vid'][i % 4]} }`)} }` },
  { name: 'binary tree of same-named fields', build: (n) => binaryTree(n) },
  { name: 'many fragments, all spread together', build: (n) => `{ ${repeat(n, (i) => `...F${i}`)} }\n${repeat(n, (i) => `fragment F${i} on Query { me { id } }`, '\n')}` },
  { name: 'many fragment spreads of one fragment', build: (n) => `{ me { ${repeat(n, () => '...U')} } } fragment U on User { id username }` },
  { name: 'fragment fan-out (each spread twice)', build: (n) => fragmentFanOut(n) },
  { name: 'nested fragment chain', build: (n) => `{ me { ...F0 } }\n${repeat(n, (i) => (i + 1 < n ? `fragment F${i} on User { id ...F${i + 1} }` : `fragment F${i} on User { id }`), '\n')}` },
  { name: 'wide: many distinct fields', build: (n) => `{ me { ${repeat(n, (i) => ['id', 'vid', 'username', 'displayName', 'bio', 'avatarUrl', 'createdAt', 'shelfCount'][i % 8]!)} } }` },
  { name: 'deep: nested selections', build: (n) => `{ book(id: "b1") { ${'reviews { edges { node { book { '.repeat(n)}id${' } } } }'.repeat(n)} } }` },
  { name: 'many aliases', build: (n) => `{ ${repeat(n, (i) => `a${i}: me { id }`)} }` },
  { name: 'many operations', build: (n) => repeat(n, (i) => `query Q${i} { me { id } }`, '\n') },
  { name: 'many operations × one big fragment', build: (n) => `${repeat(n, (i) => `query Q${i} { me { ...U } }`, '\n')}\nfragment U on User { ${repeat(200, (i) => ['id', 'vid', 'username', 'bio'][i % 4]!)} }` },
  { name: 'many variables (unused)', build: (n) => `query (${repeat(n, (i) => `$v${i}: Int`)}) { me { id } }` },
  { name: 'many variables (used)', build: (n) => `query (${repeat(n, (i) => `$v${i}: ID!`)}) { ${repeat(n, (i) => `a${i % 30}: user(id: $v${i}) { id }`)} }` },
  { name: 'many directives', build: (n) => `{ me { ${repeat(n, () => 'id @include(if: true)')} } }` },
  { name: 'many arguments (duplicates)', build: (n) => `{ book(${repeat(n, () => 'id: "b1"')}) { id } }` },
  { name: 'deeply nested list argument', build: (n) => `{ book(id: ${'['.repeat(n)}"b1"${']'.repeat(n)}) { id } }` },
  { name: 'long string argument (1 MiB body)', build: (n) => `{ book(id: "${'x'.repeat(n)}") { id } }` },
  { name: 'long block string argument', build: (n) => `{ book(id: """${'y'.repeat(n)}""") { id } }` },
];

export interface ShapeResult {
  readonly shape: string;
  readonly n: number;
  readonly bytes: number;
  readonly tokens: number;
  readonly accepted: boolean;
  readonly verdict: string;
  readonly parseMs: number;
  readonly validate: { readonly wallP50: number; readonly wallMax: number; readonly cpuP50: number; readonly cpuMax: number };
  /** graphql-js's stock rule set on the same document (the gateway before the fix); undefined when skipped. */
  readonly stockMs: number | undefined;
}

export interface BenchLimits {
  readonly maxTokens: number;
  readonly maxBodyBytes: number;
}

/** Folio's API schema (what the gateway validates against) from the checked-in supergraph. */
export function apiSchema(): GraphQLSchema {
  const sdl = readFileSync(path.join(ROOT, 'schema', 'supergraph.graphql'), 'utf8');
  return Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();
}

function tokensOf(source: string): number {
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  while (lexer.advance().kind !== TokenKind.EOF) tokens += 1;
  return tokens;
}

const requestBytes = (query: string): number => Buffer.byteLength(JSON.stringify({ query }));

function limitOf(errors: readonly GraphQLError[]): string | undefined {
  for (const e of errors) {
    const limit = (e.extensions as { limit?: unknown }).limit;
    if (typeof limit === 'string') return limit;
    if (/^Syntax Error: .* limit of \d+ exceeded/.test(e.message)) return e.message.replace(/^Syntax Error: /, '').slice(0, 40);
  }
  return undefined;
}

/** Whether the gateway's limits let the document through to execution-time checks (other validation errors allowed). */
function withinLimits(schema: GraphQLSchema, limits: OperationLimits, source: string, bench: BenchLimits): boolean {
  if (requestBytes(source) > bench.maxBodyBytes) return false;
  let document: DocumentNode;
  try {
    document = parse(source, { maxTokens: bench.maxTokens });
  } catch {
    return false;
  }
  return limitOf(limits.validateDocument(schema, document)) === undefined;
}

function largestAccepted(schema: GraphQLSchema, limits: OperationLimits, shape: Shape, bench: BenchLimits): number {
  if (shape.fixed !== undefined) return shape.fixed;
  let lo = 1;
  let hi = 2;
  while (hi < 1 << 21 && withinLimits(schema, limits, shape.build(hi), bench)) {
    lo = hi;
    hi *= 2;
  }
  while (lo + 1 < hi) {
    const mid = (lo + hi) >> 1;
    if (withinLimits(schema, limits, shape.build(mid), bench)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export interface ValidationBenchOptions {
  readonly iterations?: number;
  /** Also time graphql-js's stock rules (the quadratic one), once per shape. @default true */
  readonly stock?: boolean;
  readonly shapes?: readonly Shape[];
  readonly log?: (line: string) => void;
}

export function measureShapes(options: ValidationBenchOptions = {}): ShapeResult[] {
  const config = testConfig();
  const settings = config.gateway;
  const bench: BenchLimits = { maxTokens: settings.maxTokens, maxBodyBytes: settings.maxBodyBytes };
  const limits = operationLimits({ maxDepth: settings.maxDepth, maxCost: settings.maxCost, maxAliases: settings.maxAliases, maxTokens: settings.maxTokens, maxFields: settings.maxFields });
  const stockRules = [...limits.validationRules.filter((rule) => rule.name !== 'FieldsCanMergeRule'), OverlappingFieldsCanBeMergedRule];
  const schema = apiSchema();
  const iterations = options.iterations ?? 40;
  const results: ShapeResult[] = [];
  for (const shape of options.shapes ?? SHAPES) {
    const n = largestAccepted(schema, limits, shape, bench);
    const source = shape.build(n);
    const wall: number[] = [];
    const cpu: number[] = [];
    let parseMs = Infinity;
    let errors: readonly GraphQLError[] = [];
    for (let i = 0; i < iterations; i++) {
      const p0 = performance.now();
      let document: DocumentNode;
      try {
        document = parse(source, { maxTokens: bench.maxTokens });
      } catch (error) {
        errors = [error as GraphQLError];
        break;
      }
      parseMs = Math.min(parseMs, performance.now() - p0);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      errors = limits.validateDocument(schema, document);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    wall.sort((a, b) => a - b);
    cpu.sort((a, b) => a - b);
    let stockMs: number | undefined;
    if (options.stock !== false && wall.length > 0) {
      // The gateway before the fix: graphql-js's rules as Apollo runs them, quadratic rule included.
      const document = parse(source);
      const t0 = performance.now();
      validate(schema, document, stockRules);
      stockMs = performance.now() - t0;
    }
    const limit = limitOf(errors);
    const result: ShapeResult = {
      shape: shape.name,
      n,
      bytes: requestBytes(source),
      tokens: tokensOf(source),
      accepted: limit === undefined && errors.every((e) => e.extensions.code !== 'GRAPHQL_PARSE_FAILED'),
      verdict: limit ? `refused (${limit})` : errors.length > 0 ? `invalid: ${errors[0]!.message.slice(0, 50)}` : 'valid',
      parseMs: Number.isFinite(parseMs) ? parseMs : 0,
      validate: {
        wallP50: wall.length ? percentile(wall, 0.5) : 0,
        wallMax: wall.length ? wall.at(-1)! : 0,
        cpuP50: cpu.length ? percentile(cpu, 0.5) : 0,
        cpuMax: cpu.length ? cpu.at(-1)! : 0,
      },
      stockMs,
    };
    options.log?.(`${shape.name}: n=${n} ${result.tokens} tokens, validate p50 ${result.validate.wallP50.toFixed(2)} ms (cpu ${result.validate.cpuP50.toFixed(2)}), max ${result.validate.wallMax.toFixed(2)} ms; stock ${stockMs?.toFixed(1) ?? '-'} ms`);
    results.push(result);
  }
  return results;
}

const f = (ms: number): string => ms.toFixed(2);

export function markdown(results: readonly ShapeResult[], meta: { readonly loadavg: string; readonly iterations: number; readonly when: string }): string {
  const lines = [
    `# Validation cost of worst-case documents (${meta.when})`,
    '',
    `Gateway validation (field-count pre-check, graphql-js standard rules with the linear fields-can-merge rule, graphql-armor) on Folio's API schema; ${meta.iterations} runs per shape, each on a fresh parse. "stock graphql-js" = the same with graphql-js's OverlappingFieldsCanBeMergedRule (the gateway before the fix), one run. Load average at the end: ${meta.loadavg} (2 shared cores): wall times include waiting for a core, CPU times do not.`,
    '',
    '| shape | n | bytes | tokens | verdict | parse ms | validate ms p50 | validate ms max | CPU ms p50 | CPU ms max | stock graphql-js ms |',
    '| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.shape} | ${r.n} | ${r.bytes} | ${r.tokens} | ${r.verdict.replace(/\|/g, '\\|')} | ${f(r.parseMs)} | ${f(r.validate.wallP50)} | ${f(r.validate.wallMax)} | ${f(r.validate.cpuP50)} | ${f(r.validate.cpuMax)} | ${r.stockMs === undefined ? '–' : r.stockMs.toFixed(1)} |`,
    ),
    '',
    `Worst validate p50: ${f(Math.max(...results.map((r) => r.validate.wallP50)))} ms wall, ${f(Math.max(...results.map((r) => r.validate.cpuP50)))} ms CPU; worst max: ${f(Math.max(...results.map((r) => r.validate.wallMax)))} ms wall, ${f(Math.max(...results.map((r) => r.validate.cpuMax)))} ms CPU (goal ≤ 20 ms).`,
  ];
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const iterations = Number(process.env.BENCH_ITERATIONS ?? 40);
  const results = measureShapes({ iterations, log: (line) => console.log(line) });
  const when = new Date().toISOString();
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const outDir = path.join(HERE, 'results');
  mkdirSync(outDir, { recursive: true });
  const stamp = when.replace(/[:.]/g, '-');
  writeFileSync(path.join(outDir, `validation-${stamp}.json`), `${JSON.stringify({ when, loadavg, iterations, results }, null, 2)}\n`);
  writeFileSync(path.join(outDir, `validation-${stamp}.md`), markdown(results, { loadavg, iterations, when }));
  const worst = Math.max(...results.map((r) => r.validate.cpuP50));
  console.log(`\nworst CPU p50 ${worst.toFixed(2)} ms (goal ≤ 20 ms): ${worst <= 20 ? 'met' : 'NOT met'}; bench/results/validation-${stamp}.md`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
