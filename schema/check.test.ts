// The CI gate: `npm test` runs the schema check of the repo's SDLs against schema/published/.
import { describe, expect, it } from 'vitest';
import { formatReport, runCheck } from './governance/check.js';
import { readApprovals, readProposed, readPublished, SCHEMA_DIR } from './governance/files.js';

describe('schema check against the published snapshot', () => {
  it('has no unapproved breaking change (fix it, approve it in schema/approved-changes.json, or npm run schema:publish)', async () => {
    const published = readPublished(SCHEMA_DIR);
    expect(Object.keys(published).length, 'schema/published/ is empty: run npm run schema:publish').toBeGreaterThan(0);
    const report = await runCheck({ published, proposed: readProposed(SCHEMA_DIR), approvals: readApprovals(SCHEMA_DIR) });
    expect(report.ok, formatReport(report)).toBe(true);
  });
});
