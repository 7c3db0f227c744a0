/** The pieces of the outbox's timing and in-process lanes, without a database or Slack. */
import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '@slack/web-api';
import {
  ATTEMPT_MAX_MS,
  CLAIM_LIFETIME_MS,
  LOOKUP_MAX_PAGES,
  RETRY_AFTER_UNKNOWN_MS,
  SLACK_CALL_TIMEOUT_MS,
  SLACK_SETTLE_MS,
} from '../src/jobs/delivery-timing.js';
import { backoff, backoffCeilingMs } from '../src/backoff.js';
import { DeliveryError, OUTBOX_BACKOFF, retryDelayMs } from '../src/jobs/outbox.js';
import { createLanes, LANE_SLOTS, YIELDED_SLOTS } from '../src/lanes.js';
import { createLogger } from '../src/logger.js';
import { toDeliveryError } from '../src/slack/notifier.js';

describe('delivery timing', () => {
  it('when an attempt makes every Slack call it may and each times out, then it still ends before its claim counts as abandoned, with time for Slack to settle', () => {
    const slowestSlackAttempt = (1 + LOOKUP_MAX_PAGES + 1) * SLACK_CALL_TIMEOUT_MS;
    expect(ATTEMPT_MAX_MS).toBeGreaterThan(slowestSlackAttempt);
    expect(CLAIM_LIFETIME_MS).toBeGreaterThanOrEqual(ATTEMPT_MAX_MS + SLACK_SETTLE_MS);
  });

  it('when a call timed out, then the next attempt waits at least until Slack has settled it, and longer as failures repeat', () => {
    const timeout = new DeliveryError('no answer', { outcomeUnknown: true });
    expect(RETRY_AFTER_UNKNOWN_MS).toBeGreaterThan(SLACK_CALL_TIMEOUT_MS);
    expect(retryDelayMs(timeout, 0)).toBe(RETRY_AFTER_UNKNOWN_MS);
    expectBackoff(retryDelayMs(timeout, 8), 8);
    expectBackoff(retryDelayMs(timeout, 0, { settle: false }), 0);
  });

  it('when Slack said when to come back or the failure is certain, then that decides, not the settle time', () => {
    expect(retryDelayMs(new DeliveryError('rate limited', { retryAfterMs: 1000, outcomeUnknown: true }), 0)).toBe(1000);
    expectBackoff(retryDelayMs(new DeliveryError('refused'), 0), 0);
  });
});

/** The outbox's back-off after `attempts` failures: between half its ceiling and the ceiling. */
function expectBackoff(delayMs: number, attempts: number): void {
  const ceiling = backoffCeilingMs(attempts, OUTBOX_BACKOFF);
  expect(delayMs).toBeGreaterThanOrEqual(ceiling / 2);
  expect(delayMs).toBeLessThanOrEqual(ceiling);
}

describe('back-off', () => {
  const policy = { baseMs: 1000, capMs: 60_000 };

  it('when attempts repeat, then the delay doubles up to the cap, spread between half of it and all of it', () => {
    expect([0, 1, 2, 10].map((n) => backoffCeilingMs(n, policy))).toEqual([1000, 2000, 4000, 60_000]);
    expect(backoff(3, policy, () => 0)).toBe(4000);
    expect(backoff(3, policy, () => 0.999999)).toBe(8000);
    expect(backoff(50, policy, () => 0.5)).toBe(45_000);
  });

  it('when many retries fail at the same moment, then their next tries are spread, not all at once', () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoff(6, policy)));
    expect(delays.size).toBeGreaterThan(50);
    for (const d of delays) expect(d >= 30_000 && d <= 60_000).toBe(true);
  });
});

describe('Slack failures sorted by what they say about the post', () => {
  const requestError = (original: Record<string, unknown>) =>
    Object.assign(new Error('A request error occurred'), { code: ErrorCode.RequestError, original });

  it('when the client gave up waiting or the connection dropped, then the outcome is unknown', () => {
    const timedOut = toDeliveryError(
      requestError({ name: 'TimeoutError', message: 'The operation was aborted due to timeout' }),
    );
    const dropped = toDeliveryError(
      requestError({ name: 'TypeError', message: 'fetch failed', cause: { code: 'ECONNRESET' } }),
    );
    expect([timedOut.opts.outcomeUnknown, dropped.opts.outcomeUnknown]).toEqual([true, true]);
    expect(timedOut.message).toMatch(/no answer within 10 s/);
  });

  it('when the connection was refused, Slack answered an error, or rate limited us, then nothing was posted', () => {
    const refused = toDeliveryError(
      requestError({ name: 'TypeError', message: 'fetch failed', cause: { code: 'ECONNREFUSED' } }),
    );
    const platform = toDeliveryError(
      Object.assign(new Error('x'), { code: ErrorCode.PlatformError, data: { error: 'missing_scope' } }),
    );
    const limited = toDeliveryError(Object.assign(new Error('x'), { code: ErrorCode.RateLimitedError, retryAfter: 3 }));
    expect([refused, platform, limited].map((e) => e.opts.outcomeUnknown ?? false)).toEqual([false, false, false]);
    // A missing scope (an app not yet reinstalled) waits to be fixed; it is not a reason to drop the post.
    expect(platform.opts.permanent).toBe(false);
    expect(limited.opts.retryAfterMs).toBe(3000);
  });

  it('when Slack answers 5xx, then it may have posted; a 4xx says it did not', () => {
    const http = (statusCode: number) =>
      toDeliveryError(Object.assign(new Error('x'), { code: ErrorCode.HTTPError, statusCode }));
    expect([http(503).opts.outcomeUnknown, http(400).opts.outcomeUnknown]).toEqual([true, false]);
  });
});

describe('lanes', () => {
  const log = createLogger('silent');
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  };

  it('when the bulk lane is full, then interactive work starts at once', async () => {
    const lanes = createLanes(log);
    const hold = gate();
    for (let i = 0; i < 10; i++) lanes.bulk.run(`b${i}`, () => hold.opened);
    const started = gate();
    lanes.interactive.run('i1', async () => started.open());
    await started.opened;
    expect(lanes.bulk.depth()).toBe(10);
    hold.open();
  });

  it('when interactive work is waiting or running, then each bulk lane starts one task at a time, and its full share again after', async () => {
    const lanes = createLanes(log);
    const person = gate();
    const personDone = gate();
    lanes.interactive.run('i1', async () => {
      await person.opened;
      personDone.open();
    });
    const hold = gate();
    let running = 0;
    let most = 0;
    for (let i = 0; i < 6; i++) {
      lanes.mail.run(`m${i}`, async () => {
        running += 1;
        most = Math.max(most, running);
        await hold.opened;
        running -= 1;
      });
    }
    await new Promise((r) => setImmediate(r));
    expect({ running, most }).toEqual({ running: YIELDED_SLOTS, most: YIELDED_SLOTS });
    person.open();
    await personDone.opened;
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(LANE_SLOTS.mail);
    hold.open();
  });

  it('when the lanes are shared (the old single queue), then interactive work waits behind bulk work', async () => {
    const lanes = createLanes(log, { shared: true });
    const hold = gate();
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      lanes.bulk.run(`b${i}`, async () => {
        order.push(`b${i}`);
        await hold.opened;
      });
    }
    const done = gate();
    lanes.interactive.run('i1', async () => {
      order.push('i1');
      done.open();
    });
    hold.open();
    await done.opened;
    expect(order.indexOf('i1')).toBe(6);
  });

  it('when the same key is handed over while it waits or runs, then it runs once; after it ends, again', async () => {
    const lanes = createLanes(log);
    const hold = gate();
    let runs = 0;
    const work = async () => {
      runs += 1;
      await hold.opened;
    };
    expect([lanes.interactive.run('row', work), lanes.interactive.run('row', work)]).toEqual([true, false]);
    hold.open();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(lanes.interactive.run('row', async () => void (runs += 1))).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(runs).toBe(2);
  });
});
