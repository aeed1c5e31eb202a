/** Payload filters: validation and the in-process matcher the embedded backend uses. */
import type { FieldCondition, PayloadFilter, PayloadScalar } from './types.js';
import { VectorStoreError } from './types.js';

const MAX_CONDITIONS = 32;
const MAX_ANY_VALUES = 1024;
const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function isScalar(value: unknown): value is PayloadScalar {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** Throws INVALID_ARGUMENT for a malformed filter (wrong shapes, too many conditions, odd keys). */
export function validateFilter(filter: PayloadFilter | undefined): void {
  if (filter === undefined) return;
  const all = [...(filter.must ?? []), ...(filter.mustNot ?? [])];
  if (all.length > MAX_CONDITIONS) throw new VectorStoreError('INVALID_ARGUMENT', `a filter has at most ${MAX_CONDITIONS} conditions`);
  for (const condition of all) {
    if (typeof condition?.key !== 'string' || !KEY_PATTERN.test(condition.key)) {
      throw new VectorStoreError('INVALID_ARGUMENT', `invalid filter key ${JSON.stringify(condition?.key)}`);
    }
    const values = conditionValues(condition);
    if (values.length === 0 || values.length > MAX_ANY_VALUES || !values.every(isScalar)) {
      throw new VectorStoreError('INVALID_ARGUMENT', `filter on "${condition.key}" needs 1..${MAX_ANY_VALUES} string, number or boolean values`);
    }
  }
}

export function conditionValues(condition: FieldCondition): readonly PayloadScalar[] {
  const match = condition.match;
  return typeof match === 'object' && match !== null ? match.any : [match];
}

function fieldMatches(fieldValue: unknown, wanted: readonly PayloadScalar[]): boolean {
  // An array field matches when any of its elements matches (Qdrant semantics).
  if (Array.isArray(fieldValue)) return fieldValue.some((element) => wanted.includes(element as PayloadScalar));
  return wanted.includes(fieldValue as PayloadScalar);
}

export function matchesFilter(payload: Record<string, unknown>, filter: PayloadFilter | undefined): boolean {
  if (filter === undefined) return true;
  for (const condition of filter.must ?? []) {
    if (!fieldMatches(payload[condition.key], conditionValues(condition))) return false;
  }
  for (const condition of filter.mustNot ?? []) {
    if (fieldMatches(payload[condition.key], conditionValues(condition))) return false;
  }
  return true;
}

export function isEmptyFilter(filter: PayloadFilter | undefined): boolean {
  return filter === undefined || ((filter.must?.length ?? 0) === 0 && (filter.mustNot?.length ?? 0) === 0);
}
