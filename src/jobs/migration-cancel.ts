/**
 * The C4S plan's cancellation on a migration, scheduled by billing's "Confirm & schedule" for 00:00
 * TZ_BILLING on the day before the Enterprise start. It is a due row `c4s:<ref>` (jobs/due-work.ts),
 * so it survives restarts and, when the bot was down at its time, runs as soon as a process starts.
 * Every process registers it; the effect is guarded by inserting `cancel:<ref>` into
 * `migration_effects` (unique `_id`), so it happens once however many run it.
 */
import { claimOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import type { Outbox } from '../services/outbox.js';
import { BillingUnavailable } from '../billing/port.js';
import { formatInstant } from '../domain/dates.js';
import type { DueWork } from './due-work.js';
import type { JobData, Scheduler } from './scheduler.js';

export const C4S_DUE_KIND = 'c4s';
/** The Agenda job it was before due rows; documents of it may still be in a database, and still run. */
export const CANCEL_C4S_JOB = 'migration.cancel_c4s';
/** How long a run may take; a claim older than this with no result was abandoned. */
const LOCK_LIFETIME_MS = 60_000;

/** What the migration service needs of the scheduler: one due row per ticket, replaced or removed. */
export interface MigrationJobs {
  /** Schedules the cancellation for `ref` at `runAt`, replacing any earlier one for that ticket. */
  schedule(ref: string, runAt: Date): Promise<void>;
  /** Removes the ticket's scheduled cancellation; returns how many were removed. */
  unschedule(ref: string): Promise<number>;
}

export type CancelOutcome = 'cancelled' | 'already_done' | 'stale' | 'retry_later';

/** Cancels the C4S plan in the billing system, once per key (services.plans.cancelC4sPlan). */
export type C4sCanceller = (input: { key: string; accountId: string; at: Date; ref: string }) => Promise<{ first: boolean; via?: string }>;

/** How long to wait before asking an unavailable billing system again. */
export const BILLING_RETRY_MS = 60_000;

export interface MigrationCancelJob extends MigrationJobs {
  /** The due row's handler, exposed so tests can run it as several processes would. */
  run(data: JobData): Promise<CancelOutcome>;
  /** Binds the billing system call (the plan service is built after the job). */
  useBilling(cancel: C4sCanceller): void;
}

/** `90061000` → `1d 1h 1m 1s`; under a second → `0s`. */
export function formatDuration(ms: number): string {
  let s = Math.floor(Math.abs(ms) / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join(' ');
}

export function createMigrationCancelJob(deps: {
  models: Models;
  scheduler: Scheduler;
  due: DueWork;
  outbox: Outbox;
  log: Logger;
  /** This process's name in job locks, recorded on the claim. */
  processName?: string;
  /** TZ_BILLING: the history line names the cancellation's time as billing reads it. */
  timeZone?: string;
  now?: () => Date;
}): MigrationCancelJob {
  const { models, scheduler, due, outbox } = deps;
  const log = deps.log.child({ component: 'migration-cancel' });
  const now = () => deps.now?.() ?? new Date();
  let canceller: C4sCanceller | undefined;

  const unschedule = (ref: string) => due.cancel(C4S_DUE_KIND, ref);
  const schedule = (ref: string, runAt: Date) => due.schedule(C4S_DUE_KIND, ref, runAt, { runAt: runAt.toISOString() });

  /**
   * Claims the effect for this run. A claim already there means it ran or is running, unless it is
   * older than a run may take and its ticket was never written: then the process that made it died
   * half-way (the row is taken over once its claim is stale), and this run finishes the work.
   */
  async function claim(ref: string, at: Date): Promise<{ at: Date; repair: boolean } | undefined> {
    const got = await claimOnce(models.MigrationEffect, { _id: `cancel:${ref}`, ref, at, ...(deps.processName ? { by: deps.processName } : {}) });
    if (got.won) return { at, repair: false };
    const existing = got.existing;
    if (!existing || at.getTime() - existing.at.getTime() < LOCK_LIFETIME_MS) return undefined;
    log.warn({ event: 'migration.cancel_repair', ref, claimedAt: existing.at.toISOString(), by: existing.by }, 'finishing a cancellation an earlier run left half-done');
    return { at: existing.at, repair: true };
  }

  async function run(data: JobData): Promise<CancelOutcome> {
    const ref = String(data.ref);
    const runAt = new Date(String(data.runAt));
    const ticket = await models.Ticket.findById(ref).lean();
    const m = ticket?.migration;
    if (m?.c4sCancelledAt) return 'already_done';
    // Work left by a confirmation that lost a race, or one withdrawn meanwhile, is not the ticket's plan.
    if (!m || m.cancelAt?.getTime() !== runAt.getTime()) {
      log.warn({ event: 'migration.cancel_stale', ref, runAt: String(data.runAt), stage: m?.stage }, 'cancellation does not match the ticket; skipped');
      return 'stale';
    }
    const accountId = m.accountId ?? ticket?.accountId;
    if (!canceller) throw new Error('the C4S cancellation ran before the billing port was bound');
    if (!accountId) {
      log.error({ event: 'migration.cancel_no_account', ref }, 'migration has no account ID; the C4S plan cannot be cancelled');
      return 'stale';
    }
    let via: string | undefined;
    try {
      via = (await canceller({ key: `c4s-cancel:${ref}`, accountId, at: runAt, ref })).via;
    } catch (err) {
      if (!(err instanceof BillingUnavailable)) throw err;
      // Late rather than never: the same work again in a minute, still measured against its own time.
      await due.retry(C4S_DUE_KIND, ref, new Date(now().getTime() + BILLING_RETRY_MS), { error: err.message, data: { runAt: runAt.toISOString() } });
      log.warn({ event: 'migration.cancel_billing_retry', ref, err: err.message }, 'billing system unavailable; the C4S cancellation will be retried');
      return 'retry_later';
    }
    const claimed = await claim(ref, now());
    if (!claimed) return 'already_done';
    const { at, repair } = claimed;
    const lateMs = at.getTime() - runAt.getTime();
    const timing = lateMs >= 0 ? `${formatDuration(lateMs)} after` : `${formatDuration(lateMs)} before`;
    const line = { at, actor: 'system', action: 'c4s_cancelled', note: `C4S plan cancelled for ${accountId} in the billing system${via ? ` (${via})` : ''}, ${timing} its time ${formatInstant(runAt, deps.timeZone ?? 'UTC')}` };
    // The line is built from the claim alone, so a repair and a late original write add it once.
    await models.Ticket.updateOne({ _id: ref }, { $set: { 'migration.c4sCancelledAt': at }, $addToSet: { history: line } });
    await outbox.enqueue({ key: `ticket-card:${ref}:c4s_cancelled`, channel: 'slack', kind: 'update', payload: { type: 'ticket_card', ref }, ticketRef: ref });
    await outbox.enqueue({ key: `handoff-update:${ref}:c4s_cancelled`, channel: 'slack', kind: 'update', payload: { type: 'handoff_card', ref }, ticketRef: ref });
    log.info({ event: 'migration.c4s_cancelled', ref, runAt: runAt.toISOString(), lateMs, repair }, 'C4S plan cancellation recorded');
    return 'cancelled';
  }

  due.register(C4S_DUE_KIND, (row) => run({ ref: row.key, runAt: String(row.data.runAt ?? row.dueAt.toISOString()) }));
  scheduler.define(CANCEL_C4S_JOB, async (data) => void (await run(data)), { concurrency: 5, lockLifetimeMs: LOCK_LIFETIME_MS });
  return {
    schedule,
    unschedule,
    run,
    useBilling(cancel) {
      canceller = cancel;
    },
  };
}
