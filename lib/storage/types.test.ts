/**
 * Type-level proof that the real driver's Collection satisfies DocCollection, so the MongoDB
 * backend can hand out driver collections unchanged. `tsc --noEmit` is the real assertion.
 */
import type { Collection, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import type { DocCollection } from './types.js';

interface User {
  _id: ObjectId;
  email: string;
  vid: number;
  createdAt: Date;
}
type Loose = { name: string; tags?: string[] };

// Each line fails to compile if the driver's Collection stops being assignable.
export const assignUser = (c: Collection<User>): DocCollection<User> => c;
export const assignLoose = (c: Collection<Loose>): DocCollection<Loose> => c;
export const assignDoc = (c: Collection): DocCollection => c;

describe('DocCollection types', () => {
  it('accepts the driver Collection (checked by tsc)', () => {
    expect(typeof assignUser).toBe('function');
  });
});
