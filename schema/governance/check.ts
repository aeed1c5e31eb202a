/**
 * The schema check: composes the proposed subgraphs, diffs them and the API schema against the
 * published snapshot, runs the known operations against the proposal and decides, per breaking
 * API change, whether it blocks. Pure over its inputs; schema/check.ts wires files and stores.
 */
import { compose, diffAll } from './diff.js';
import type { SchemaChange, SubgraphSdls } from './diff.js';
import { argumentsCarrying, checkOperations, touches } from './operations.js';
import type { KnownOperation, OperationVerdict } from './operations.js';

export interface Approval {
  coordinate: string;
  reason: string;
}

/** Requests per coordinate seen in the usage window; absent when no usage data is available. */
export interface UsageEvidence {
  windowDays: number;
  /** Days the recorded data reaches back (recording began, or the retention): less than windowDays proves less. */
  coveredDays: number;
  requests(coordinate: string): { requests: number; clients: string[] };
}

export type Decision =
  | { kind: 'approved'; reason: string }
  | { kind: 'breaks-operations'; operations: OperationVerdict[] }
  | { kind: 'unused'; evidence: string }
  | { kind: 'in-use'; evidence: string }
  | { kind: 'short-evidence'; evidence: string }
  | { kind: 'no-evidence' };

export interface DecidedChange extends SchemaChange {
  decision?: Decision;
}

export interface CheckInput {
  published: SubgraphSdls;
  proposed: SubgraphSdls;
  approvals?: readonly Approval[];
  operations?: readonly KnownOperation[];
  usage?: UsageEvidence | undefined;
}

export type CheckReport =
  | { ok: false; compositionErrors: string[]; changes: []; brokenOperations: [] }
  | { ok: boolean; compositionErrors: []; changes: DecidedChange[]; brokenOperations: OperationVerdict[] };

export async function runCheck(input: CheckInput): Promise<CheckReport> {
  const proposed = compose(input.proposed);
  if (!proposed.ok) return { ok: false, compositionErrors: proposed.errors, changes: [], brokenOperations: [] };
  const published = compose(input.published);
  if (!published.ok) throw new Error(`the published schema does not compose: ${published.errors.join('; ')}`);

  const changes = await diffAll(input.published, input.proposed, published.apiSdl, proposed.apiSdl);
  const verdicts = checkOperations(published.apiSdl, proposed.apiSdl, input.operations ?? []);
  const brokenOperations = verdicts.filter((v) => v.errors.length > 0 && v.validBefore);
  const approvals = new Map((input.approvals ?? []).map((a) => [a.coordinate, a.reason]));

  const usage = input.usage && inputAware(input.usage, argumentsCarrying(published.apiSdl));
  let ok = true;
  const decided: DecidedChange[] = changes.map((change) => {
    if (change.scope !== 'api' || change.severity !== 'breaking') return change;
    const decision = decide(change, approvals, brokenOperations, usage);
    if (decision.kind !== 'approved' && decision.kind !== 'unused') ok = false;
    return { ...change, decision };
  });
  // A document can break through a change the diff rates safe or dangerous: it still blocks.
  const explained = new Set(decided.flatMap((c) => (c.decision?.kind === 'breaks-operations' ? c.decision.operations : [])));
  if (brokenOperations.some((v) => !explained.has(v) && !touchesApproved(v, approvals))) ok = false;
  return { ok, compositionErrors: [], changes: decided, brokenOperations };
}

/**
 * An input type's field is used by every request passing a value of that type, and most pass it
 * in variables, which the gateway never reads: so its usage is that of every argument whose type
 * carries the input type (directly or nested), plus the field itself where a document wrote it.
 */
function inputAware(usage: UsageEvidence, carriers: ReadonlyMap<string, readonly string[]>): UsageEvidence {
  return {
    windowDays: usage.windowDays,
    coveredDays: usage.coveredDays,
    requests(coordinate) {
      const args = carriers.get(coordinate.split('.')[0]!);
      if (!args) return usage.requests(coordinate);
      const seen = [coordinate, ...args].map((c) => usage.requests(c));
      return { requests: seen.reduce((n, s) => n + s.requests, 0), clients: [...new Set(seen.flatMap((s) => s.clients))].sort() };
    },
  };
}

const touchesApproved = (v: OperationVerdict, approvals: ReadonlyMap<string, string>): boolean =>
  [...approvals.keys()].some((coordinate) => touches(v.coordinates, coordinate));

function decide(
  change: SchemaChange,
  approvals: ReadonlyMap<string, string>,
  broken: readonly OperationVerdict[],
  usage: UsageEvidence | undefined,
): Decision {
  const approved = approvals.get(change.coordinate);
  if (approved !== undefined) return { kind: 'approved', reason: approved };
  const affected = broken.filter((v) => touches(v.coordinates, change.coordinate));
  if (affected.length > 0) return { kind: 'breaks-operations', operations: affected };
  if (!usage) return { kind: 'no-evidence' };
  const seen = usage.requests(change.coordinate);
  const window = `in ${usage.windowDays} days`;
  if (seen.requests === 0) {
    // A day of slack: the window's first hours may simply have had no traffic to record.
    if (usage.coveredDays < usage.windowDays - 1) {
      return { kind: 'short-evidence', evidence: `0 requests, but usage reaches back only ${usage.coveredDays.toFixed(1)} of the ${usage.windowDays} days asked` };
    }
    const span = usage.coveredDays < usage.windowDays ? `in the ${usage.coveredDays.toFixed(1)} days recorded (${usage.windowDays} asked)` : window;
    return { kind: 'unused', evidence: `0 requests ${span}, and no known operation uses it` };
  }
  return { kind: 'in-use', evidence: `${seen.requests} requests ${window} from ${seen.clients.join(', ') || 'unnamed clients'}` };
}

const icon = { breaking: '✖', dangerous: '⚠', safe: '✔' } as const;

export function formatReport(report: CheckReport): string {
  if (report.compositionErrors.length > 0) {
    return `Composition failed:\n${report.compositionErrors.map((e) => `  - ${e}`).join('\n')}\nResult: FAIL`;
  }
  const lines: string[] = [];
  const scopes = [...new Set(report.changes.map((c) => c.scope))];
  if (scopes.length === 0) lines.push('No changes against the published schema.');
  for (const scope of scopes) {
    lines.push(scope === 'api' ? 'Supergraph API schema (what clients see):' : `Subgraph ${scope}:`);
    for (const c of report.changes.filter((x) => x.scope === scope)) {
      lines.push(`  ${icon[c.severity]} ${c.severity.padEnd(9)} ${c.coordinate}  ${c.message}${c.note ? ` (${c.note})` : ''}`);
      if (c.decision) lines.push(`      → ${describe(c.decision)}`);
    }
  }
  for (const v of report.brokenOperations) {
    lines.push(`Operation ${v.operation.source} ${v.operation.id} (${v.operation.clients.join(', ') || 'no client'}) breaks: ${v.errors.join('; ')}`);
  }
  lines.push(`Result: ${report.ok ? 'PASS' : 'FAIL'}`);
  return lines.join('\n');
}

function describe(d: Decision): string {
  switch (d.kind) {
    case 'approved':
      return `approved: ${d.reason}`;
    case 'breaks-operations':
      return `BLOCKS: breaks ${d.operations.map((v) => `${v.operation.source} ${v.operation.id} (${v.operation.clients.join(', ') || 'no client'})`).join(', ')}`;
    case 'unused':
      return `safe to ship: ${d.evidence}`;
    case 'in-use':
      return `BLOCKS: in use, ${d.evidence}`;
    case 'short-evidence':
      return `BLOCKS: ${d.evidence}; approve it or check again later`;
    case 'no-evidence':
      return 'BLOCKS: no usage data to prove it unused; approve it in schema/approved-changes.json or run with --usage-days N';
  }
}
