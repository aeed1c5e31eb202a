/** `npm run schema:publish`: accepts the current subgraph SDLs as the published schema. */
import { SCHEMA_DIR } from './governance/files.js';
import { publish } from './governance/publish.js';

const result = await publish(SCHEMA_DIR);
if (!result.changed) console.log('schema/published/ is already up to date: nothing to publish.');
else console.log(`Published ${result.changes.filter((c) => c.scope === 'api').length} API change(s); see schema/CHANGELOG.md.`);
