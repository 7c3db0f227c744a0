/** The due rows tests look at instead of Agenda's `jobs` (see src/jobs/due-work.ts). */
import type { TestApp } from './test-app.js';

/** The pending due row of `kind:key`, if any (rows exist exactly while the work is pending). */
export const dueRowOf = (t: TestApp, kind: string, key: string) =>
  t.app.db.models.DueWork.findById(`${kind}:${key}`).lean();

/** The same as a list, for "exactly one" and "none" assertions. */
export const dueRowsOf = (t: TestApp, kind: string, key: string) =>
  t.app.db.models.DueWork.find({ _id: `${kind}:${key}` }).lean();
