/** Plan-change rules without a database: periods, proration, dates in TZ_BILLING, and every refusal. */
import { describe, expect, it } from '@jest/globals';
import { addMonths, daysBetween } from '../src/domain/dates.js';
import { currentPeriod, prorationFor, trialDates } from '../src/domain/plan-periods.js';
import { decidePlanChange } from '../src/domain/plan-rules.js';
import type { AccountState } from '../src/domain/plans.js';
import { formatCents, PRICE_BOOK } from '../src/domain/price-book.js';

const TZ = 'Europe/Berlin';
const base: AccountState = {
  id: 'DOM-AAA-0001',
  name: 'Acme',
  contactEmail: 'owner@acme.test',
  plan: 'startup',
  tier: 'startup-10k',
  addons: ['sso', 'priority-support'],
  billingPeriod: 'monthly',
  billingAnchor: '2030-01-01',
  status: 'active',
  signupDate: '2029-12-01',
  billingDetailsComplete: true,
  region: 'eu',
  retentionYears: 3,
};
/** Noon in Berlin on a billing day. */
const noon = (day: string) => new Date(`${day}T10:00:00Z`);

describe('billing periods', () => {
  it('when the anchor is the 31st, then periods renew on the month’s last day and come back to the 31st', () => {
    expect(addMonths('2030-01-31', 1)).toBe('2030-02-28');
    expect(addMonths('2032-01-31', 1)).toBe('2032-02-29');
    expect(addMonths('2030-01-31', 2)).toBe('2030-03-31');
    expect(currentPeriod('2030-01-31', 'monthly', '2030-02-15')).toEqual({
      start: '2030-01-31',
      end: '2030-02-28',
      days: 28,
    });
    expect(currentPeriod('2030-01-31', 'monthly', '2030-02-28')).toEqual({
      start: '2030-02-28',
      end: '2030-03-31',
      days: 31,
    });
    expect(currentPeriod('2030-01-31', 'monthly', '2031-07-30')).toEqual({
      start: '2031-06-30',
      end: '2031-07-31',
      days: 31,
    });
    expect(currentPeriod('2030-03-15', 'yearly', '2031-03-14')).toEqual({
      start: '2030-03-15',
      end: '2031-03-15',
      days: 365,
    });
    // Not started yet (a trial's anchor is its end): the first period.
    expect(currentPeriod('2030-05-01', 'monthly', '2030-04-10')).toEqual({
      start: '2030-05-01',
      end: '2030-06-01',
      days: 31,
    });
    expect(daysBetween('2030-12-31', '2031-01-01')).toBe(1);
  });
});

describe('proration', () => {
  it('when an active account upgrades mid-period, then tier and tier-priced add-ons are charged for the days left, in whole cents', () => {
    const p = prorationFor(base, { tier: 'startup-25k', addons: base.addons }, '2030-01-17');
    expect(p).toMatchObject({ periodStart: '2030-01-01', periodEnd: '2030-02-01', remainingDays: 15, periodDays: 31 });
    // (19900-9900) × 15/31 = 4838.7 → 4839; priority support 20%: (3980-1980) × 15/31 = 967.7 → 968; SSO unchanged.
    expect(p.lines).toEqual([
      { description: 'Startup 10,000 MAU → Startup 25,000 MAU', cents: 4839 },
      { description: 'Add-on: Priority support (20% of the tier)', cents: 968 },
    ]);
    expect(p.totalCents).toBe(5807);
    expect(formatCents(p.totalCents)).toBe('€58.07');
  });

  it('when the period is yearly, then the year’s price (10 months) is prorated over its 365 days; trials pay nothing', () => {
    const yearly = { ...base, addons: [], billingPeriod: 'yearly' as const, billingAnchor: '2030-01-01' };
    const p = prorationFor(yearly, { tier: 'startup-25k', addons: [] }, '2030-07-02');
    expect(p.remainingDays).toBe(183);
    expect(p.totalCents).toBe(Math.round((10000 * 10 * 183) / 365));
    expect(
      prorationFor({ ...base, status: 'trial' }, { tier: 'startup-25k', addons: base.addons }, '2030-01-17').totalCents,
    ).toBe(0);
  });
});

describe('dates in TZ_BILLING', () => {
  it('when a trial starts before the spring change, then lock (day 23) and end (day 30) are 00:00 Berlin summer time', () => {
    const t = trialDates('2030-03-10', TZ);
    expect(t).toMatchObject({ lockDay: '2030-04-02', endDay: '2030-04-09' });
    expect(t.lockAt.toISOString()).toBe('2030-04-01T22:00:00.000Z');
    expect(t.endAt.toISOString()).toBe('2030-04-08T22:00:00.000Z');
  });

  it('when an account pauses in September, then day 60 is after the autumn change: 00:00 CET', () => {
    const d = decidePlanChange(base, { type: 'pause' }, { now: noon('2030-09-01'), timeZone: TZ });
    expect(d.outcome).toBe('change');
    if (d.outcome !== 'change') return;
    expect(d.follows).toEqual([
      { type: 'pause_delete', day: '2030-10-31', dueAt: new Date('2030-10-30T23:00:00.000Z') },
    ]);
    expect(d.set).toMatchObject({ status: 'paused', pausedOn: '2030-09-01' });
  });

  it('when an active account downgrades, then it is due at 00:00 Berlin on the next period’s first day (month end, DST)', () => {
    const d = decidePlanChange(
      { ...base, billingAnchor: '2030-01-31' },
      { type: 'downgrade', tier: 'startup-5k' },
      { now: noon('2030-03-15'), timeZone: TZ },
    );
    expect(d).toMatchObject({
      outcome: 'change',
      effectiveDay: '2030-03-31',
      dueAt: new Date('2030-03-30T23:00:00.000Z'),
    });
  });
});

describe('refusals change nothing and say why', () => {
  const ctx = { now: noon('2030-01-17'), timeZone: TZ };
  const refused = (
    a: AccountState,
    r: Parameters<typeof decidePlanChange>[1],
    c: Parameters<typeof decidePlanChange>[2] = ctx,
  ) => {
    const d = decidePlanChange(a, r, c);
    if (d.outcome !== 'refused') throw new Error(`expected a refusal, got ${d.outcome}`);
    return d;
  };

  it('when a downgrade goes to the current or a higher tier, then it is refused on the tier field', () => {
    expect(refused(base, { type: 'downgrade', tier: 'startup-10k' })).toMatchObject({
      field: 'target_tier',
      message: expect.stringContaining('not below'),
    });
    expect(refused(base, { type: 'downgrade', tier: 'startup-50k' }).field).toBe('target_tier');
    expect(refused(base, { type: 'upgrade', tier: 'startup-5k' }).message).toMatch(/not above/);
  });

  it('when a downgrade is already pending, then a second one is refused and names the first', () => {
    const r = refused(
      { ...base, tier: 'startup-25k' },
      { type: 'downgrade', tier: 'startup-5k' },
      { ...ctx, pendingDowngrade: { dueAt: new Date('2030-01-31T23:00:00Z'), tier: 'startup-10k' } },
    );
    expect(r.message).toMatch(/already scheduled for 2030-02-01 00:00 \(Europe\/Berlin\)/);
  });

  it('when a cancellation lacks DELETE exactly or a reason, then it is refused on that field', () => {
    for (const confirm of [undefined, 'delete', 'DELETE ', ' DELETE', 'DELET']) {
      expect(refused(base, { type: 'cancel', reason: 'other', confirm }).field).toBe('confirm_delete');
    }
    expect(refused(base, { type: 'cancel', confirm: 'DELETE' }).field).toBe('reason');
    expect(decidePlanChange(base, { type: 'cancel', reason: 'other', confirm: 'DELETE' }, ctx).outcome).toBe('change');
  });

  it('when a paused account is past day 60, then reactivation is refused', () => {
    const paused = {
      ...base,
      status: 'paused' as const,
      pausedOn: '2029-11-01',
      deletionDueAt: new Date('2029-12-30T23:00:00Z'),
    };
    expect(refused(paused, { type: 'reactivate' }).message).toMatch(/no longer be reactivated/);
    expect(
      decidePlanChange({ ...paused, deletionDueAt: new Date('2030-02-01T00:00:00Z') }, { type: 'reactivate' }, ctx)
        .outcome,
    ).toBe('change');
  });

  it('when an upgrade goes above 100,000 MAU or data to another region, then it is an Enterprise lead, not a change', () => {
    expect(decidePlanChange(base, { type: 'upgrade', tier: 'enterprise' }, ctx)).toMatchObject({
      outcome: 'lead',
      message: expect.stringContaining('100,000 MAU'),
    });
    expect(decidePlanChange(base, { type: 'region', region: 'us' }, ctx)).toMatchObject({
      outcome: 'lead',
      message: expect.stringContaining('EU'),
    });
    expect(refused(base, { type: 'region', region: 'eu' }).field).toBe('region');
  });

  it('when an add-on removal has no reason from the list, then it is refused; the price book lists the reasons', () => {
    expect(refused(base, { type: 'addon_remove', addon: 'sso' }).field).toBe('reason');
    expect(refused(base, { type: 'addon_remove', addon: 'sso', reason: 'because' }).field).toBe('reason');
    expect(refused(base, { type: 'addon_add', addon: 'sso' }).message).toMatch(/already has/);
    expect(PRICE_BOOK.addonRemovalReasons.length).toBeGreaterThan(1);
  });
});
