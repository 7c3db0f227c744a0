/** Business time and SLA timers without a database: weekends, nights, holidays, DST and pauses. */
import { describe, expect, it } from '@jest/globals';
import { addBusinessMinutes, businessMinutesBetween, formatSpan, zonedInstant } from '../src/domain/business-hours.js';
import { loadSlaRules } from '../src/domain/sla-policy.js';
import { resumedTimer, startTimers, stepTimes, timerLine } from '../src/domain/sla.js';
import policies from '../src/domain/sla-policies.json' with { type: 'json' };

const rules = loadSlaRules('Europe/Berlin');
const hours = rules.hours;
const at = (iso: string) => new Date(iso);

describe('business hours in TZ_BILLING', () => {
  it('when a billing email comes on Friday at 17:30, then its 4-hour first response is due on Monday at 13:00', () => {
    // 2026-11-06 is a Friday; 17:30 in Berlin is 16:30 UTC.
    const policy = rules.policyFor({ kind: 'billing', source: { channel: 'email', mailbox: 'billing' } });
    expect(policy).toEqual({ name: 'billing-email', firstResponse: 240, resolution: 960 });
    const due = addBusinessMinutes(at('2026-11-06T16:30:00Z'), policy.firstResponse, hours);
    expect(due.toISOString()).toBe('2026-11-09T12:00:00.000Z'); // Monday 13:00 CET
  });

  it('when the target spans the night, then only opening hours count', () => {
    // Tuesday 15:00 Berlin + 4 h: 2 h on Tuesday, 2 h on Wednesday from 09:00.
    expect(addBusinessMinutes(at('2026-11-10T14:00:00Z'), 240, hours).toISOString()).toBe('2026-11-11T10:00:00.000Z');
    // Before opening: the clock starts at 09:00.
    expect(addBusinessMinutes(at('2026-11-10T05:00:00Z'), 60, hours).toISOString()).toBe('2026-11-10T09:00:00.000Z');
  });

  it('when the weekend holds a DST change, then Monday still opens at 09:00 local time', () => {
    // Summer time ends on 2026-10-25; Friday 16:00 CEST (14:00 UTC) + 4 h = 1 h Friday + 3 h Monday, 12:00 CET = 11:00 UTC.
    expect(addBusinessMinutes(at('2026-10-23T14:00:00Z'), 240, hours).toISOString()).toBe('2026-10-26T11:00:00.000Z');
    expect(zonedInstant('2026-03-30', 9 * 60, 'Europe/Berlin').toISOString()).toBe('2026-03-30T07:00:00.000Z'); // after the spring change
    expect(zonedInstant('2026-03-27', 9 * 60, 'Europe/Berlin').toISOString()).toBe('2026-03-27T08:00:00.000Z');
  });

  it('when holidays fall in the way, then they are skipped like weekends', () => {
    // Wednesday 2026-12-23 16:00 Berlin + 2 h: 1 h on the 23rd, then 24-27 are off, so Monday the 28th 10:00.
    expect(addBusinessMinutes(at('2026-12-23T15:00:00Z'), 120, hours).toISOString()).toBe('2026-12-28T09:00:00.000Z');
  });

  it('when business minutes are counted between two instants, then nights and weekends are left out', () => {
    expect(businessMinutesBetween(at('2026-11-06T15:00:00Z'), at('2026-11-09T09:00:00Z'), hours)).toBe(60 + 60);
    expect(businessMinutesBetween(at('2026-11-09T09:00:00Z'), at('2026-11-06T15:00:00Z'), hours)).toBe(0);
  });

  it('when spans are shown, then they read as on the card', () => {
    expect(formatSpan(80 * 60_000)).toBe('1 h 20 m');
    expect(formatSpan(15 * 60_000)).toBe('15 m');
    expect(formatSpan((26 * 60 + 5) * 60_000)).toBe('1 d 2 h');
  });
});

describe('SLA timers', () => {
  const policy = { name: 'p', firstResponse: 240, resolution: 960 };

  it('when a ticket opens, then each target has its reminder at 75 % and its breach and admins steps', () => {
    const sla = startTimers(policy, at('2026-11-10T08:00:00Z'), hours, 0.75); // Tuesday 09:00 Berlin
    expect(sla.firstResponse.remindAt?.toISOString()).toBe('2026-11-10T11:00:00.000Z');
    expect(sla.firstResponse.dueAt.toISOString()).toBe('2026-11-10T12:00:00.000Z');
    const steps = stepTimes(sla.firstResponse, hours, 120);
    expect(steps.admins?.toISOString()).toBe('2026-11-10T14:00:00.000Z');
    expect(sla.resolution.dueAt.toISOString()).toBe('2026-11-11T16:00:00.000Z'); // two business days
  });

  it('when the ticket waits on the customer for a day, then the clock resumes with what was left', () => {
    const sla = startTimers(policy, at('2026-11-10T08:00:00Z'), hours, 0.75);
    // Paused at 10:00 Berlin (1 h used, 3 h left, reminder 2 h away); resumed next day 14:00.
    const resumed = resumedTimer(sla.firstResponse, at('2026-11-10T09:00:00Z'), at('2026-11-11T13:00:00Z'), hours);
    expect(resumed.dueAt.toISOString()).toBe('2026-11-11T16:00:00.000Z');
    expect(resumed.remindAt?.toISOString()).toBe('2026-11-11T15:00:00.000Z');
    // Paused after the reminder: no second reminder is planned.
    const late = resumedTimer(sla.firstResponse, at('2026-11-10T11:30:00Z'), at('2026-11-11T13:00:00Z'), hours);
    expect(late.remindAt).toBeNull();
    expect(late.dueAt.toISOString()).toBe('2026-11-11T13:30:00.000Z');
  });

  it('when the card reads the timer, then it says due in or overdue by, or paused', () => {
    const sla = startTimers(policy, at('2026-11-10T08:00:00Z'), hours, 0.75);
    expect(timerLine(sla, at('2026-11-10T10:40:00Z'))).toEqual({
      text: 'first response due in 1 h 20 m',
      overdue: false,
    });
    expect(timerLine(sla, at('2026-11-10T12:15:00Z'))).toEqual({
      text: 'first response overdue by 15 m',
      overdue: true,
    });
    expect(timerLine({ ...sla, pausedAt: at('2026-11-10T09:00:00Z') }, at('2026-11-10T12:15:00Z'))?.text).toMatch(
      /paused/,
    );
    const answered = { ...sla, firstResponse: { ...sla.firstResponse, metAt: at('2026-11-10T09:00:00Z') } };
    expect(timerLine(answered, at('2026-11-10T12:15:00Z'))?.text).toBe('resolution due in 1 d 3 h');
  });

  it('when the policy file is broken, then loading it names the problem', () => {
    expect(() =>
      loadSlaRules('UTC', {
        ...policies,
        policies: [{ name: 'x', kinds: ['billing'], firstResponse: '4 hours', resolution: '2d' }],
      }),
    ).toThrow(/firstResponse.*duration|last policy/);
    expect(() =>
      loadSlaRules('UTC', { ...policies, businessHours: { ...policies.businessHours, open: '18:00' } }),
    ).toThrow(/close must be after open/);
  });

  it('when tickets of each kind and source open, then the first matching policy applies', () => {
    expect(rules.policyFor({ kind: 'migration', source: { channel: 'email', mailbox: 'billing' } }).name).toBe(
      'migration',
    );
    expect(rules.policyFor({ kind: 'support', source: { channel: 'email', mailbox: 'selfserve' } }).name).toBe(
      'support-email',
    );
    expect(rules.policyFor({ kind: 'billing', source: { channel: 'slack' } }).name).toBe('slack');
  });
});
