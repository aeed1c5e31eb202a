/** Thin resolvers for recommendations: read arguments, call the service, shape connections. Books are references catalog resolves. */
import type { Resolvers } from '../generated/resolvers.js';
import type { SearchContext as RecommendationContext } from '../resolvers.js';
import type { RecommendationItem, RecommendationPage } from './service.js';

const ref = (id: string): { id: string } => ({ id });

export const recommendationResolvers: Resolvers = {
  Book: {
    similarBooks: (book: { id: string }, args: { first?: number | null }, { caller, loaders, recommendations }: RecommendationContext) =>
      recommendations.similarBooks(caller, book.id, args.first, loaders.readableCheck),
  },
  User: {
    recommendations: async (user: { id: string }, args: { first?: number | null; after?: string | null; language?: string | null }, { caller, loaders, recommendations }: RecommendationContext) => {
      const page: RecommendationPage | null = await recommendations.forReader(caller, user.id, args, loaders.readableCheck);
      return page && { edges: page.items, pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor }, personalised: page.personalised };
    },
    settings: (user: { id: string }, _: unknown, { caller, recommendations }: RecommendationContext) => recommendations.settings(caller, user.id),
  },
  Recommendation: {
    book: (item: RecommendationItem) => ref(item.bookId),
    reason: (item: RecommendationItem) => item,
  },
  RecommendationReason: {
    basedOn: (item: RecommendationItem) => item.basedOn.map(ref),
  },
  Mutation: {
    dismissRecommendation: (_: unknown, args: { bookId: string }, { caller, recommendations }: RecommendationContext) => recommendations.dismiss(caller, args.bookId),
    setPersonalisedRecommendations: (_: unknown, args: { enabled: boolean }, { caller, recommendations }: RecommendationContext) =>
      recommendations.setPersonalised(caller, args.enabled),
  },
};
