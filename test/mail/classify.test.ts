import { describe, expect, it } from '@jest/globals';
import { classify, compileRules } from '../../src/mail/classify.js';

const mail = (subject: string, text = '', mailbox: 'billing' | 'sales' | 'support' | 'selfserve' = 'billing') => ({
  mailbox,
  subject,
  text,
});

describe('classify', () => {
  it.each([
    ['Moving to Enterprise', '', 'migration'],
    ['Question', 'We would like to migrate our C4S account.', 'migration'],
    ['Upgrade', '', 'upgrade'],
    ['Plan', 'We need more MAU this month.', 'upgrade'],
    ['Please downgrade us', '', 'downgrade'],
    ['SSO add-on', '', 'addon'],
    ['Pause', '', 'pause'],
    ['Hi', 'Could you pause my account for a while?', 'pause'],
    ['Reactivate', '', 'reactivation'],
    ['Hi', 'Please unpause our workspace.', 'reactivation'],
    ['Goodbye', 'Please cancel my subscription.', 'cancellation'],
    ['Hi', 'I want to close my account.', 'cancellation'],
    ['Hi', 'Delete my account and all data.', 'cancellation'],
  ])('when the subject is %j and the body %j, then the kind is %s', (subject, text, kind) => {
    expect(classify(mail(subject, text)).kind).toBe(kind);
  });

  it.each([
    ['billing', 'billing'],
    ['sales', 'sales'],
    ['support', 'support'],
    ['selfserve', 'support'],
  ] as const)(
    'when nothing matches in the %s mailbox, then the kind is %s and the rule names the default',
    (mailbox, kind) => {
      expect(classify(mail('Hello', 'A question about our invoice address.', mailbox))).toEqual({
        kind,
        rule: `default:${mailbox}`,
      });
    },
  );

  it('when a rule matches, then the result names the rule and the account ID found', () => {
    expect(classify(mail('Upgrade for R74-ZWR-R44Z', 'thanks'))).toEqual({
      kind: 'upgrade',
      rule: 'upgrade',
      accountId: 'R74-ZWR-R44Z',
    });
    expect(classify(mail('Hi', 'Account: R74-ZWR-R44Z. Please pause my account.')).accountId).toBe('R74-ZWR-R44Z');
  });

  it('when a cancellation is about something else (a scheduled downgrade), then it is not a cancellation', () => {
    expect(classify(mail('Hi', 'Please cancel my scheduled downgrade.')).kind).toBe('downgrade');
  });

  it('when unpause is asked, then reactivation wins over pause', () => {
    expect(classify(mail('Unpause', '')).kind).toBe('reactivation');
  });

  it('when a rule is limited to some mailboxes, then mail to other mailboxes falls through', () => {
    const rules = compileRules({
      rules: [{ id: 'sales-only', kind: 'migration', mailboxes: ['sales'], subject: ['switch'] }],
    });
    expect(classify(mail('Switch plans', '', 'sales'), rules).rule).toBe('sales-only');
    expect(classify(mail('Switch plans', '', 'billing'), rules).rule).toBe('default:billing');
  });

  it('when the rules document is invalid, then compiling it fails naming every problem', () => {
    const bad = {
      rules: [
        { id: 'a', kind: 'refund', mailboxes: ['billing'], subject: ['x'] },
        { id: 'a', kind: 'pause', mailboxes: ['nowhere'], body: ['('] },
        { id: 'b', kind: 'pause', mailboxes: ['billing'] },
      ],
    };
    expect(() => compileRules(bad)).toThrow(/rules\.0\.kind.*rules\.1\.mailboxes.*rules\.1\.body.*rules\.2/);
  });
});
