/**
 * The button and option values views write and handlers read (views/values.ts): what a view
 * encodes decodes to the same fields, and a value that was not written by a view is refused.
 */
import { describe, expect, it } from '@jest/globals';
import { parseRef, REF_PATTERN } from '../src/domain/ticket.js';
import { KindChoice, PaymentChoice, StartHandoffValue, TicketRefValue } from '../views/values.js';

describe('button values', () => {
  it('when a view encodes a ticket and a field, then the handler decodes the same two', () => {
    expect(KindChoice.decode.parse(KindChoice.encode('AR-1001', 'support'))).toEqual(['AR-1001', 'support']);
    expect(PaymentChoice.decode.parse(PaymentChoice.encode('AR-1002', 'failed'))).toEqual(['AR-1002', 'failed']);
    expect(StartHandoffValue.decode.parse(StartHandoffValue.encode('AR-1003', 'ABC-DEF-1234'))).toEqual([
      'AR-1003',
      'ABC-DEF-1234',
    ]);
  });

  it('when the start-handoff value carries no valid account ID, then the ticket is kept and the account dropped', () => {
    expect(StartHandoffValue.decode.parse(StartHandoffValue.encode('AR-1003', ''))).toEqual(['AR-1003', undefined]);
    expect(StartHandoffValue.decode.parse('AR-1003|ABC-DEF-1234|x')).toEqual(['AR-1003', undefined]);
  });

  it.each([
    'AR-1001',
    'AR-1001|',
    '|support',
    'AR-x|support',
    'AR-1001|support|extra',
    'AR-1001|nope',
    'AR-1001; drop|support',
    42,
    undefined,
  ])('when a kind choice is %p, then it is refused', (value) => {
    expect(KindChoice.decode.safeParse(value).success).toBe(false);
  });

  it('when a payment status is not one billing may record, then it is refused', () => {
    expect(PaymentChoice.decode.safeParse('AR-1001|refunded').success).toBe(false);
    expect(PaymentChoice.decode.safeParse('AR-1001').success).toBe(false);
  });

  it('when a value names one ticket, then only the reference shape passes, the same one parseRef reads', () => {
    for (const ok of ['AR-1001', 'ar-1001', 'AR-123456789']) {
      expect(TicketRefValue.safeParse(ok).success).toBe(true);
      expect(REF_PATTERN.test(ok)).toBe(true);
    }
    for (const bad of ['AR-1001; drop', 'AR-', 'AR-1234567890', ' AR-1001', 'XR-1001', ''])
      expect(TicketRefValue.safeParse(bad).success).toBe(false);
    expect(parseRef('ar-1001')).toBe(1001);
  });
});
