/**
 * Billing periods and proration for plan changes: which period contains a day, what a change
 * costs for the rest of it (integer cents, half-up), and the trial's dates. Pure: the day and
 * the zone are passed in.
 */
import { addDays, addMonths, daysBetween, localMidnight, type IsoDate } from './dates.js';
import { addonLabel, addonMonthlyCents, PRICE_BOOK, tierById, tierLabel } from './price-book.js';
import type { AccountState, BillingPeriod } from './plans.js';

const periodMonths = (p: BillingPeriod) => (p === 'yearly' ? 12 : 1);
const periodFactor = (p: BillingPeriod) => (p === 'yearly' ? PRICE_BOOK.yearlyMonthsCharged : 1);

/** The billing period that contains `today`: [start, end), renewing on the anchor's day of the month. */
export function currentPeriod(
  anchor: IsoDate,
  period: BillingPeriod,
  today: IsoDate,
): { start: IsoDate; end: IsoDate; days: number } {
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
  add(
    to.tier === account.tier ? tierLabel(to.tier) : `${tierLabel(account.tier)} → ${tierLabel(to.tier)}`,
    newTier - oldTier,
  );
  for (const addon of new Set([...account.addons, ...to.addons])) {
    const before = account.addons.includes(addon) ? addonMonthlyCents(addon, account.tier) : 0;
    const after = to.addons.includes(addon) ? addonMonthlyCents(addon, to.tier) : 0;
    add(`Add-on: ${addonLabel(addon)}`, after - before);
  }
  // Removals are not refunded: a removed add-on is simply not billed from the next period.
  const kept = lines.filter((l) => l.cents >= 0);
  return {
    lines: kept,
    totalCents: kept.reduce((s, l) => s + l.cents, 0),
    periodStart: period.start,
    periodEnd: period.end,
    remainingDays,
    periodDays: period.days,
  };
}

/** The trial's two dates: dashboard lock (day 23, without billing details) and end (day 30), each at 00:00 TZ_BILLING. */
export function trialDates(
  signupDate: IsoDate,
  timeZone: string,
): { lockDay: IsoDate; lockAt: Date; endDay: IsoDate; endAt: Date } {
  const lockDay = addDays(signupDate, PRICE_BOOK.trialLockDay);
  const endDay = addDays(signupDate, PRICE_BOOK.trialDays);
  return { lockDay, lockAt: localMidnight(lockDay, timeZone), endDay, endAt: localMidnight(endDay, timeZone) };
}
