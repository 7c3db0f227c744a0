/**
 * The due-work runner of one process: when woken, it takes the rows whose time has come, oldest
 * first, in batches; claims each run by a unique insert (`due_claims`, `<row>#<attempt>`), so two
 * processes that fetched the same batch split it without running anything twice; runs them a few
 * at a time; and deletes what it finished in one statement per batch. It goes on while batches come
 * back full, so thousands due at once take as long as the database needs, not one scheduler lock
 * per row. A handler that throws has its row armed again with back-off: late rather than never.
 */
import pLimit from 'p-limit';
import { claimOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { DueWorkDoc } from '../db/models/due-work.js';
import type { Logger } from '../logger.js';
import { backoff, type BackoffPolicy } from '../backoff.js';

export type DueRow = DueWorkDoc;

/** A handler that threw: 3 s doubling, at most 10 minutes apart (jittered, so rows that failed together part). */
export const DUE_BACKOFF: BackoffPolicy = { baseMs: 3000, capMs: 10 * 60_000 };
/** Runs one due row; returns what became of it (for the log). Throw to have it retried later. */
export type DueHandler = (row: DueRow) => Promise<string>;

/** A claim this old whose row is still there belongs to a process that died mid-run. */
export const DUE_LEASE_MS = 5 * 60_000;

export interface DueRunner {
  /** Runs everything due now; a call while a drain runs makes that drain look once more. */
  drain(): Promise<void>;
  /** Finishes the rows in hand and takes no more. */
  stop(): Promise<void>;
}

export function createDueRunner(deps: {
  models: Models;
  log: Logger;
  handlers: ReadonlyMap<string, DueHandler>;
  concurrency: number;
  processName: string;
  now: () => Date;
  /** A full batch came back: more work than this process alone should take (ask another to help). */
  onBusy: () => Promise<void>;
  /** A row was armed again for `at` (a retry): the caller makes sure something wakes then. */
  onRearmed: (at: Date) => Promise<void>;
}): DueRunner {
  const { models, handlers, now } = deps;
  const log = deps.log.child({ component: 'due' });
  // Enough rows per query to keep every slot busy while the other processes take their share; on
  // FerretDB the query and the delete each read the whole collection, so fewer, larger batches.
  const batchSize = Math.max(200, deps.concurrency * 100);
  let current: Promise<void> | undefined;
  let again = false;
  let stopping = false;
  const unknownKinds = new Set<string>();

  async function rearmAfterFailure(row: DueRow, err: Error): Promise<void> {
    const retryAt = new Date(now().getTime() + backoff(row.failures, DUE_BACKOFF));
    await models.DueWork.updateOne(
      { _id: row._id, attempt: row.attempt },
      {
        $set: { runAt: retryAt, failures: row.failures + 1, lastError: err.message.slice(0, 500) },
        $inc: { attempt: 1 },
      },
    );
    log.warn(
      {
        event: 'due.retry',
        id: row._id,
        kind: row.kind,
        failures: row.failures + 1,
        retryAt: retryAt.toISOString(),
        err: err.message,
      },
      'due work failed; will be retried',
    );
    await deps.onRearmed(retryAt);
  }

  /** Runs one row if this process wins its claim; returns it when it is finished (to be deleted). */
  async function runOne(row: DueRow, skip: Set<string>, takenOver = false): Promise<DueRow | undefined> {
    const claimId = `${row._id}#${row.attempt}`;
    // A claim can only be stale once its row has been due for longer than the lease: only then is
    // the winner's claim worth reading (two processes on one batch lose many claims to each other).
    const mayBeStale = now().getTime() - row.runAt.getTime() > DUE_LEASE_MS;
    const got = await claimOnce(
      models.DueClaim,
      { _id: claimId, at: now(), by: deps.processName },
      { readExisting: mayBeStale },
    );
    if (!got.won) {
      const stale = got.existing && now().getTime() - got.existing.at.getTime() > DUE_LEASE_MS;
      if (!stale || takenOver) {
        skip.add(claimId);
        return undefined;
      }
      // Its process died mid-run: arm the row under the next attempt, which one process claims.
      // Every step of a handler is idempotent, so running it again repeats nothing visible.
      log.warn(
        {
          event: 'due.taken_over',
          id: row._id,
          attempt: row.attempt,
          claimedAt: got.existing!.at.toISOString(),
          by: got.existing!.by,
        },
        'taking over due work a stopped process left',
      );
      await models.DueWork.updateOne({ _id: row._id, attempt: row.attempt }, { $set: { attempt: row.attempt + 1 } });
      return runOne({ ...row, attempt: row.attempt + 1 }, skip, true);
    }
    const started = now();
    try {
      const outcome = await handlers.get(row.kind)!(row);
      log.info(
        {
          event: 'due.done',
          id: row._id,
          kind: row.kind,
          outcome,
          lateMs: started.getTime() - row.dueAt.getTime(),
          by: deps.processName,
        },
        'due work done',
      );
      return row;
    } catch (err) {
      await rearmAfterFailure(row, err as Error).catch((e: Error) =>
        log.error(
          { event: 'due.rearm_failed', id: row._id, err: e.message },
          'could not arm failed due work again; the next start takes it over',
        ),
      );
      return undefined;
    }
  }

  async function runBatch(rows: DueRow[], skip: Set<string>): Promise<void> {
    const started = Date.now();
    const lostBefore = skip.size;
    const slots = pLimit(deps.concurrency);
    const finished: DueRow[] = [];
    await Promise.all(
      rows.map((row) =>
        slots(async () => {
          if (stopping) return;
          const done = await runOne(row, skip);
          if (done) finished.push(done);
        }),
      ),
    );
    const ran = Date.now();
    if (finished.length > 0) await models.DueWork.deleteMany(finishedFilter(finished));
    log.debug(
      {
        event: 'due.batch',
        rows: rows.length,
        done: finished.length,
        lost: skip.size - lostBefore,
        runMs: ran - started,
        deleteMs: Date.now() - ran,
      },
      'due batch finished',
    );
  }

  /**
   * Only rows still at the attempt that ran: one armed again meanwhile (re-scheduled, retried)
   * stays. One `$in` per attempt number (nearly always just one), not one clause per row: FerretDB
   * tests every row of the collection against the filter, and a clause per row made that quadratic.
   */
  function finishedFilter(rows: DueRow[]) {
    const byAttempt = new Map<number, string[]>();
    for (const r of rows) byAttempt.set(r.attempt, [...(byAttempt.get(r.attempt) ?? []), r._id]);
    return { $or: [...byAttempt].map(([attempt, ids]) => ({ _id: { $in: ids }, attempt })) };
  }

  /** Processes with different starting points walk a shared batch from different ends. */
  function rotated<T>(rows: T[]): T[] {
    const at = Math.floor(Math.random() * rows.length);
    return [...rows.slice(at), ...rows.slice(0, at)];
  }

  async function loop(): Promise<void> {
    // Runs other processes hold (or finished, their batch not yet deleted): not tried again in this drain.
    const skip = new Set<string>();
    let askedForHelp = false;
    let idleRounds = 0;
    while (!stopping) {
      const rows = await models.DueWork.find({ runAt: { $lte: now() } })
        .sort({ runAt: 1 })
        .limit(batchSize)
        .lean<DueRow[]>();
      const runnable = rows.filter((r) => {
        if (skip.has(`${r._id}#${r.attempt}`)) return false;
        if (handlers.has(r.kind)) return true;
        if (!unknownKinds.has(r.kind))
          log.warn(
            { event: 'due.unknown_kind', kind: r.kind, id: r._id },
            'no handler for this kind of due work in this process; left for another',
          );
        unknownKinds.add(r.kind);
        return false;
      });
      if (rows.length === batchSize && !askedForHelp) {
        askedForHelp = true;
        await deps.onBusy();
      }
      if (runnable.length === 0) {
        // Every row in reach is another process's, running or finished and about to be deleted:
        // look again shortly for the rows behind them (a holder that died is taken over later).
        if (rows.length < batchSize || ++idleRounds > 20) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      idleRounds = 0;
      await runBatch(rotated(runnable), skip);
      if (rows.length < batchSize) return;
    }
  }

  function drain(): Promise<void> {
    if (current) {
      again = true;
      return current;
    }
    current = (async () => {
      try {
        do {
          again = false;
          await loop();
        } while (again && !stopping);
      } finally {
        current = undefined;
      }
    })();
    return current;
  }

  return {
    drain,
    async stop() {
      stopping = true;
      await current?.catch(() => undefined);
    },
  };
}
