/**
 * Data written by earlier versions brought up to what the code reads now, once per database (a
 * marker in `counters` says it was done). Each step is idempotent, so two processes starting
 * together may both run it.
 */
import { insertOnce } from './claims.js';
import type { Models } from './models.js';
import { OPEN_STATUSES, openForOf } from '../domain/ticket.js';

const BATCH = 500;

/** Tickets opened in Slack before `openedBy` existed get it from `source.slackUserId`. */
async function backfillOpenedBy(models: Models): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await models.Ticket.find({
      'source.channel': 'slack',
      openedBy: { $exists: false },
      'source.slackUserId': { $exists: true },
    })
      .select({ _id: 1, source: 1 })
      .limit(BATCH)
      .lean();
    for (const row of rows)
      await models.Ticket.updateOne({ _id: row._id }, { $set: { openedBy: row.source?.slackUserId } });
    done += rows.length;
    if (rows.length < BATCH) return done;
  }
}

/** Open tickets from before `openFor` existed get it (closed ones need none: nobody's work). */
async function backfillOpenFor(models: Models): Promise<number> {
  let done = 0;
  for (const status of OPEN_STATUSES) {
    for (;;) {
      const rows = await models.Ticket.find({ status, openFor: { $exists: false } })
        .select({ _id: 1, status: 1, openedBy: 1, assignee: 1 })
        .limit(BATCH)
        .lean();
      for (const row of rows) await models.Ticket.updateOne({ _id: row._id }, { $set: { openFor: openForOf(row) } });
      done += rows.length;
      if (rows.length < BATCH) break;
    }
  }
  return done;
}

// In order: openFor is computed from openedBy.
const STEPS: { id: string; run: (models: Models) => Promise<number> }[] = [
  { id: 'upgrade:ticket-opened-by', run: backfillOpenedBy },
  { id: 'upgrade:ticket-open-for', run: backfillOpenFor },
];

/** Runs the steps this database has not had; returns how many rows each changed. */
export async function upgradeData(models: Models): Promise<Record<string, number>> {
  const changed: Record<string, number> = {};
  for (const step of STEPS) {
    if (await models.Counter.exists({ _id: step.id })) continue;
    changed[step.id] = await step.run(models);
    await insertOnce(models.Counter, { _id: step.id, seq: 1 });
  }
  return changed;
}
