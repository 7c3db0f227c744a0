/**
 * Enqueue side effects (Slack posts, emails) durably. The row is written first, then a delivery job
 * is asked for; if the process dies in between, the outbox sweep job finds the row.
 */
import type { Models } from '../db/models.js';
import { insertOnce } from '../db/claims.js';
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
  | {
      type: 'review_notice';
      inboundId: string;
      mailbox: string;
      reason: string;
      from?: string | undefined;
      subject?: string | undefined;
    }
  | { type: 'direct_message'; user: string; text: string }
  /** An SLA breach: to SLACK_CHANNEL_ESCALATION, or the ticket's team channel. */
  | { type: 'escalation'; ref: string; text: string };

/**
 * What a row does, said by whoever writes it, so the deliverer never guesses from its key:
 * `post` makes a new Slack message (a ticket card's first post, the handoff card, a review
 * notice), `update` edits a card posted before (and waits for that post), `thread_reply` answers
 * in a card's thread, `dm` writes to one person, `email` sends an email.
 */
export type OutboxKind = 'post' | 'update' | 'thread_reply' | 'dm' | 'email';
export const OUTBOX_KINDS: readonly OutboxKind[] = ['post', 'update', 'thread_reply', 'dm', 'email'];

/**
 * The row's kind. Rows written before the field existed (still pending after an upgrade, or kept
 * sent/dead for review) have none; for them it is derived once, here, from what their keys and
 * payloads always said, so no deliverer reads keys again.
 */
export function kindOf(row: { kind?: string | null; channel: string; key: string; payload: unknown }): OutboxKind {
  if (row.kind && (OUTBOX_KINDS as readonly string[]).includes(row.kind)) return row.kind as OutboxKind;
  if (row.channel === 'email') return 'email';
  switch ((row.payload as { type?: string } | null)?.type) {
    case 'thread_reply':
      return 'thread_reply';
    case 'direct_message':
      return 'dm';
    case 'ticket_card':
      return row.key.endsWith(':opened') ? 'post' : 'update';
    case 'handoff_card':
      return row.key.startsWith('handoff-card:') ? 'post' : 'update';
    default:
      return 'post';
  }
}

/** `lane` defaults to interactive: only the mail path knows its rows can wait. */
export type OutboxEntry =
  | {
      key: string;
      channel: 'slack';
      kind: Exclude<OutboxKind, 'email'>;
      payload: SlackIntent;
      ticketRef?: string;
      lane?: OutboxLane;
    }
  | { key: string; channel: 'email'; kind: 'email'; payload: EmailPayload; ticketRef?: string; lane?: OutboxLane };

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
      const inserted = await insertOnce(models.Outbox, {
        _id: entry.key,
        ...entry,
        lane,
        status: 'pending',
        attempts: 0,
        nextAttemptAt: now(),
      });
      // A channel that is off (Slack without credentials) keeps its rows until it is on.
      if (inserted && channelsOn.has(entry.channel)) deliverSoon(entry.key, lane);
      return inserted;
    },
  };
}
