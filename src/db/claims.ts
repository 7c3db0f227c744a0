/**
 * The one guard for "exactly once": insert a key under a unique `_id`. On FerretDB conditional
 * updates and findAndModify are not atomic, but a unique insert is (ARCHITECTURE.md), so whoever
 * inserts the key first has won; everybody else gets the row that is already there. Every
 * claim in the app (outbox attempts, due runs, mail attempts, plan and migration effects, ticket
 * numbers and keys, leases, ack slots, Slack event IDs) goes through here.
 */
import type { Model } from 'mongoose';
import { isDuplicateKey } from './models.js';

export type Claim<T> = { won: true } | { won: false; existing: T | null };

/**
 * `readExisting: false` skips reading the winner's row when the caller has no use for it (a runner
 * that only needs to know it lost, an insert-if-absent): on FerretDB that read is one more query.
 * `existing` is null then, and also when the winner's row went between the insert and the read.
 */
export async function claimOnce<T extends { _id: string }>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model: Model<any>,
  doc: T,
  opts: { readExisting?: boolean } = {},
): Promise<Claim<T>> {
  try {
    await model.create(doc);
    return { won: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    if (opts.readExisting === false) return { won: false, existing: null };
    return { won: false, existing: (await model.findById(doc._id).lean()) as T | null };
  }
}

/** Inserts `doc` unless a row with its `_id` is there; true when this call wrote it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function insertOnce<T extends { _id: string }>(model: Model<any>, doc: T): Promise<boolean> {
  return (await claimOnce(model, doc, { readExisting: false })).won;
}
