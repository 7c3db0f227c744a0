/**
 * Enqueue side effects (Slack posts, emails) durably. The row is written first, then a delivery job
 * is asked for; if the process dies in between, the outbox sweep job finds the row.
 */
import type { Models } from '../db/models.js';
import { isDuplicateKey } from '../db/models.js';
import type { EmailPayload } from '../domain/email.js';
import type { Outbox } from './ports.js';

/** The port services write side effects through (its interface is with the other ports). */
export type { Outbox } from './ports.js';

/**
 * Who is waiting for a row. `interactive`: a person, right now (the card of a ticket they opened
 * in Slack, the update after their click, their reply email, a migration or plan step's email).
 * `bulk`: nobody in particular (what inbound mail causes: new tickets' cards, acknowledgements,
 * replies in threads, review notices). Bulk rows never hold up interactive ones.
 */
export type OutboxLane = 'interactive' | 'bulk';

/** What the Slack notifier knows how to render and send. */
export type SlackIntent =
  | { type: 'ticket_card'; ref: string }
  /** A migration's handoff, posted to the billing channel (the ticket card stays in sales). */
  | { type: 'handoff_card'; ref: string }
  /** In the thread of the ticket's card, or (`post: 'handoff'`) of its billing handoff card. */
  | { type: 'thread_reply'; ref: string; text: string; post?: 'card' | 'handoff' }
  | { type: 'review_notice'; inboundId: string; mailbox: string; reason: string; from?: string | undefined; subject?: string | undefined }
  | { type: 'direct_message'; user: string; text: string }
  /** An SLA breach: to SLACK_CHANNEL_ESCALATION, or the ticket's team channel. */
  | { type: 'escalation'; ref: string; text: string };

/** `lane` defaults to interactive: only the mail path knows its rows can wait. */
export type OutboxEntry =
  | { key: string; channel: 'slack'; payload: SlackIntent; ticketRef?: string; lane?: OutboxLane }
  | { key: string; channel: 'email'; payload: EmailPayload; ticketRef?: string; lane?: OutboxLane };

/**
 * `deliverSoon` hands a new row to this process's delivery lane at once; retries and rows this
 * process never got to are the outbox jobs' business (see jobs/outbox.ts). `now` is the app's
 * clock: the worker compares `nextAttemptAt` with it, so a row stamped in real time while tests
 * hold the clock behind would wait until the clock caught up.
 */
export function createOutbox(
  models: Models,
  deliverSoon: (id: string, lane: OutboxLane) => void,
  channelsOn: ReadonlySet<string>,
  now: () => Date,
): Outbox {
  return {
    async enqueue(entry) {
      const lane = entry.lane ?? 'interactive';
      let inserted = true;
      let id: unknown;
      try {
        const row = await models.Outbox.create({ _id: entry.key, ...entry, lane, status: 'pending', attempts: 0, nextAttemptAt: now() });
        id = row._id;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        inserted = false;
      }
      // A channel that is off (Slack without credentials) keeps its rows until it is on.
      if (inserted && channelsOn.has(entry.channel)) deliverSoon(String(id), lane);
      return inserted;
    },
  };
}
