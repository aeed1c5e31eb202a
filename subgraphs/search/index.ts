import { stubService } from '../../lib/stubSubgraph.js';

export const searchService = stubService('search', { Query: { searchBooks: () => [] } });
