/**
 * `npm run schema:check`: compares schema/<subgraph>.graphql (and the composed API schema) with
 * the published snapshot in schema/published/, checks known operations, prints a report and exits
 * non-zero on an unapproved breaking change. `--trusted-documents` also loads the trusted
 * documents registered in accounts' store (FOLIO_DATA_DIR / MONGODB_URI); `--usage-days N` reads
 * the field usage and operations the gateway recorded there in the last N days: a breaking change
 * a recorded operation uses fails naming its clients, an unused one passes with that evidence.
 */
import { runCheck, formatReport } from './governance/check.js';
import { compose } from './governance/diff.js';
import { formatLint, lintApiSchema } from './governance/lint.js';
import { readApprovals, readProposed, readPublished, SCHEMA_DIR } from './governance/files.js';
import type { KnownOperation } from './governance/operations.js';
import { loadRecordedUsage, loadTrustedDocuments } from './governance/sources.js';

async function main(): Promise<void> {
  const published = readPublished(SCHEMA_DIR);
  if (Object.keys(published).length === 0) {
    console.error('schema/published/ is empty: run `npm run schema:publish` once to take the first snapshot.');
    process.exit(1);
  }
  const operations: KnownOperation[] = process.argv.includes('--trusted-documents') ? await loadTrustedDocuments() : [];
  const daysArg = process.argv.indexOf('--usage-days');
  const days = daysArg > 0 ? Number(process.argv[daysArg + 1] ?? 30) : undefined;
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 400)) {
    console.error('--usage-days takes a whole number of days, 1 to 400.');
    process.exit(2);
  }
  const recorded = days !== undefined ? await loadRecordedUsage(days) : undefined;
  // Recorded operations include persisted/APQ and trusted-document traffic: whatever the gateway executed.
  if (recorded) operations.push(...recorded.operations);
  const usage = recorded?.evidence;
  const proposed = readProposed(SCHEMA_DIR);
  const report = await runCheck({ published, proposed, approvals: readApprovals(SCHEMA_DIR), operations, usage });
  const composed = compose(proposed);
  if (composed.ok && !process.argv.includes('--no-lint')) console.log(`${formatLint(lintApiSchema(composed.apiSdl), process.argv.includes('--verbose'))}\n`);
  console.log(formatReport(report));
  if (!report.ok) process.exit(1);
}

await main();
