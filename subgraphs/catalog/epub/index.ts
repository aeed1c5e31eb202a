/**
 * Public API of the EPUB pipeline. Everything else in this folder is private; import from here.
 */
export { parseEpub, EPUB_STAGES, PARAGRAPH_SEPARATOR } from './parse.js';
export { parseEpubOffThread } from './offThread.js';
export type { EpubStage, ParsedEpub, ParsedChapter, ParsedParagraph, ParseEpubOptions, EpubMetadata, EpubWarning } from './parse.js';
export { EPUB_WARNING_CODES } from './warnings.js';
export type { EpubWarningCode } from './warnings.js';
export { EpubError, isEpubError, EPUB_ERROR_REASONS } from './errors.js';
export type { EpubErrorReason } from './errors.js';
export { DEFAULT_EPUB_LIMITS, resolveEpubLimits } from './limits.js';
export type { EpubLimits } from './limits.js';
export { buildEpub } from './build.js';
export type { BookSource } from './build.js';
