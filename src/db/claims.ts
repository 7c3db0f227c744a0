/**
 * The one guard for "exactly once": insert a key under a unique `_id`. On FerretDB conditional
 * updates and findAndModify are not atomic, but a unique insert is (ARCHITECTURE.md), so whoever
 * inserts the key first has won; everybody else gets the row that is already there.
 */
import type { Model } from 'mongoose';
import { isDuplicateKey } from './models.js';

export type Claim<T> = { won: true } | { won: false; existing: T | null };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function claimOnce<T extends { _id: string }>(model: Model<any>, doc: T): Promise<Claim<T>> {
  try {
    await model.create(doc);
    return { won: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return { won: false, existing: (await model.findById(doc._id).lean()) as T | null };
  }
}
