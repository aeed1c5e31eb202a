/**
 * The public API of the re-anchoring library (pure: no GraphQL, no storage). Everything else
 * in this folder is private to it.
 */
export { describeAnchor } from './describe.js';
export { RevisionMatcher } from './reanchor.js';
export type { ReanchorResult, TextAnchor } from './types.js';
