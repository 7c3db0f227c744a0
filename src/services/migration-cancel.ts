/**
 * The C4S plan's cancellation on a migration, when its time comes: billing's "Confirm & schedule"
 * (services/migrations.ts) schedules it for 00:00 TZ_BILLING on the day before the Enterprise
 * start, and due work runs it (src/jobs/index.ts) in any process, any number of times, late rather
 * than never. The effect is guarded by inserting `cancel:<ref>` into `migration_effects` (unique
 * `_id`), so it happens once however many run it.
 */
import { claimOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import { formatInstant } from '../domain/dates.js';
import { formatDuration } from '../domain/durations.js';
import { BillingUnavailable, type Clock, type MigrationJobs, type Outbox } from './ports.js';

/** How long a run may take; a claim older than this with no result was abandoned. */
export const CANCEL_RUN_MS = 60_000;

export type CancelOutcome = 'cancelled' | 'already_done' | 'stale' | 'retry_later';

/** Cancels the C4S plan in the billing system, once per key (services.plans.cancelC4sPlan). */
export type C4sCanceller = (input: {
  key: string;
  accountId: string;
  at: Date;
  ref: string;
}) => Promise<{ first: boolean; via?: string }>;

/** How long to wait before asking an unavailable billing system again. */
export const BILLING_RETRY_MS = 60_000;

export interface MigrationCancelDeps {
  models: Models;
  outbox: Outbox;
  log: Logger;
  /** The cancellation's due work: a billing outage arms it again. */
  jobs: MigrationJobs;
  /** The billing system's side of the cancellation. */
  cancelPlan: C4sCanceller;
  /** This process's name, recorded on the claim. */
  processName?: string | undefined;
  /** TZ_BILLING: the history line names the cancellation's time as billing reads it. */
  timeZone?: string;
  now?: Clock['now'];
}

/**
 * Claims the effect for this run. A claim already there means it ran or is running, unless it is
 * older than a run may take and its ticket was never written: then the process that made it died
 * half-way (the row is taken over once its claim is stale), and this run finishes the work.
 */
async function claim(
  deps: MigrationCancelDeps,
  log: Logger,
  ref: string,
  at: Date,
): Promise<{ at: Date; repair: boolean } | undefined> {
  const { models } = deps;
  const got = await claimOnce(models.MigrationEffect, {
    _id: `cancel:${ref}`,
    ref,
    at,
    ...(deps.processName ? { by: deps.processName } : {}),
  });
  if (got.won) return { at, repair: false };
  const existing = got.existing;
  if (!existing || at.getTime() - existing.at.getTime() < CANCEL_RUN_MS) return undefined;
  log.warn(
    { event: 'migration.cancel_repair', ref, claimedAt: existing.at.toISOString(), by: existing.by },
    'finishing a cancellation an earlier run left half-done',
  );
  return { at: existing.at, repair: true };
}

/**
 * Cancels the C4S plan of ticket `ref`, scheduled for `runAt` (ISO, as its due row says): billing
 * first (once per key), then the claim, the ticket's history line and the cards' updates.
 */
export async function cancelC4s(
  deps: MigrationCancelDeps,
  data: { ref: string; runAt: string },
): Promise<CancelOutcome> {
  const { models, outbox } = deps;
  const log = deps.log.child({ component: 'migration-cancel' });
  const now = () => deps.now?.() ?? new Date();
  const ref = data.ref;
  const runAt = new Date(data.runAt);
  const ticket = await models.Ticket.findById(ref).lean();
  const m = ticket?.migration;
  if (m?.c4sCancelledAt) return 'already_done';
  // Work left by a confirmation that lost a race, or one withdrawn meanwhile, is not the ticket's plan.
  if (!m || m.cancelAt?.getTime() !== runAt.getTime()) {
    log.warn(
      { event: 'migration.cancel_stale', ref, runAt: data.runAt, stage: m?.stage },
      'cancellation does not match the ticket; skipped',
    );
    return 'stale';
  }
  const accountId = m.accountId ?? ticket?.accountId;
  if (!accountId) {
    log.error(
      { event: 'migration.cancel_no_account', ref },
      'migration has no account ID; the C4S plan cannot be cancelled',
    );
    return 'stale';
  }
  let via: string | undefined;
  try {
    via = (await deps.cancelPlan({ key: `c4s-cancel:${ref}`, accountId, at: runAt, ref })).via;
  } catch (err) {
    if (!(err instanceof BillingUnavailable)) throw err;
    // Late rather than never: the same work again in a minute, still measured against its own time.
    await deps.jobs.retry(ref, new Date(now().getTime() + BILLING_RETRY_MS), { error: err.message, runAt });
    log.warn(
      { event: 'migration.cancel_billing_retry', ref, err: err.message },
      'billing system unavailable; the C4S cancellation will be retried',
    );
    return 'retry_later';
  }
  const claimed = await claim(deps, log, ref, now());
  if (!claimed) return 'already_done';
  const { at, repair } = claimed;
  const lateMs = at.getTime() - runAt.getTime();
  const timing = lateMs >= 0 ? `${formatDuration(lateMs)} after` : `${formatDuration(lateMs)} before`;
  const line = {
    at,
    actor: 'system',
    action: 'c4s_cancelled',
    note: `C4S plan cancelled for ${accountId} in the billing system${via ? ` (${via})` : ''}, ${timing} its time ${formatInstant(runAt, deps.timeZone ?? 'UTC')}`,
  };
  // The line is built from the claim alone, so a repair and a late original write add it once.
  await models.Ticket.updateOne(
    { _id: ref },
    { $set: { 'migration.c4sCancelledAt': at }, $addToSet: { history: line } },
  );
  await outbox.enqueue({
    key: `ticket-card:${ref}:c4s_cancelled`,
    channel: 'slack',
    kind: 'update',
    payload: { type: 'ticket_card', ref },
    ticketRef: ref,
  });
  await outbox.enqueue({
    key: `handoff-update:${ref}:c4s_cancelled`,
    channel: 'slack',
    kind: 'update',
    payload: { type: 'handoff_card', ref },
    ticketRef: ref,
  });
  log.info(
    { event: 'migration.c4s_cancelled', ref, runAt: runAt.toISOString(), lateMs, repair },
    'C4S plan cancellation recorded',
  );
  return 'cancelled';
}
