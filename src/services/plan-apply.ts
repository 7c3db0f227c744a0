/**
 * Plan changes taking effect: the due-work runner's work (through the billing port, once per change,
 * late rather than never), cancelling a scheduled change, the changes the rules schedule by
 * themselves (day 60 of a pause, trial lock and end, backup purge), and the migration flow's C4S
 * cancellation. Every step after the claim is idempotent (billing by key, `$set`, outbox rows by
 * key, history lines by value), so a takeover after a crash repeats nothing visible.
 */
import { backoff, type BackoffPolicy } from '../backoff.js';
import type { AccountDoc } from '../db/models/account.js';
import { BillingUnavailable, type BillingEventType } from './ports.js';
import { addDays, dayIn, formatInstant, localMidnight } from '../domain/dates.js';
import { CHANGE_LABELS, type ChangeType, type SystemChange } from '../domain/plans.js';
import { PRICE_BOOK } from '../domain/price-book.js';
import { formatDuration } from '../domain/durations.js';
import {
  type ApplyOutcome,
  claim,
  emailCustomer,
  freeSlot,
  isRequested,
  noteOnTicket,
  nowOf,
  storeChange,
  type PlanChange,
  type PlanDeps,
} from './plan-store.js';

/** A claim older than this whose change is still not applied belongs to a process that died mid-way. */
const STALE_CLAIM_MS = 2 * 60_000;
/** Billing said "later" (or the database stumbled): 2 s after the first failure, doubling to 15 minutes. */
const BILLING_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 15 * 60_000 };
/** The billing system's event for each change; a region change is not billed. */
const BILLING_TYPE: Record<ChangeType, BillingEventType | undefined> = {
  upgrade: 'upgrade',
  downgrade: 'downgrade',
  addon_add: 'addon_add',
  addon_remove: 'addon_remove',
  pause: 'pause',
  reactivate: 'reactivate',
  cancel: 'delete_account',
  region: undefined,
  pause_delete: 'delete_account',
  trial_lock: 'trial_lock',
  trial_end: 'trial_end',
  backup_purge: 'backup_purge',
};

/** What the account becomes when a change is applied, with the rules that depend on its state then. */
function effectOf(
  change: PlanChange,
  account: AccountDoc,
  at: Date,
): { set: Record<string, unknown>; unset: Record<string, ''> } {
  const set = { ...((change.set ?? {}) as Record<string, unknown>) };
  const unset: Record<string, ''> = {};
  switch (change.type as ChangeType) {
    case 'reactivate':
      unset.pausedOn = '';
      unset.deletionDueAt = '';
      break;
    case 'cancel':
    case 'pause_delete':
      set.status = 'cancelled';
      set.deletedAt = at;
      break;
    case 'trial_lock':
      if (account.status === 'trial' && !account.billingDetailsComplete) set.status = 'locked';
      break;
    case 'trial_end':
      // With billing details the account becomes paying from today; without, it stays locked.
      if (account.status === 'trial' || account.status === 'locked') {
        Object.assign(
          set,
          account.billingDetailsComplete
            ? { status: 'active', billingAnchor: change.effectiveDay }
            : { status: 'locked' },
        );
      }
      break;
    default:
      break;
  }
  return { set, unset };
}

/**
 * Applies a change once. Called at once for immediate changes and by the due-work runner for
 * scheduled ones (in any process, any number of times). A billing outage frees the guard and
 * arms the change's due row again with back-off: the change is applied later, never lost.
 */
export async function applyChange(deps: PlanDeps, changeId: string): Promise<ApplyOutcome> {
  const log = deps.log.child({ component: 'plans' });
  const change = await deps.models.PlanChange.findById(changeId).lean<PlanChange>();
  if (!change) {
    log.warn({ event: 'plan.change_missing', changeId }, 'job for a change that does not exist; skipped');
    return 'missing';
  }
  if (change.status === 'cancelled') return 'cancelled';
  if (change.status === 'applied') return 'already_done';
  const at = nowOf(deps);
  const got = await claim(deps, changeId, 'applied', at);
  if (!got.won) {
    if (got.existing?.outcome === 'cancelled') return 'cancelled';
    const stale = got.existing && at.getTime() - got.existing.at.getTime() > STALE_CLAIM_MS;
    if (!stale) return 'already_done'; // applied, or being applied by another process right now
    log.warn({ event: 'plan.claim_taken_over', changeId }, 'resuming a change whose process stopped half-way');
  }
  const account = await deps.models.Account.findById(change.accountId).lean<AccountDoc>();
  if (!account) {
    log.error({ event: 'plan.account_missing', changeId, accountId: change.accountId }, 'account of a change is gone');
    return 'missing';
  }

  const claimedAt = got.won ? at : got.existing!.at;
  try {
    return await carryOut(deps, change, account, at, claimedAt);
  } catch (err) {
    // Billing said "later", or the database stumbled half-way: free the guard (so the retry, or a
    // cancellation meanwhile, can take it) and try again later. Every step is idempotent.
    const attempts = (change.billingAttempts ?? 0) + 1;
    const retryAt = new Date(at.getTime() + backoff(attempts, BILLING_BACKOFF));
    await deps.models.PlanEffect.deleteOne({ _id: changeId, outcome: 'applied' });
    await deps.models.PlanChange.updateOne(
      { _id: changeId },
      { $set: { billingAttempts: attempts, lastBillingError: (err as Error).message } },
    );
    await deps.jobs.retry(changeId, retryAt, (err as Error).message);
    const event = err instanceof BillingUnavailable ? 'plan.billing_retry' : 'plan.apply_retry';
    log.warn(
      { event, changeId, attempts, retryAt: retryAt.toISOString(), err: (err as Error).message },
      'change not applied yet; will be retried',
    );
    return 'retry';
  }
}

/** The steps of applying a change, each idempotent; throws to have the change retried. */
async function carryOut(
  deps: PlanDeps,
  change: PlanChange,
  account: AccountDoc,
  at: Date,
  claimedAt: Date,
): Promise<ApplyOutcome> {
  const log = deps.log.child({ component: 'plans' });
  const changeId = change._id;
  const billingType = BILLING_TYPE[change.type as ChangeType];
  if (billingType) {
    await deps.billing.apply({
      key: change._id,
      accountId: change.accountId,
      type: billingType,
      at: change.dueAt,
      amountCents: change.amountCents ?? undefined,
      details: {
        change: change.type,
        effectiveDay: change.effectiveDay,
        fromTier: change.fromTier ?? null,
        tier: typeof change.set?.tier === 'string' ? change.set.tier : null,
        addons: Array.isArray(change.set?.addons) ? (change.set.addons as string[]) : null,
        reason: change.reason ?? null,
      },
    });
  }

  const { set, unset } = effectOf(change, account, at);
  if (Object.keys(set).length + Object.keys(unset).length > 0) {
    await deps.models.Account.updateOne(
      { _id: account._id },
      { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) },
    );
  }
  const lateMs = Math.max(0, at.getTime() - change.dueAt.getTime());

  // Follow-ups the rules attach (deletion on day 60 of a pause, backup purge after a deletion).
  const follows = ((change.follows ?? []) as { type: SystemChange; dueAt: Date; day: string }[]).slice();
  if (change.type === 'pause_delete') {
    const { day, dueAt } = purgeDate(deps, at);
    follows.push({ type: 'backup_purge', dueAt, day });
  }
  for (const f of follows) {
    await storeChange(
      deps,
      {
        _id: `${change._id}:${f.type}`,
        account,
        type: f.type,
        dueAt: new Date(f.dueAt),
        effectiveDay: f.day,
        set: {},
        summary: `${CHANGE_LABELS[f.type]} on ${formatInstant(new Date(f.dueAt), deps.timeZone)}`,
        requestedBy: 'system',
        ticketRef: change.ticketRef ?? undefined,
        parentId: change._id,
      },
      { schedule: true },
    );
  }

  const timing =
    lateMs >= 1000
      ? `${formatDuration(lateMs)} after its time ${formatInstant(change.dueAt, deps.timeZone)}`
      : 'on time';
  await noteOnTicket(deps, change.ticketRef, changeId, {
    at: claimedAt,
    actor: 'system',
    action: `plan_${change.type}_applied`,
    note: `${CHANGE_LABELS[change.type as ChangeType]} applied, ${timing}: ${change.summary}`,
  });
  const applied = { ...change, status: 'applied' } as PlanChange;
  if (isRequested(change.type) || change.type === 'pause_delete')
    await emailCustomer(deps, applied, account, 'applied');
  await freeSlot(deps, change);
  // Marked applied last: "applied" means every step above is done (a takeover redoes only idempotent steps).
  await deps.models.PlanChange.updateOne(
    { _id: changeId },
    {
      $set: { status: 'applied', appliedAt: at, lateMs, ...(deps.processName ? { appliedBy: deps.processName } : {}) },
    },
  );
  log.info(
    { event: 'plan.applied', changeId, type: change.type, accountId: change.accountId, lateMs, by: deps.processName },
    'plan change applied',
  );
  return 'applied';
}

/**
 * The safety net behind the due rows: a change still scheduled well after its time whose row is
 * missing (a write lost to a crash or a race) gets it back, so the runner applies it, late rather
 * than never. A change whose row is there (waiting for billing, or in a long queue) is left alone.
 */
export async function sweepOverdue(deps: PlanDeps, graceMs = 2 * 60_000): Promise<number> {
  const cutoff = new Date(nowOf(deps).getTime() - graceMs);
  const overdue = await deps.models.PlanChange.find({ status: 'scheduled', dueAt: { $lt: cutoff } })
    .sort({ dueAt: 1 })
    .limit(200)
    .select({ _id: 1, dueAt: 1 })
    .lean<{ _id: string; dueAt: Date }[]>();
  let rearmed = 0;
  for (const { _id, dueAt } of overdue) if (await deps.jobs.ensure(_id, dueAt)) rearmed += 1;
  if (rearmed > 0)
    deps.log.warn(
      { event: 'plan.sweep', overdue: overdue.length, rearmed },
      'overdue plan changes without a due row armed again',
    );
  return rearmed;
}

/** Backups of a deleted account are purged at 00:00 TZ_BILLING on the 60th day after the deletion day: within 60 days. */
function purgeDate(deps: PlanDeps, at: Date) {
  const day = addDays(dayIn(deps.timeZone, at), PRICE_BOOK.backupPurgeDays);
  return { day, dueAt: localMidnight(day, deps.timeZone) };
}

/**
 * Cancels a pending change: its guard is taken as `cancelled`, its due row removed. Returns what the
 * change had become instead when it was too late (already applied, or being applied). `why` goes
 * on the history; `customerWhy`, when the history's words name staff, is what the customer reads.
 */
export async function cancelChange(
  deps: PlanDeps,
  change: PlanChange,
  actor: string,
  why: string,
  customerWhy: string = why,
): Promise<'cancelled' | 'already_applied' | 'already_cancelled'> {
  const at = nowOf(deps);
  const got = await claim(deps, change._id, 'cancelled', at);
  if (!got.won && got.existing?.outcome === 'applied') return 'already_applied';
  await deps.jobs.unschedule(change._id);
  await deps.models.PlanChange.updateOne(
    { _id: change._id },
    { $set: { status: 'cancelled', cancelledAt: got.won ? at : got.existing!.at, cancelledBy: actor } },
  );
  await freeSlot(deps, change);
  if (!got.won) return 'already_cancelled';
  await noteOnTicket(deps, change.ticketRef, change._id, {
    at,
    actor,
    action: `plan_${change.type}_cancelled`,
    note: `${CHANGE_LABELS[change.type as ChangeType]} cancelled (${why}): ${change.summary}`,
  });
  const account = await deps.models.Account.findById(change.accountId).lean<AccountDoc>();
  if (account && (isRequested(change.type) || change.type === 'pause_delete'))
    await emailCustomer(deps, { ...change, status: 'cancelled' } as PlanChange, account, 'cancelled', {
      why: customerWhy,
    });
  deps.log.info(
    { event: 'plan.cancelled', changeId: change._id, type: change.type, accountId: change.accountId, actor },
    'plan change cancelled',
  );
  return 'cancelled';
}

/** Schedules a change the rules make (trial lock and end at account creation). */
export async function scheduleSystemChange(
  deps: PlanDeps,
  account: AccountDoc,
  type: SystemChange,
  dueAt: Date,
  day: string,
): Promise<PlanChange> {
  const { change } = await storeChange(
    deps,
    {
      _id: `${account._id}:${type}:${day}`,
      account,
      type,
      dueAt,
      effectiveDay: day,
      set: {},
      summary: `${CHANGE_LABELS[type]} on ${formatInstant(dueAt, deps.timeZone)}`,
      requestedBy: 'system',
    },
    { schedule: true },
  );
  return change;
}

/**
 * For the migration flow: the C4S plan's cancellation through the billing port, once per key, and
 * the account marked `migrated` (when the bot knows it). Throws BillingUnavailable to be retried.
 */
export async function cancelC4sPlan(
  deps: PlanDeps,
  input: { key: string; accountId: string; at: Date; ref?: string },
): Promise<{ first: boolean; via: string }> {
  const res = await deps.billing.apply({
    key: input.key,
    accountId: input.accountId,
    type: 'c4s_cancel',
    at: input.at,
    details: { ref: input.ref ?? null },
  });
  await deps.models.Account.updateOne({ _id: input.accountId }, { $set: { status: 'migrated' } });
  return { first: res.first, via: res.via };
}
