/**
 * Lets time pass in a test: the app's clock moves forward, and so do the jobs Agenda stores in real
 * time (the scheduler converted their app times when they were scheduled), exactly as if that much
 * real time had gone by. The real scheduler then fires whatever falls due.
 */
import type { Db } from 'mongodb';
import type { SettableClock } from '../../src/clock.js';

export async function advanceTime(clock: SettableClock, db: Db, ms: number): Promise<void> {
  // The clock first: a job that falls due while the others are still being moved already sees the new time.
  clock.set(new Date(clock.now().getTime() + ms));
  const jobs = db.collection('jobs');
  const stored = await jobs.find({ nextRunAt: { $type: 'date' } }).project({ _id: 1, nextRunAt: 1 }).toArray();
  // One update per job by _id: cheap on every engine, and no aggregation pipeline updates.
  for (const job of stored) await jobs.updateOne({ _id: job._id }, { $set: { nextRunAt: new Date((job.nextRunAt as Date).getTime() - ms) } });
}
