/**
 * The one guard for "exactly once": insert a key under a unique `_id`. On FerretDB conditional
 * updates and findAndModify are not atomic, but a unique insert is (ARCHITECTURE.md), so whoever
 * inserts the key first has won; everybody else gets the row that is already there.
 */
import type { Model } from 'mongoose';
import { isDuplicateKey } from './models.js';

export type Claim<T> = { won: true } | { won: false; existing: T | null };

/**
 * `readExisting: false` skips reading the winner's row when the caller has no use for it (a runner
 * that only needs to know it lost): on FerretDB SQLite that read scans the collection.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function claimOnce<T extends { _id: string }>(model: Model<any>, doc: T, opts: { readExisting?: boolean } = {}): Promise<Claim<T>> {
  try {
    await model.create(doc);
    return { won: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    if (opts.readExisting === false) return { won: false, existing: null };
    return { won: false, existing: (await model.findById(doc._id).lean()) as T | null };
  }
}
