import { stubService } from '../../lib/stubSubgraph.js';

export const ugcService = stubService('ugc', { User: { shelfCount: () => null } });
