import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SUBGRAPH_NAMES } from '../lib/config.js';
import { generatedFile, generateResolverTypes, readSubgraphSdl } from './codegen.js';

// The same comparison as `npm run codegen:check`, so `npm test` fails when an SDL changed and its
// resolver types were not regenerated (resolvers would then be checked against a stale schema).
describe('generated resolver types', () => {
  it.each(SUBGRAPH_NAMES)('subgraphs/%s/generated/resolvers.ts matches its SDL (run `npm run codegen` when this fails)', async (name) => {
    expect(readFileSync(generatedFile(name), 'utf8')).toBe(await generateResolverTypes(name));
  });

  it('changes when the SDL does, so the check above can fail', async () => {
    const sdl = readSubgraphSdl('accounts');
    const changed = sdl.replace('type Session {', 'type Session {\n  deviceName: String');
    expect(changed).not.toBe(sdl);
    const generated = await generateResolverTypes('accounts', changed);
    expect(generated).not.toBe(readFileSync(generatedFile('accounts'), 'utf8'));
    expect(generated).toContain('deviceName?: Resolver<Maybe<ResolversTypes[\'String\']>, ParentType, ContextType>;');
  });
});
