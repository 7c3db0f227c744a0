/** AR numbers: from 1001, unique under concurrency, never reused; one ticket per idempotency key. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, USERS, type TestApp } from './support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t.stop();
});

const input = (key: string) => ({
  kind: 'support' as const,
  title: `Concurrent ${key}`,
  source: { channel: 'slack' as const, slackUserId: USERS.rep },
  idempotencyKey: key,
  actor: 'test',
});

describe('ticket numbers', () => {
  it('when 50 tickets are created at once, then they get 50 distinct AR numbers starting at 1001', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => t.app.services.tickets.open(input(`n-${i}`))),
    );
    const numbers = results.map((r) => r.ticket.number);
    expect(new Set(numbers).size).toBe(50);
    expect(Math.min(...numbers)).toBe(1001);
    expect(results.every((r) => r.ticket.ref === `AR-${r.ticket.number}`)).toBe(true);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(50);
  });

  it('when the same request races itself, then one ticket is made', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => t.app.services.tickets.open(input('same-key'))));
    expect(new Set(results.map((r) => r.ticket.ref)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await t.app.db.models.Ticket.countDocuments({ idempotencyKey: 'same-key' })).toBe(1);
  });

  it('when a ticket is deleted, then its number is not handed out again', async () => {
    const { ticket } = await t.app.services.tickets.open(input('to-delete'));
    await t.app.db.models.Ticket.deleteOne({ ref: ticket.ref });
    const { ticket: next } = await t.app.services.tickets.open(input('after-delete'));
    expect(next.number).toBeGreaterThan(ticket.number);
  });
});
