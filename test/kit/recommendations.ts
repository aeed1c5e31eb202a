/** Recommendations through the gateway: queries and a small book factory for genre-shaped test books. */
import { buildEpub } from '../../subgraphs/catalog/epub/build.js';
import { createPublishedBook } from './catalog.js';
import { mustQuery } from './platform.js';

export const SIMILAR_BOOKS = /* GraphQL */ `
  query Similar($id: ID!, $first: Int) {
    book(id: $id) { id similarBooks(first: $first) { score book { id title } reason { source text basedOn { id title } } } }
  }
`;
export const MY_RECOMMENDATIONS = /* GraphQL */ `
  query Mine($first: Int, $after: String, $language: String) {
    me {
      id
      settings { personalisedRecommendations }
      recommendations(first: $first, after: $after, language: $language) {
        personalised
        pageInfo { hasNextPage endCursor }
        edges { cursor node { score book { id title } reason { source text basedOn { id title } } } }
      }
    }
  }
`;
export const DISMISS = /* GraphQL */ `mutation Dismiss($bookId: ID!) { dismissRecommendation(bookId: $bookId) }`;
export const SET_PERSONALISED = /* GraphQL */ `mutation Personal($enabled: Boolean!) { setPersonalisedRecommendations(enabled: $enabled) { personalisedRecommendations } }`;

export interface RecommendationView {
  readonly score: number;
  readonly book: { id: string; title: string } | null;
  readonly reason: { source: string; text: string; basedOn: Array<{ id: string; title: string }> | null };
}

/** Words per genre, so books of one genre embed close together. */
export const GENRE_WORDS: Record<string, readonly string[]> = {
  sea: ['tide', 'harbour', 'sail', 'gull', 'anchor', 'reef', 'lighthouse', 'current', 'mast', 'salt'],
  mountain: ['ridge', 'glacier', 'summit', 'scree', 'rope', 'crampon', 'cairn', 'avalanche', 'pass', 'ice'],
  garden: ['seedling', 'compost', 'rose', 'trellis', 'soil', 'bulb', 'prune', 'hedge', 'blossom', 'greenhouse'],
  city: ['tram', 'alley', 'neon', 'subway', 'rooftop', 'traffic', 'market', 'tower', 'pavement', 'bridge'],
};

/** A short book of one genre: `paragraphs` paragraphs of sentences built from the genre's words. */
export function genreParagraphs(genre: string, seed: number, paragraphs = 6): string[] {
  const words = GENRE_WORDS[genre]!;
  let state = seed * 7919 + 17;
  const next = (): number => (state = (state * 48271) % 2147483647);
  return Array.from({ length: paragraphs }, () =>
    // Genre words only (no shared filler), so two genres' books are far apart for any embedder.
    Array.from({ length: 4 }, () => `${Array.from({ length: 6 }, () => words[next() % words.length]).join(' ')}.`).join(' '),
  );
}

export async function createGenreBook(gateway: string, editorToken: string, input: { title: string; author: string; genre: string; seed: number; language?: string }): Promise<string> {
  const language = input.language ?? 'en';
  const epub = await buildEpub({ title: input.title, authors: [input.author], language, chapters: [{ title: 'One', paragraphs: genreParagraphs(input.genre, input.seed) }] });
  const { bookId } = await createPublishedBook(gateway, editorToken, epub, { title: input.title, authors: [input.author], language });
  return bookId;
}

export async function myRecommendations(gateway: string, token: string, variables: Record<string, unknown> = {}) {
  const data = await mustQuery<{ me: { settings: { personalisedRecommendations: boolean }; recommendations: { personalised: boolean; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ cursor: string; node: RecommendationView }> } } }>(
    gateway,
    MY_RECOMMENDATIONS,
    variables,
    { token },
  );
  return data.me;
}
