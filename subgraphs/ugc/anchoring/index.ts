/**
 * The public API of the re-anchoring library (pure: no GraphQL, no storage). Everything else
 * in this folder is private to it.
 */
export { describeAnchor, type DescribeAnchorOptions } from './describe.js';
export { resolveReanchorOptions, type ReanchorOptions, type ResolvedReanchorOptions } from './options.js';
export { RevisionMatcher, reanchor } from './reanchor.js';
export type {
  ChapterSource,
  ChapterText,
  MatchMethod,
  OrphanReason,
  ReanchorHint,
  ReanchorResult,
  TextAnchor,
} from './types.js';
