/**
 * Plan changes as pure rules (CONTRACT.md, "Plan changes"): the price book, billing periods,
 * proration in integer cents, and what a requested change does to an account (at once, later, a
 * refusal, or an Enterprise lead for sales). No I/O: services feed in the account and the time.
 */
import { z } from 'zod';
import priceBookFile from './price-book.json' with { type: 'json' };
import { addDays, addMonths, daysBetween, dayIn, formatInstant, localMidnight, type IsoDate } from './dates.js';

const Reason = z.object({ id: z.string().min(1), label: z.string().min(1) });
const PriceBookSchema = z.object({
  currency: z.string().length(3),
  selfServeMaxMau: z.number().int().positive(),
  yearlyMonthsCharged: z.number().int().positive(),
  tiers: z.array(z.object({ id: z.string().min(1), label: z.string(), maxMau: z.number().int().positive(), monthlyCents: z.number().int().nonnegative() })).min(1),
  enterprise: z.object({ id: z.literal('enterprise'), label: z.string() }),
  addons: z.array(
    z.union([
      z.object({ id: z.string().min(1), label: z.string(), monthlyCents: z.number().int().nonnegative() }),
      z.object({ id: z.string().min(1), label: z.string(), percentOfTier: z.number().int().positive().max(100) }),
    ]),
  ),
  addonRemovalReasons: z.array(Reason).min(1),
  cancellationReasons: z.array(Reason).min(1),
  regions: z.array(Reason).min(1),
  c4sRegion: z.string(),
  retentionYears: z.number().int().positive(),
  trialDays: z.number().int().positive(),
  trialLockDay: z.number().int().positive(),
  pauseDays: z.number().int().positive(),
  backupPurgeDays: z.number().int().positive(),
});
export type PriceBook = z.infer<typeof PriceBookSchema>;

/** Validated at load: a broken price book stops the process at start, not at a customer's upgrade. */
export const PRICE_BOOK: PriceBook = (() => {
  const book = PriceBookSchema.parse(priceBookFile);
  const mau = book.tiers.map((t) => t.maxMau);
  if (mau.some((m, i) => i > 0 && m <= mau[i - 1]!)) throw new Error('price book: tiers must be in ascending MAU order');
  if (mau.at(-1)! > book.selfServeMaxMau) throw new Error('price book: a tier is above the self-serve limit');
  return book;
})();

export const ACCOUNT_STATUSES = ['trial', 'active', 'paused', 'locked', 'cancelled', 'migrated'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const BILLING_PERIODS = ['monthly', 'yearly'] as const;
export type BillingPeriod = (typeof BILLING_PERIODS)[number];
export const PLANS = ['startup', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Changes people ask for (the `/plan` modal's choices). */
export const REQUESTED_CHANGES = ['upgrade', 'downgrade', 'addon_add', 'addon_remove', 'pause', 'reactivate', 'cancel', 'region'] as const;
export type RequestedChange = (typeof REQUESTED_CHANGES)[number];
/** Changes the rules schedule by themselves. */
export const SYSTEM_CHANGES = ['pause_delete', 'trial_lock', 'trial_end', 'backup_purge'] as const;
export type SystemChange = (typeof SYSTEM_CHANGES)[number];
export type ChangeType = RequestedChange | SystemChange;
export const CHANGE_TYPES: readonly ChangeType[] = [...REQUESTED_CHANGES, ...SYSTEM_CHANGES];

export const CHANGE_LABELS: Record<ChangeType, string> = {
  upgrade: 'MAU tier upgrade',
  downgrade: 'MAU tier downgrade',
  addon_add: 'Add an add-on',
  addon_remove: 'Remove an add-on',
  pause: 'Pause the account',
  reactivate: 'Reactivate a paused account',
  cancel: 'Cancel the account (delete all data)',
  region: 'Move data to another region',
  pause_delete: 'Deletion after 60 days paused',
  trial_lock: 'Dashboard lock (trial without billing details)',
  trial_end: 'End of trial',
  backup_purge: 'Backup purge after deletion',
};

/** The account as the bot knows it; `_id` in the database is `id`. */
export interface AccountState {
  id: string;
  name: string;
  contactEmail: string;
  plan: Plan;
  /** A tier id from the price book; `enterprise` for Enterprise accounts. */
  tier: string;
  addons: string[];
  billingPeriod: BillingPeriod;
  /** The first day of the first billing period; later periods renew on its day of the month. */
  billingAnchor: IsoDate;
  status: AccountStatus;
  signupDate: IsoDate;
  billingDetailsComplete: boolean;
  region: string;
  retentionYears: number;
  pausedOn?: IsoDate | undefined;
  deletionDueAt?: Date | undefined;
}

export const tierById = (id: string) => PRICE_BOOK.tiers.find((t) => t.id === id);
export const addonById = (id: string) => PRICE_BOOK.addons.find((a) => a.id === id);
export const tierIndex = (id: string) => PRICE_BOOK.tiers.findIndex((t) => t.id === id);
export const tierLabel = (id: string) => (id === 'enterprise' ? PRICE_BOOK.enterprise.label : (tierById(id)?.label ?? id));
export const addonLabel = (id: string) => addonById(id)?.label ?? id;
export const reasonLabel = (list: { id: string; label: string }[], id: string) => list.find((r) => r.id === id)?.label ?? id;

/** `1234` → `€12.34`. */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const symbol = PRICE_BOOK.currency === 'EUR' ? '€' : `${PRICE_BOOK.currency} `;
  return `${sign}${symbol}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const periodMonths = (p: BillingPeriod) => (p === 'yearly' ? 12 : 1);
const periodFactor = (p: BillingPeriod) => (p === 'yearly' ? PRICE_BOOK.yearlyMonthsCharged : 1);

/** What one add-on costs a month on a tier. */
export function addonMonthlyCents(addonId: string, tierId: string): number {
  const addon = addonById(addonId);
  if (!addon) throw new Error(`unknown add-on ${addonId}`);
  if ('monthlyCents' in addon) return addon.monthlyCents;
  const tier = tierById(tierId);
  return tier ? Math.round((tier.monthlyCents * addon.percentOfTier) / 100) : 0;
}

/** The billing period that contains `today`: [start, end), renewing on the anchor's day of the month. */
export function currentPeriod(anchor: IsoDate, period: BillingPeriod, today: IsoDate): { start: IsoDate; end: IsoDate; days: number } {
  const step = periodMonths(period);
  let k = 0;
  if (today >= anchor) {
    // Jump close, then walk: periods are counted from the anchor so a 31st anchor keeps its day.
    k = Math.max(0, Math.floor(daysBetween(anchor, today) / (step * 31)) - 1);
    while (addMonths(anchor, (k + 1) * step) <= today) k += 1;
  }
  const start = addMonths(anchor, k * step);
  const end = addMonths(anchor, (k + 1) * step);
  return { start, end, days: daysBetween(start, end) };
}

export interface InvoiceLine {
  description: string;
  cents: number;
}
export interface Proration {
  lines: InvoiceLine[];
  totalCents: number;
  periodStart: IsoDate;
  periodEnd: IsoDate;
  /** Days left in the period, today included. */
  remainingDays: number;
  periodDays: number;
}

/** Half-up rounding of `cents × num / den` for cents of either sign, in integers. */
function prorate(cents: number, num: number, den: number): number {
  const sign = cents < 0 ? -1 : 1;
  return sign * Math.floor((Math.abs(cents) * num * 2 + den) / (2 * den));
}

/**
 * What moving from (tier, add-ons) to (tier', add-ons') costs for the rest of the current period:
 * each line's price difference for the period times remaining/period days. Add-ons priced on the
 * tier change with it, so they are part of an upgrade's charge. Trials pay nothing.
 */
export function prorationFor(account: AccountState, to: { tier: string; addons: string[] }, today: IsoDate): Proration {
  const period = currentPeriod(account.billingAnchor, account.billingPeriod, today);
  const remainingDays = Math.max(0, daysBetween(today, period.end));
  const factor = periodFactor(account.billingPeriod);
  const charged = account.status === 'active';
  const lines: InvoiceLine[] = [];
  const add = (description: string, monthlyDelta: number) => {
    const cents = charged ? prorate(monthlyDelta * factor, remainingDays, period.days) : 0;
    if (monthlyDelta !== 0) lines.push({ description, cents });
  };
  const oldTier = tierById(account.tier)?.monthlyCents ?? 0;
  const newTier = tierById(to.tier)?.monthlyCents ?? 0;
  add(to.tier === account.tier ? tierLabel(to.tier) : `${tierLabel(account.tier)} → ${tierLabel(to.tier)}`, newTier - oldTier);
  for (const addon of new Set([...account.addons, ...to.addons])) {
    const before = account.addons.includes(addon) ? addonMonthlyCents(addon, account.tier) : 0;
    const after = to.addons.includes(addon) ? addonMonthlyCents(addon, to.tier) : 0;
    add(`Add-on: ${addonLabel(addon)}`, after - before);
  }
  // Removals are not refunded: a removed add-on is simply not billed from the next period.
  const kept = lines.filter((l) => l.cents >= 0);
  return { lines: kept, totalCents: kept.reduce((s, l) => s + l.cents, 0), periodStart: period.start, periodEnd: period.end, remainingDays, periodDays: period.days };
}

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
      follows: { type: SystemChange; dueAt: Date; day: IsoDate }[];
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

const refuse = (field: PlanField, message: string): Decision => ({ outcome: 'refused', field, message });
const isTrialLike = (a: AccountState) => a.status === 'trial' || a.status === 'locked';

function statusRefusal(account: AccountState, type: RequestedChange): Decision | undefined {
  if (account.status === 'cancelled') return refuse('account_id', `${account.id} was cancelled and its data deleted; nothing can be changed.`);
  if (account.status === 'migrated') return refuse('account_id', `${account.id} has moved to Enterprise; sales manages its plan.`);
  if (account.status === 'paused' && type !== 'reactivate' && type !== 'cancel') {
    return refuse('change_type', `${account.id} is paused. It must be reactivated (through a support ticket) before its plan can change.`);
  }
  if (account.plan === 'enterprise' && type !== 'cancel') return refuse('change_type', `${account.id} is on an Enterprise plan, which sales manages; self-serve changes do not apply.`);
  return undefined;
}

/** What `request` does to `account` now, under the rules; never throws for a person's mistake. */
export function decide(account: AccountState, request: PlanRequest, ctx: DecisionContext): Decision {
  const { now, timeZone } = ctx;
  const today = dayIn(timeZone, now);
  const blocked = statusRefusal(account, request.type);
  if (blocked) return blocked;
  const at = (day: IsoDate) => localMidnight(day, timeZone);
  const base = { follows: [] as { type: SystemChange; dueAt: Date; day: IsoDate }[], cancelsPendingDowngrade: false };

  switch (request.type) {
    case 'upgrade': {
      if (!request.tier) return refuse('target_tier', 'Pick the tier to upgrade to.');
      if (request.tier === 'enterprise') {
        return { outcome: 'lead', message: `Above ${PRICE_BOOK.selfServeMaxMau.toLocaleString('en-US')} MAU is not self-serve: ${account.id} was passed to sales as an Enterprise lead. The plan is unchanged.` };
      }
      const to = tierIndex(request.tier);
      if (to < 0) return refuse('target_tier', `There is no tier "${request.tier}".`);
      if (to <= tierIndex(account.tier)) return refuse('target_tier', `${tierLabel(request.tier)} is not above the current ${tierLabel(account.tier)}; use a downgrade instead.`);
      const proration = prorationFor(account, { tier: request.tier, addons: account.addons }, today);
      const cancels = ctx.pendingDowngrade !== undefined;
      const charge = isTrialLike(account) ? 'no charge during the trial' : `${formatCents(proration.totalCents)} prorated for the ${proration.remainingDays} of ${proration.periodDays} days left until ${proration.periodEnd}`;
      return {
        ...base,
        outcome: 'change',
        dueAt: 'now',
        effectiveDay: today,
        set: { tier: request.tier },
        proration,
        cancelsPendingDowngrade: cancels,
        summary: `Upgrade to ${tierLabel(request.tier)} at once (${today}); ${charge}.${cancels ? ` This cancels the downgrade to ${tierLabel(ctx.pendingDowngrade!.tier)} scheduled for ${formatInstant(ctx.pendingDowngrade!.dueAt, timeZone)}.` : ''}`,
      };
    }
    case 'downgrade': {
      if (!request.tier) return refuse('target_tier', 'Pick the tier to downgrade to.');
      const to = tierIndex(request.tier);
      if (to < 0) return refuse('target_tier', `${request.tier === 'enterprise' ? 'Enterprise' : `"${request.tier}"`} is not a tier one can downgrade to.`);
      if (to >= tierIndex(account.tier)) return refuse('target_tier', `${tierLabel(request.tier)} is not below the current ${tierLabel(account.tier)}; a downgrade must go to a lower tier.`);
      if (ctx.pendingDowngrade) {
        return refuse('target_tier', `A downgrade to ${tierLabel(ctx.pendingDowngrade.tier)} is already scheduled for ${formatInstant(ctx.pendingDowngrade.dueAt, timeZone)}. Cancel it from /account first.`);
      }
      if (isTrialLike(account)) {
        return { ...base, outcome: 'change', dueAt: 'now', effectiveDay: today, set: { tier: request.tier }, summary: `Downgrade to ${tierLabel(request.tier)} at once (${today}): trial accounts change immediately.` };
      }
      const { end } = currentPeriod(account.billingAnchor, account.billingPeriod, today);
      const dueAt = at(end);
      return {
        ...base,
        outcome: 'change',
        dueAt,
        effectiveDay: end,
        set: { tier: request.tier },
        summary: `Downgrade to ${tierLabel(request.tier)} at the start of the next billing period, ${formatInstant(dueAt, timeZone)}. It can be cancelled until then; an upgrade before then cancels it.`,
      };
    }
    case 'addon_add': {
      if (!request.addon || !addonById(request.addon)) return refuse('addon', 'Pick an add-on.');
      if (account.addons.includes(request.addon)) return refuse('addon', `${account.id} already has ${addonLabel(request.addon)}.`);
      const addons = [...account.addons, request.addon];
      const proration = prorationFor(account, { tier: account.tier, addons }, today);
      const charge = isTrialLike(account) ? 'no charge during the trial' : `${formatCents(proration.totalCents)} prorated until ${proration.periodEnd}`;
      return { ...base, outcome: 'change', dueAt: 'now', effectiveDay: today, set: { addons }, proration, summary: `Add ${addonLabel(request.addon)} at once (${today}); ${charge}.` };
    }
    case 'addon_remove': {
      if (!request.addon || !account.addons.includes(request.addon)) return refuse('addon', `Pick one of the account's add-ons${account.addons.length ? '' : ' (it has none)'}.`);
      if (!request.reason || !PRICE_BOOK.addonRemovalReasons.some((r) => r.id === request.reason)) return refuse('reason', 'Pick the reason the add-on is removed.');
      const addons = account.addons.filter((a) => a !== request.addon);
      return { ...base, outcome: 'change', dueAt: 'now', effectiveDay: today, set: { addons }, summary: `Remove ${addonLabel(request.addon)} at once (${today}); it is not billed from the next period, no refund for this one.` };
    }
    case 'pause': {
      if (account.status !== 'active') return refuse('change_type', `Only active accounts can be paused; ${account.id} is ${account.status}.`);
      if (ctx.pendingDowngrade) return refuse('change_type', `A downgrade is scheduled for ${formatInstant(ctx.pendingDowngrade.dueAt, timeZone)}; cancel it from /account before pausing.`);
      const day = addDays(today, PRICE_BOOK.pauseDays);
      const deleteAt = at(day);
      return {
        ...base,
        outcome: 'change',
        dueAt: 'now',
        effectiveDay: today,
        set: { status: 'paused', pausedOn: today, deletionDueAt: deleteAt },
        follows: [{ type: 'pause_delete', dueAt: deleteAt, day }],
        summary: `Pause at once (${today}) for ${PRICE_BOOK.pauseDays} days. Unless reactivated through a support ticket before then, the account and its data are deleted permanently on ${formatInstant(deleteAt, timeZone)}.`,
      };
    }
    case 'reactivate': {
      if (account.status !== 'paused') return refuse('change_type', `${account.id} is not paused (it is ${account.status}); there is nothing to reactivate.`);
      if (!account.deletionDueAt || now.getTime() >= account.deletionDueAt.getTime()) {
        return refuse('change_type', `${account.id} was paused on ${account.pausedOn ?? '?'}, more than ${PRICE_BOOK.pauseDays} days ago: it can no longer be reactivated.`);
      }
      return { ...base, outcome: 'change', dueAt: 'now', effectiveDay: today, set: { status: 'active' }, summary: `Reactivate at once (${today}); the deletion scheduled for ${formatInstant(account.deletionDueAt, timeZone)} is cancelled.` };
    }
    case 'cancel': {
      if (!request.reason || !PRICE_BOOK.cancellationReasons.some((r) => r.id === request.reason)) return refuse('reason', 'Pick the reason for the cancellation.');
      if (request.confirm !== 'DELETE') return refuse('confirm_delete', 'Type DELETE (in capitals, nothing else) to confirm that all projects and data are deleted permanently.');
      const day = addDays(today, PRICE_BOOK.backupPurgeDays);
      const purgeAt = at(day);
      return {
        ...base,
        outcome: 'change',
        dueAt: 'now',
        effectiveDay: today,
        set: { status: 'cancelled' },
        follows: [{ type: 'backup_purge', dueAt: purgeAt, day }],
        summary: `Cancel at once (${today}): all projects and data are deleted permanently; backups are purged by ${formatInstant(purgeAt, timeZone)}.`,
      };
    }
    case 'region': {
      if (!request.region || !PRICE_BOOK.regions.some((r) => r.id === request.region)) return refuse('region', 'Pick a region.');
      if (request.region === account.region) return refuse('region', `${account.id}'s data is already in ${reasonLabel(PRICE_BOOK.regions, request.region)}.`);
      return { outcome: 'lead', message: `C4S data stays in the ${reasonLabel(PRICE_BOOK.regions, PRICE_BOOK.c4sRegion)} region; another region is an Enterprise option, so ${account.id} was passed to sales as an Enterprise lead. Nothing was changed.` };
    }
  }
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

/** The trial's two dates: dashboard lock (day 23, without billing details) and end (day 30), each at 00:00 TZ_BILLING. */
export function trialDates(signupDate: IsoDate, timeZone: string): { lockDay: IsoDate; lockAt: Date; endDay: IsoDate; endAt: Date } {
  const lockDay = addDays(signupDate, PRICE_BOOK.trialLockDay);
  const endDay = addDays(signupDate, PRICE_BOOK.trialDays);
  return { lockDay, lockAt: localMidnight(lockDay, timeZone), endDay, endAt: localMidnight(endDay, timeZone) };
}
