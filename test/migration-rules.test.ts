/** The pure rules of a migration's later steps: amounts, projects in a reply, what blocks what. */
import { describe, expect, it } from '@jest/globals';
import {
  advance,
  blockedReason,
  formatAmount,
  nextAction,
  parseAmount,
  projectsInReply,
  splitProjects,
  type MigrationState,
} from '../src/domain/migration-steps.js';
import { progressLine } from '../views/migration-progress.js';

describe('amounts', () => {
  it('when billing types an amount, then common forms are read as cents and anything else is refused', () => {
    expect(parseAmount('1,250.00')).toBe(125_000);
    expect(parseAmount('1 250.5')).toBe(125_050);
    expect(parseAmount('99')).toBe(9_900);
    expect(parseAmount('0.07')).toBe(7);
    for (const bad of ['', '-5', '1.234', 'EUR 5', '1e3', '12,50.0.1', '5.']) expect(parseAmount(bad)).toBeUndefined();
    expect(formatAmount(125_050, 'EUR')).toBe('EUR 1,250.50');
    expect(formatAmount(7, 'GBP')).toBe('GBP 0.07');
  });
});

describe('projects', () => {
  it('when a customer lists projects in a reply, then live and test lines are read and other text is ignored', () => {
    expect(projectsInReply('Hi!\nLive: shop-prod, api\n- Test projects: shop-staging; qa\nthanks')).toEqual({
      live: ['shop-prod', 'api'],
      test: ['shop-staging', 'qa'],
    });
    expect(projectsInReply('Production = main app\nStaging: main app staging')).toEqual({
      live: ['main app'],
      test: ['main app staging'],
    });
    expect(projectsInReply('Test: only-test')).toBeUndefined(); // no live project named
    expect(projectsInReply('We went live: yesterday was great')).toBeUndefined();
  });

  it('when names are split, then duplicates go and unsafe names are reported', () => {
    expect(splitProjects('a, b\nb; c')).toEqual({ names: ['a', 'b', 'c'], bad: [] });
    expect(splitProjects('ok, <b>x</b>').bad).toEqual(['<b>x</b>']);
  });
});

describe('what blocks what', () => {
  const base: MigrationState = {
    stage: 'payment',
    cancelAt: new Date('2030-01-01T00:00:00Z'),
    billing: { outcome: 'dues', method: 'card' },
    payment: { status: 'pending' },
  };

  it('when the payment failed, then every step but recording a payment is blocked, with the reason', () => {
    const failed = { ...base, payment: { status: 'failed', reason: 'card declined' } };
    for (const step of ['summary', 'projects', 'start', 'complete'] as const)
      expect(blockedReason(failed, step, 'AR-1', 'UTC')).toBe(
        'Blocked: the payment on AR-1 failed (card declined). Record a successful payment first.',
      );
    expect(blockedReason(failed, 'payment', 'AR-1', 'UTC')).toBeUndefined();
    expect(nextAction(failed)).toEqual({ who: 'billing', what: 'payment failed: record a successful payment' });
  });

  it('when steps come out of order, then each says what must come first', () => {
    expect(blockedReason({ stage: 'handed_off' }, 'summary', 'AR-1', 'UTC')).toMatch(/has not confirmed the schedule/);
    expect(blockedReason({ stage: 'scheduled' }, 'payment', 'AR-1', 'UTC')).toMatch(/billing summary on AR-1 first/);
    expect(blockedReason({ ...base, billing: { outcome: 'credits' } }, 'payment', 'AR-1', 'UTC')).toMatch(/no dues/);
    expect(blockedReason(base, 'start', 'AR-1', 'UTC')).toMatch(/it is pending/);
    expect(blockedReason({ ...base, payment: { status: 'succeeded' } }, 'start', 'AR-1', 'UTC')).toMatch(
      /Confirm the live and test projects/,
    );
    expect(
      blockedReason({ ...base, stage: 'migrating', payment: { status: 'succeeded' } }, 'complete', 'AR-1', 'UTC'),
    ).toMatch(/not cancelled yet \(due 2030-01-01 00:00 \(UTC\)\)/);
    expect(
      blockedReason(
        { ...base, stage: 'migrating', payment: { status: 'succeeded' }, c4sCancelledAt: new Date() },
        'complete',
        'AR-1',
        'UTC',
      ),
    ).toBeUndefined();
    expect(blockedReason({ stage: 'completed' }, 'payment', 'AR-1', 'UTC')).toMatch(/already completed/);
  });

  it('when a step is taken again, then the stage never moves backwards', () => {
    expect(advance('projects_confirmed', 'payment')).toBe('projects_confirmed');
    expect(advance('scheduled', 'payment')).toBe('payment');
  });

  it('when progress is shown, then done stages are ticked, the current one marked, and a failed payment flagged', () => {
    expect(progressLine({ stage: 'scheduled' })).toMatch(
      /^:white_check_mark: requested {2}:white_check_mark: handed off {2}:arrow_right: \*scheduled\* {2}:white_small_square: payment/,
    );
    expect(progressLine({ ...base, payment: { status: 'failed' } })).toContain(':no_entry: *payment failed*');
    expect(progressLine({ stage: 'completed' })).toMatch(/:white_check_mark: completed$/);
  });
});
