import { stubService } from '../../lib/stubSubgraph.js';

export const catalogService = stubService('catalog', { Query: { book: () => null } });
