/**
 * Top self-time items of a V8 CPU profile (node --cpu-prof), as the README's tables list them.
 *
 *   npx tsx bench/gateway/profileTop.ts <file.cpuprofile> [count=25] [--by=function|file]
 *
 * Self time per function (name + file:line), or per file/package with --by=file; percentages of
 * the profile's non-idle samples ("(idle)" and "(program)" are reported apart).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, countArg, ...rest] = process.argv.slice(2);
if (!file) throw new Error('usage: profileTop.ts <file.cpuprofile> [count] [--by=file]');
const byFile = rest.includes('--by=file') || countArg === '--by=file';
const count = Number(countArg && !countArg.startsWith('--') ? countArg : 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) return url.slice(modules + 'node_modules/'.length);
  const root = url.indexOf('/wt-');
  return root >= 0 ? url.slice(url.indexOf('/', root + 1) + 1) : url.replace(/^file:\/\//, '');
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  if (!url) return functionName || '(anonymous)';
  if (byFile) {
    const short = shortUrl(url);
    const pkg = short.match(/^(@[^/]+\/[^/]+|[^/]+)\//);
    return url.includes('node_modules/') && pkg ? pkg[1]! : short;
  }
  return `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
}

const self = new Map<string, number>();
let total = 0;
let idle = 0;
for (let i = 0; i < profile.samples.length; i += 1) {
  const node = byId.get(profile.samples[i]!)!;
  const dt = profile.timeDeltas[i] ?? 0;
  const name = node.callFrame.functionName;
  if (name === '(idle)') {
    idle += dt;
    continue;
  }
  total += dt;
  const key = keyOf(node);
  self.set(key, (self.get(key) ?? 0) + dt);
}
console.log(`busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`);
for (const [key, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, count)) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${key}`);
}

// --callers=<name>: for functions whose name is <name>, their self time by calling chain (4 frames up).
const callersArg = process.argv.find((a) => a.startsWith('--callers='));
if (callersArg) {
  const wanted = callersArg.slice('--callers='.length);
  const parent = new Map<number, number>();
  for (const node of profile.nodes as ReadonlyArray<ProfileNode & { children?: number[] }>) for (const child of node.children ?? []) parent.set(child, node.id);
  const chains = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]!)!;
    if (node.callFrame.functionName !== wanted) continue;
    const chain: string[] = [];
    for (let id = parent.get(node.id), depth = 0; id !== undefined && depth < 6; id = parent.get(id), depth += 1) chain.push(keyOf(byId.get(id)!));
    const key = chain.join(' < ');
    chains.set(key, (chains.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  console.log(`\ncallers of ${wanted}:`);
  for (const [key, us] of [...chains.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`${(us / 1e3).toFixed(0).padStart(7)} ms  ${key}`);
}
