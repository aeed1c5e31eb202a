import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from './check.js';
import { SCHEMA_DIR, readProposed, readPublished } from './files.js';
import { publish } from './publish.js';

/** A copy of the repo's current subgraph SDLs in a scratch schema dir, without a published snapshot. */
function scratch(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'folio-schema-'));
  for (const [name, sdl] of Object.entries(readProposed(SCHEMA_DIR))) writeFileSync(path.join(dir, `${name}.graphql`), sdl);
  return dir;
}

describe('schema:publish', () => {
  it('snapshots, is idempotent, and logs the next change with its coordinate', async () => {
    const dir = scratch();
    expect((await publish(dir, new Date('2026-01-02T00:00:00Z'))).changed).toBe(true);
    const first = readFileSync(path.join(dir, 'CHANGELOG.md'), 'utf8');
    expect(first).toContain('## 2026-01-02');
    expect((await publish(dir)).changed).toBe(false);
    expect(readFileSync(path.join(dir, 'CHANGELOG.md'), 'utf8')).toBe(first);

    const accounts = path.join(dir, 'accounts.graphql');
    writeFileSync(accounts, readFileSync(accounts, 'utf8').replace(/type Query \{/, 'type Query {\n  """Governance fixture."""\n  governanceProbe: Int'));
    const check = await runCheck({ published: readPublished(dir), proposed: readProposed(dir) });
    expect(check.ok).toBe(true);
    expect((await publish(dir, new Date('2026-01-03T00:00:00Z'))).changed).toBe(true);
    const log = readFileSync(path.join(dir, 'CHANGELOG.md'), 'utf8');
    expect(log).toContain('## 2026-01-03');
    expect(log).toContain('**safe** `Query.governanceProbe`');
    expect(readPublished(dir)['accounts']).toContain('governanceProbe');
  });

  it('clears consumed approvals', async () => {
    const dir = scratch();
    writeFileSync(path.join(dir, 'approved-changes.json'), JSON.stringify([{ coordinate: 'X.y', reason: 'test' }]));
    await publish(dir);
    expect(existsSync(path.join(dir, 'approved-changes.json'))).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'approved-changes.json'), 'utf8'))).toEqual([]);
  });
});
