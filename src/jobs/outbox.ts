/**
 * Delivers outbox rows. Each attempt is claimed by inserting `<row>:<attempt>` under a unique
 * index, so two processes (or a job Agenda ran twice) never send the same attempt twice. Failures
 * are retried later; Slack's 429 Retry-After sets the delay. Nothing is dropped: a row that can
 * never be delivered is marked dead and kept for review.
 */
import { backoff } from '../backoff.js';
import type { Models } from '../db/models.js';
import { isDuplicateKey } from '../db/models.js';
import type { OutboxDoc } from '../db/models/outbox.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { DELIVER_JOB } from '../services/outbox.js';
import type { Scheduler } from './scheduler.js';

export const SWEEP_JOB = 'outbox.sweep';

/** A deliverer sends one row and returns what to remember (e.g. Slack's ts). */
export type Deliverer = (row: OutboxDoc) => Promise<Record<string, unknown> | void>;

/** Thrown by deliverers: `retryAfterMs` when the far side said when; `permanent` when retrying cannot help. */
export class DeliveryError extends Error {
  constructor(message: string, readonly opts: { retryAfterMs?: number; permanent?: boolean } = {}) {
    super(message);
    this.name = 'DeliveryError';
  }
}

const MAX_ATTEMPTS = 200;
/** A claim older than this with the row still pending means its process died mid-send. */
const STALE_CLAIM_MS = 5 * 60 * 1000;

export function backoffMs(attempts: number): number {
  return backoff(attempts, 2000, 10 * 60 * 1000);
}

export interface OutboxWorker {
  deliver(id: string): Promise<'sent' | 'retry' | 'dead' | 'skipped'>;
  sweep(graceMs?: number): Promise<number>;
  backlog(): Promise<Record<string, number>>;
}

export function createOutboxWorker(deps: {
  models: Models;
  scheduler: Scheduler;
  deliverers: Partial<Record<'slack' | 'email', Deliverer>>;
  log: Logger;
  metrics?: Metrics;
  now?: () => Date;
}): OutboxWorker {
  const { models, scheduler, deliverers } = deps;
  const log = deps.log.child({ component: 'outbox' });
  const now = () => deps.now?.() ?? new Date();

  async function recoverStaleClaim(row: OutboxDoc): Promise<void> {
    const claim = await models.OutboxClaim.findById(`${row._id}:${row.attempts}`).lean();
    if (claim && now().getTime() - claim.at.getTime() > STALE_CLAIM_MS) {
      await models.Outbox.updateOne({ _id: row._id, attempts: row.attempts, status: 'pending' }, { $inc: { attempts: 1 }, $set: { lastError: 'delivery interrupted' } });
      log.warn({ event: 'outbox.recovered', id: String(row._id), attempt: row.attempts }, 'interrupted delivery will be retried');
    }
  }

  async function deliver(id: string): Promise<'sent' | 'retry' | 'dead' | 'skipped'> {
    const row = (await models.Outbox.findById(id).lean()) as OutboxDoc | null;
    if (!row || row.status !== 'pending') return 'skipped';
    const deliverer = deliverers[row.channel as 'slack' | 'email'];
    if (!deliverer) return 'skipped';
    if (row.nextAttemptAt.getTime() > now().getTime() + 500) return 'skipped';
    try {
      await models.OutboxClaim.create({ _id: `${row._id}:${row.attempts}`, at: now() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await recoverStaleClaim(row);
      return 'skipped';
    }
    try {
      const result = (await deliverer(row)) ?? {};
      await models.Outbox.updateOne({ _id: row._id }, { $set: { status: 'sent', sentAt: now(), result, attempts: row.attempts + 1 } });
      log.info({ event: 'outbox.sent', id, channel: row.channel, key: row.key, attempts: row.attempts + 1 }, 'delivered');
      return 'sent';
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error).message);
      const attempts = row.attempts + 1;
      const dead = e.opts.permanent === true || attempts >= MAX_ATTEMPTS;
      const nextAttemptAt = new Date(now().getTime() + (e.opts.retryAfterMs ?? backoffMs(row.attempts)));
      await models.Outbox.updateOne(
        { _id: row._id },
        { $set: { status: dead ? 'dead' : 'pending', attempts, nextAttemptAt, lastError: e.message.slice(0, 500) } },
      );
      if (dead) {
        log.error({ event: 'outbox.dead', id, channel: row.channel, key: row.key, err: e.message }, 'delivery gave up; kept for review');
        return 'dead';
      }
      log.warn({ event: 'outbox.retry', id, channel: row.channel, attempts, retryAt: nextAttemptAt.toISOString(), err: e.message }, 'delivery failed; will retry');
      await scheduler.at(nextAttemptAt, DELIVER_JOB, { id });
      return 'retry';
    }
  }

  /** Picks up rows no process is working on (a crash after writing the row); `graceMs` 0 at start-up. */
  async function sweep(graceMs = 30_000): Promise<number> {
    const channels = Object.keys(deliverers) as ('slack' | 'email')[];
    const due = await models.Outbox.find({ status: 'pending', channel: { $in: channels }, nextAttemptAt: { $lte: new Date(now().getTime() - graceMs) } })
      .sort({ nextAttemptAt: 1 })
      .limit(200)
      .lean();
    let sent = 0;
    for (const row of due) if ((await deliver(String(row._id))) === 'sent') sent += 1;
    return sent;
  }

  async function backlog(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const channel of ['slack', 'email'] as const) result[channel] = await models.Outbox.countDocuments({ status: 'pending', channel });
    return result;
  }

  scheduler.define(DELIVER_JOB, async (data) => void (await deliver(String(data.id))), { concurrency: 10, lockLifetimeMs: 60_000 });
  scheduler.define(SWEEP_JOB, async () => void (await sweep()), { concurrency: 1, lockLifetimeMs: 120_000 });
  return { deliver, sweep, backlog };
}
