/**
 * Who may read a book, as plain rules (no GraphQL, no HTTP). One rule, two forms: `canRead` for a
 * book in hand and `readableFilter` for listing, so a page of `books` and a single `book(id)` can
 * never disagree. Callers go through policy.ts, which builds chapters, downloads and management on
 * this rule.
 *
 * - Staff (EDITOR/ADMIN) see every book, drafts included.
 * - Everyone else: the book is PUBLISHED and, if it has a license, now is inside its window and
 *   the caller's territory is in its territories (empty = worldwide).
 * - A partner integration additionally needs its key id in the license's partnerIds: a book
 *   without a license is served to app users only.
 * - The caller's territory is what the gateway signed into the identity (from a trusted CDN/load
 *   balancer header, gateway/plugins/clientAddress.ts); when unknown, a territory-restricted license
 *   fails closed.
 * - Windows are checked at whole seconds, failing closed: a book is readable only while the whole
 *   second around now lies inside its window (it appears up to 1 s after `startsAt` and goes up to
 *   1 s before `endsAt`). So the listing filter is the same value for a second and the embedded
 *   store compiles it once (lib/storage/embedded/query.ts), where a new Date each millisecond
 *   compiled it on every request.
 */
import type { Filter } from '../../lib/storage/types.js';
import type { BookDoc, LicenseDoc } from './store.js';

export interface Reader {
  readonly userId: string | null;
  readonly partnerId: string | null;
  readonly roles: readonly string[];
  /** ISO 3166-1 alpha-2, or null when unknown. */
  readonly territory: string | null;
}

export const readerIsStaff = (reader: Pick<Reader, 'roles'>): boolean => reader.roles.includes('EDITOR') || reader.roles.includes('ADMIN');

/** The start (ms) of the second `now` falls in. */
const secondOf = (now: Date): number => Math.floor(now.getTime() / 1000) * 1000;

/** The second `now` falls in: a licence must have started by its start and not end before its end. */
function licenceSecond(now: Date): { readonly start: Date; readonly end: Date } {
  const start = secondOf(now);
  return { start: new Date(start), end: new Date(start + 1000) };
}

export function licenseAllows(license: LicenseDoc | null, reader: Reader, now: Date): boolean {
  if (!license) return reader.partnerId === null;
  const second = licenceSecond(now);
  if (license.startsAt && license.startsAt > second.start) return false;
  if (license.endsAt && license.endsAt <= second.end) return false;
  if (license.territories.length > 0 && (reader.territory === null || !license.territories.includes(reader.territory))) return false;
  if (reader.partnerId !== null && !license.partnerIds.includes(reader.partnerId)) return false;
  return true;
}

export function canRead(book: Pick<BookDoc, 'status' | 'license'>, reader: Reader, now: Date = new Date()): boolean {
  if (readerIsStaff(reader)) return true;
  return book.status === 'PUBLISHED' && licenseAllows(book.license, reader, now);
}

/**
 * The filter last made per territory and partner, with its second: every list request in that
 * second shares one (frozen) filter instead of building a dozen objects and two Dates (issue 14).
 * Territories are ISO codes and partners are registered keys, so this stays small; it is cleared
 * past MAX_RECENT_FILTERS all the same.
 */
const recentFilters = new Map<string, { readonly second: number; readonly filter: Filter<BookDoc> }>();
const MAX_RECENT_FILTERS = 1_000;

/** The same rule as a query filter over `books` (null for staff: no restriction). Frozen: shared by the requests of one second. */
export function readableFilter(reader: Reader, now: Date = new Date()): Filter<BookDoc> | null {
  if (readerIsStaff(reader)) return null;
  const second = secondOf(now);
  // Header values hold no newline (lib/signing.ts): the key is unambiguous.
  const key = `${reader.territory ?? ''}\n${reader.partnerId ?? ''}`;
  const recent = recentFilters.get(key);
  if (recent && recent.second === second) return recent.filter;
  const filter = deepFreeze(buildReadableFilter(reader, licenceSecond(now)));
  if (recentFilters.size >= MAX_RECENT_FILTERS) recentFilters.clear();
  recentFilters.set(key, { second, filter });
  return filter;
}

function buildReadableFilter(reader: Reader, second: { readonly start: Date; readonly end: Date }): Filter<BookDoc> {
  const clauses: Filter<BookDoc>[] = [
    { status: 'PUBLISHED' },
    { $or: [{ 'license.startsAt': null }, { 'license.startsAt': { $lte: second.start } }] },
    { $or: [{ 'license.endsAt': null }, { 'license.endsAt': { $gt: second.end } }] },
  ];
  clauses.push(
    reader.territory === null
      ? { 'license.territories.0': { $exists: false } }
      : { $or: [{ 'license.territories.0': { $exists: false } }, { 'license.territories': reader.territory }] },
  );
  if (reader.partnerId !== null) clauses.push({ 'license.partnerIds': reader.partnerId });
  return { $and: clauses };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const nested of Object.values(value)) deepFreeze(nested);
    Object.freeze(value);
  }
  return value;
}
