/**
 * What a requested plan change does to an account (CONTRACT.md, "Plan changes"): at once, later,
 * a refusal, or an Enterprise lead for sales. One small rule per change type, in `RULES`; the
 * refusals every change shares (cancelled, migrated, paused, Enterprise) come first. No I/O:
 * services feed in the account and the time.
 */
import { addDays, dayIn, formatInstant, localMidnight, type IsoDate } from './dates.js';
import { currentPeriod, prorationFor, type Proration } from './plan-periods.js';
import { addonById, addonLabel, formatCents, PRICE_BOOK, reasonLabel, tierIndex, tierLabel } from './price-book.js';
import type { AccountState, RequestedChange, SystemChange } from './plans.js';

export interface PlanRequest {
  type: RequestedChange;
  tier?: string | undefined;
  addon?: string | undefined;
  reason?: string | undefined;
  /** What was typed to confirm a cancellation; must be exactly `DELETE`. */
  confirm?: string | undefined;
  region?: string | undefined;
}

/** The modal field a refusal belongs to, so it shows inline. */
export type PlanField = 'account_id' | 'change_type' | 'target_tier' | 'addon' | 'reason' | 'confirm_delete' | 'region';

export type FollowUp = { type: SystemChange; dueAt: Date; day: IsoDate };

export type Decision =
  | { outcome: 'refused'; field: PlanField; message: string }
  /** Not self-serve: a ticket for sales (Enterprise lead); the account is not changed. */
  | { outcome: 'lead'; message: string }
  | {
      outcome: 'change';
      /** `now`, or the instant the job applies it. */
      dueAt: Date | 'now';
      /** The billing day it takes effect. */
      effectiveDay: IsoDate;
      /** What the account becomes (only the fields that change). */
      set: Partial<AccountState>;
      proration?: Proration;
      /** Follow-up changes the rules schedule (deletion 60 days after a pause…). */
      follows: FollowUp[];
      /** Sentence for people: what happens and when. */
      summary: string;
      /** An upgrade cancels the pending downgrade. */
      cancelsPendingDowngrade: boolean;
    };

export interface DecisionContext {
  now: Date;
  timeZone: string;
  /** The account's scheduled downgrade, if any. */
  pendingDowngrade?: { dueAt: Date; tier: string } | undefined;
}

/** What every rule is given: the context, today in TZ_BILLING, and the instant a day begins. */
interface RuleContext extends DecisionContext {
  today: IsoDate;
  at: (day: IsoDate) => Date;
}
type Rule = (account: AccountState, request: PlanRequest, ctx: RuleContext) => Decision;
type Change = Extract<Decision, { outcome: 'change' }>;

const refuse = (field: PlanField, message: string): Decision => ({ outcome: 'refused', field, message });
const isTrialLike = (a: AccountState) => a.status === 'trial' || a.status === 'locked';
/** A change; effective today and at once unless the rule says otherwise. */
const change = (ctx: RuleContext, fields: Pick<Change, 'set' | 'summary'> & Partial<Change>): Decision => ({
  outcome: 'change',
  dueAt: 'now',
  effectiveDay: ctx.today,
  follows: [],
  cancelsPendingDowngrade: false,
  ...fields,
});

function statusRefusal(account: AccountState, type: RequestedChange): Decision | undefined {
  if (account.status === 'cancelled')
    return refuse('account_id', `${account.id} was cancelled and its data deleted; nothing can be changed.`);
  if (account.status === 'migrated')
    return refuse('account_id', `${account.id} has moved to Enterprise; sales manages its plan.`);
  if (account.status === 'paused' && type !== 'reactivate' && type !== 'cancel') {
    return refuse(
      'change_type',
      `${account.id} is paused. It must be reactivated (through a support ticket) before its plan can change.`,
    );
  }
  if (account.plan === 'enterprise' && type !== 'cancel')
    return refuse(
      'change_type',
      `${account.id} is on an Enterprise plan, which sales manages; self-serve changes do not apply.`,
    );
  return undefined;
}

const upgrade: Rule = (account, request, ctx) => {
  if (!request.tier) return refuse('target_tier', 'Pick the tier to upgrade to.');
  if (request.tier === 'enterprise') {
    return {
      outcome: 'lead',
      message: `Above ${PRICE_BOOK.selfServeMaxMau.toLocaleString('en-US')} MAU is not self-serve: ${account.id} was passed to sales as an Enterprise lead. The plan is unchanged.`,
    };
  }
  const to = tierIndex(request.tier);
  if (to < 0) return refuse('target_tier', `There is no tier "${request.tier}".`);
  if (to <= tierIndex(account.tier))
    return refuse(
      'target_tier',
      `${tierLabel(request.tier)} is not above the current ${tierLabel(account.tier)}; use a downgrade instead.`,
    );
  const proration = prorationFor(account, { tier: request.tier, addons: account.addons }, ctx.today);
  const pending = ctx.pendingDowngrade;
  const charge = isTrialLike(account)
    ? 'no charge during the trial'
    : `${formatCents(proration.totalCents)} prorated for the ${proration.remainingDays} of ${proration.periodDays} days left until ${proration.periodEnd}`;
  const cancelled = pending
    ? ` This cancels the downgrade to ${tierLabel(pending.tier)} scheduled for ${formatInstant(pending.dueAt, ctx.timeZone)}.`
    : '';
  return change(ctx, {
    set: { tier: request.tier },
    proration,
    cancelsPendingDowngrade: pending !== undefined,
    summary: `Upgrade to ${tierLabel(request.tier)} at once (${ctx.today}); ${charge}.${cancelled}`,
  });
};

const downgrade: Rule = (account, request, ctx) => {
  if (!request.tier) return refuse('target_tier', 'Pick the tier to downgrade to.');
  const to = tierIndex(request.tier);
  if (to < 0)
    return refuse(
      'target_tier',
      `${request.tier === 'enterprise' ? 'Enterprise' : `"${request.tier}"`} is not a tier one can downgrade to.`,
    );
  if (to >= tierIndex(account.tier))
    return refuse(
      'target_tier',
      `${tierLabel(request.tier)} is not below the current ${tierLabel(account.tier)}; a downgrade must go to a lower tier.`,
    );
  if (ctx.pendingDowngrade) {
    return refuse(
      'target_tier',
      `A downgrade to ${tierLabel(ctx.pendingDowngrade.tier)} is already scheduled for ${formatInstant(ctx.pendingDowngrade.dueAt, ctx.timeZone)}. Cancel it from /account first.`,
    );
  }
  if (isTrialLike(account)) {
    return change(ctx, {
      set: { tier: request.tier },
      summary: `Downgrade to ${tierLabel(request.tier)} at once (${ctx.today}): trial accounts change immediately.`,
    });
  }
  // Paid accounts keep what they paid for: the downgrade waits for the next period.
  const { end } = currentPeriod(account.billingAnchor, account.billingPeriod, ctx.today);
  const dueAt = ctx.at(end);
  return change(ctx, {
    dueAt,
    effectiveDay: end,
    set: { tier: request.tier },
    summary: `Downgrade to ${tierLabel(request.tier)} at the start of the next billing period, ${formatInstant(dueAt, ctx.timeZone)}. It can be cancelled until then; an upgrade before then cancels it.`,
  });
};

const addAddon: Rule = (account, request, ctx) => {
  if (!request.addon || !addonById(request.addon)) return refuse('addon', 'Pick an add-on.');
  if (account.addons.includes(request.addon))
    return refuse('addon', `${account.id} already has ${addonLabel(request.addon)}.`);
  const addons = [...account.addons, request.addon];
  const proration = prorationFor(account, { tier: account.tier, addons }, ctx.today);
  const charge = isTrialLike(account)
    ? 'no charge during the trial'
    : `${formatCents(proration.totalCents)} prorated until ${proration.periodEnd}`;
  return change(ctx, {
    set: { addons },
    proration,
    summary: `Add ${addonLabel(request.addon)} at once (${ctx.today}); ${charge}.`,
  });
};

const removeAddon: Rule = (account, request, ctx) => {
  if (!request.addon || !account.addons.includes(request.addon))
    return refuse('addon', `Pick one of the account's add-ons${account.addons.length ? '' : ' (it has none)'}.`);
  if (!request.reason || !PRICE_BOOK.addonRemovalReasons.some((r) => r.id === request.reason))
    return refuse('reason', 'Pick the reason the add-on is removed.');
  const addons = account.addons.filter((a) => a !== request.addon);
  return change(ctx, {
    set: { addons },
    summary: `Remove ${addonLabel(request.addon)} at once (${ctx.today}); it is not billed from the next period, no refund for this one.`,
  });
};

const pause: Rule = (account, _request, ctx) => {
  if (account.status !== 'active')
    return refuse('change_type', `Only active accounts can be paused; ${account.id} is ${account.status}.`);
  if (ctx.pendingDowngrade)
    return refuse(
      'change_type',
      `A downgrade is scheduled for ${formatInstant(ctx.pendingDowngrade.dueAt, ctx.timeZone)}; cancel it from /account before pausing.`,
    );
  const day = addDays(ctx.today, PRICE_BOOK.pauseDays);
  const deleteAt = ctx.at(day);
  return change(ctx, {
    set: { status: 'paused', pausedOn: ctx.today, deletionDueAt: deleteAt },
    follows: [{ type: 'pause_delete', dueAt: deleteAt, day }],
    summary: `Pause at once (${ctx.today}) for ${PRICE_BOOK.pauseDays} days. Unless reactivated through a support ticket before then, the account and its data are deleted permanently on ${formatInstant(deleteAt, ctx.timeZone)}.`,
  });
};

const reactivate: Rule = (account, _request, ctx) => {
  if (account.status !== 'paused')
    return refuse(
      'change_type',
      `${account.id} is not paused (it is ${account.status}); there is nothing to reactivate.`,
    );
  if (!account.deletionDueAt || ctx.now.getTime() >= account.deletionDueAt.getTime()) {
    return refuse(
      'change_type',
      `${account.id} was paused on ${account.pausedOn ?? '?'}, more than ${PRICE_BOOK.pauseDays} days ago: it can no longer be reactivated.`,
    );
  }
  return change(ctx, {
    set: { status: 'active' },
    summary: `Reactivate at once (${ctx.today}); the deletion scheduled for ${formatInstant(account.deletionDueAt, ctx.timeZone)} is cancelled.`,
  });
};

const cancel: Rule = (_account, request, ctx) => {
  if (!request.reason || !PRICE_BOOK.cancellationReasons.some((r) => r.id === request.reason))
    return refuse('reason', 'Pick the reason for the cancellation.');
  if (request.confirm !== 'DELETE')
    return refuse(
      'confirm_delete',
      'Type DELETE (in capitals, nothing else) to confirm that all projects and data are deleted permanently.',
    );
  const day = addDays(ctx.today, PRICE_BOOK.backupPurgeDays);
  const purgeAt = ctx.at(day);
  return change(ctx, {
    set: { status: 'cancelled' },
    follows: [{ type: 'backup_purge', dueAt: purgeAt, day }],
    summary: `Cancel at once (${ctx.today}): all projects and data are deleted permanently; backups are purged by ${formatInstant(purgeAt, ctx.timeZone)}.`,
  });
};

const moveRegion: Rule = (account, request) => {
  if (!request.region || !PRICE_BOOK.regions.some((r) => r.id === request.region))
    return refuse('region', 'Pick a region.');
  if (request.region === account.region)
    return refuse('region', `${account.id}'s data is already in ${reasonLabel(PRICE_BOOK.regions, request.region)}.`);
  return {
    outcome: 'lead',
    message: `C4S data stays in the ${reasonLabel(PRICE_BOOK.regions, PRICE_BOOK.c4sRegion)} region; another region is an Enterprise option, so ${account.id} was passed to sales as an Enterprise lead. Nothing was changed.`,
  };
};

/** One rule per change people can ask for. */
const RULES: Record<RequestedChange, Rule> = {
  upgrade,
  downgrade,
  addon_add: addAddon,
  addon_remove: removeAddon,
  pause,
  reactivate,
  cancel,
  region: moveRegion,
};

/** What `request` does to `account` now, under the rules; never throws for a person's mistake. */
export function decidePlanChange(account: AccountState, request: PlanRequest, ctx: DecisionContext): Decision {
  const blocked = statusRefusal(account, request.type);
  if (blocked) return blocked;
  const today = dayIn(ctx.timeZone, ctx.now);
  return RULES[request.type](account, request, { ...ctx, today, at: (day) => localMidnight(day, ctx.timeZone) });
}

/**
 * What sales reads on an Enterprise lead's card: what was asked, for which account, and whom to
 * contact. Who asked is the ticket's own (its card shows them as the Slack user it came from).
 */
export function leadDescription(account: AccountState, request: PlanRequest): string {
  const of = `${account.name} (${account.id}), now on ${tierLabel(account.tier)}`;
  const asked =
    request.type === 'region'
      ? `Data in the ${reasonLabel(PRICE_BOOK.regions, request.region ?? '')} region asked in Slack for ${of}. C4S data stays in the ${reasonLabel(PRICE_BOOK.regions, PRICE_BOOK.c4sRegion)} region, so nothing was changed.`
      : `Upgrade to ${PRICE_BOOK.enterprise.label} asked in Slack for ${of}. Self-serve stops at ${PRICE_BOOK.selfServeMaxMau.toLocaleString('en-US')} MAU, so the plan is unchanged.`;
  return `${asked}\nContact: ${account.name}, ${account.contactEmail}`;
}
