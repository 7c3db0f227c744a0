/**
 * Delivers outbox rows. Each attempt is claimed by inserting `<row>:<attempt>` under a unique
 * index, so two processes (or a job Agenda ran twice) never make the same attempt twice. A claim
 * older than the claim lifetime with its row still at that attempt was left by a process that died
 * mid-attempt: the next attempt is claimed instead, and the deliverer is told it is not the first,
 * so it can look for what the interrupted one did. Failures are retried later; Slack's 429
 * Retry-After sets the delay. Nothing is dropped: a row that can never be delivered is marked dead
 * and kept for review.
 */
import { backoff, type BackoffPolicy } from '../backoff.js';
import type { Models } from '../db/models.js';
import { claimOnce } from '../db/claims.js';
import type { OutboxDoc } from '../db/models/outbox.js';
import type { Lanes } from '../lanes.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OutboxLane } from '../services/outbox.js';
import { CLAIM_LIFETIME_MS, RETRY_AFTER_UNKNOWN_MS } from './delivery-timing.js';
import type { Scheduler } from './scheduler.js';

/** One-time: a row's retry is due (the job, registered in jobs/index.ts, hands the row to its lane). */
export const DELIVER_JOB = 'outbox.deliver';
/** Every minute: rows no process is working on (see `sweep`). */
export const SWEEP_JOB = 'outbox.sweep';

/** Which attempt a deliverer is making: the first (0) is sure nothing went out before it; a later one is not. */
export interface Attempt {
  number: number;
}

/** A deliverer sends one row and returns what to remember (e.g. Slack's ts). */
export type Deliverer = (row: OutboxDoc, attempt: Attempt) => Promise<Record<string, unknown> | void>;

/**
 * Thrown by deliverers: `retryAfterMs` when the far side said when; `permanent` when retrying cannot
 * help; `outcomeUnknown` when the far side may have done it anyway (no answer, or a 5xx).
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly opts: { retryAfterMs?: number; permanent?: boolean; outcomeUnknown?: boolean } = {},
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

const MAX_ATTEMPTS = 200;
/** Rows one sweep hands over per lane. */
const SWEEP_BATCH = 200;

/** Slack or SMTP down: 2 s doubling, at most 10 minutes apart. */
export const OUTBOX_BACKOFF: BackoffPolicy = { baseMs: 2000, capMs: 10 * 60_000 };

/**
 * When to try again: when the far side said; after an unknown outcome not before it has settled the
 * earlier call (so the next attempt's look sees it); otherwise the back-off.
 */
export function retryDelayMs(
  err: DeliveryError,
  attempts: number,
  opts: { settle: boolean } = { settle: true },
): number {
  if (err.opts.retryAfterMs !== undefined) return err.opts.retryAfterMs;
  const delay = backoff(attempts, OUTBOX_BACKOFF);
  return err.opts.outcomeUnknown && opts.settle ? Math.max(RETRY_AFTER_UNKNOWN_MS, delay) : delay;
}

export interface OutboxWorker {
  deliver(id: string): Promise<'sent' | 'retry' | 'dead' | 'skipped'>;
  /** Hands the row to this process's lane for its kind of row; false if it is already there. */
  deliverSoon(id: string, lane: OutboxLane): boolean;
  sweep(graceMs?: number): Promise<number>;
  backlog(): Promise<Record<string, number>>;
}

export function createOutboxWorker(deps: {
  models: Models;
  scheduler: Scheduler;
  deliverers: Partial<Record<'slack' | 'email', Deliverer>>;
  lanes: Pick<Lanes, OutboxLane>;
  log: Logger;
  metrics?: Metrics;
  now?: () => Date;
  /** Bench only: retry an unknown outcome on the plain back-off, as before issue 9 (see StartOptions.legacy). */
  settleAfterUnknown?: boolean;
}): OutboxWorker {
  const { models, scheduler, deliverers, lanes } = deps;
  const log = deps.log.child({ component: 'outbox' });
  const now = () => deps.now?.() ?? new Date();
  const settle = deps.settleAfterUnknown ?? true;

  /**
   * Claims the row's next attempt, or returns undefined while another process holds it. A claim
   * past its lifetime is passed over for the next number, so exactly one process (the one whose
   * insert wins) takes the interrupted delivery over.
   */
  async function claimAttempt(row: OutboxDoc): Promise<number | undefined> {
    for (let n = row.attempts; n < MAX_ATTEMPTS; n += 1) {
      const claim = await claimOnce(models.OutboxClaim, { _id: `${row._id}:${n}`, at: now() });
      if (claim.won) {
        if (n > row.attempts)
          log.warn(
            { event: 'outbox.recovered', id: String(row._id), interrupted: n - row.attempts, attempt: n },
            'taking over an interrupted delivery',
          );
        return n;
      }
      if (!claim.existing || now().getTime() - claim.existing.at.getTime() <= CLAIM_LIFETIME_MS) return undefined;
    }
    return undefined;
  }

  async function deliver(id: string): Promise<'sent' | 'retry' | 'dead' | 'skipped'> {
    const row = (await models.Outbox.findById(id).lean()) as OutboxDoc | null;
    if (!row || row.status !== 'pending') return 'skipped';
    const deliverer = deliverers[row.channel as 'slack' | 'email'];
    if (!deliverer) return 'skipped';
    if (row.nextAttemptAt.getTime() > now().getTime() + 500) return 'skipped';
    const attempt = await claimAttempt(row);
    if (attempt === undefined) return 'skipped';
    const attempts = attempt + 1;
    try {
      const result = (await deliverer(row, { number: attempt })) ?? {};
      await models.Outbox.updateOne({ _id: row._id }, { $set: { status: 'sent', sentAt: now(), result, attempts } });
      log.info({ event: 'outbox.sent', id, channel: row.channel, key: row.key, lane: row.lane, attempts }, 'delivered');
      return 'sent';
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message);
      const dead = e.opts.permanent === true || attempts >= MAX_ATTEMPTS;
      const nextAttemptAt = new Date(now().getTime() + retryDelayMs(e, attempt, { settle }));
      await models.Outbox.updateOne(
        { _id: row._id },
        { $set: { status: dead ? 'dead' : 'pending', attempts, nextAttemptAt, lastError: e.message.slice(0, 500) } },
      );
      if (dead) {
        log.error(
          { event: 'outbox.dead', id, channel: row.channel, key: row.key, err: e.message },
          'delivery gave up; kept for review',
        );
        return 'dead';
      }
      log.warn(
        {
          event: 'outbox.retry',
          id,
          channel: row.channel,
          lane: row.lane,
          attempts,
          retryAt: nextAttemptAt.toISOString(),
          err: e.message,
        },
        'delivery failed; will retry',
      );
      await scheduler.at(nextAttemptAt, DELIVER_JOB, { id, lane: row.lane ?? 'interactive' });
      return 'retry';
    }
  }

  const deliverSoon = (id: string, lane: OutboxLane): boolean => lanes[lane].run(id, () => deliver(id));

  /**
   * Hands rows no process is working on (a crash after writing the row, a lost retry job) to the
   * lanes, interactive rows first, so a bulk backlog never hides them; `graceMs` 0 at start-up.
   * Returns how many were handed over (a row already in a lane is not handed twice).
   */
  async function sweep(graceMs = 30_000): Promise<number> {
    const channels = Object.keys(deliverers) as ('slack' | 'email')[];
    const due = {
      status: 'pending' as const,
      channel: { $in: channels },
      nextAttemptAt: { $lte: new Date(now().getTime() - graceMs) },
    };
    let handed = 0;
    for (const lane of ['interactive', 'bulk'] as const) {
      // Rows written before lanes existed have none; they count as interactive.
      const rows = await models.Outbox.find({ ...due, lane: lane === 'bulk' ? 'bulk' : { $ne: 'bulk' } })
        .select({ _id: 1 })
        .sort({ nextAttemptAt: 1 })
        .limit(SWEEP_BATCH)
        .lean();
      for (const row of rows) if (deliverSoon(String(row._id), lane)) handed += 1;
    }
    return handed;
  }

  async function backlog(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const channel of ['slack', 'email'] as const)
      result[channel] = await models.Outbox.countDocuments({ status: 'pending', channel });
    return result;
  }

  return { deliver, deliverSoon, sweep, backlog };
}
