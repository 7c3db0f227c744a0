/**
 * Data written by earlier versions brought up to what the code reads now, once per database (a
 * marker in `counters` says it was done). Each step is idempotent, so two processes starting
 * together may both run it.
 */
import { insertOnce } from './claims.js';
import type { Models } from './models.js';

const BATCH = 500;

/** Tickets opened in Slack before `openedBy` existed get it from `source.slackUserId`. */
async function backfillOpenedBy(models: Models): Promise<number> {
  let done = 0;
  for (;;) {
    const rows = await models.Ticket.find({ 'source.channel': 'slack', openedBy: { $exists: false }, 'source.slackUserId': { $exists: true } })
      .select({ _id: 1, source: 1 })
      .limit(BATCH)
      .lean();
    for (const row of rows) await models.Ticket.updateOne({ _id: row._id }, { $set: { openedBy: row.source?.slackUserId } });
    done += rows.length;
    if (rows.length < BATCH) return done;
  }
}

const STEPS: { id: string; run: (models: Models) => Promise<number> }[] = [{ id: 'upgrade:ticket-opened-by', run: backfillOpenedBy }];

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
