/**
 * Delivers Slack outbox rows: renders the intent (a ticket card, a direct message) from current
 * data and calls the Web API. Errors are sorted into "retry later" and "retrying cannot help".
 * Every post carries its row's key, and an attempt after the first looks for an earlier post of
 * that key before posting (see earlier-post.ts), so a retry never leaves a second copy.
 */
import { ErrorCode, WebClient } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import type { Team } from '../config.js';
import { insertOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { OutboxDoc } from '../db/models/outbox.js';
import { LOOKUP_MAX_PAGES, SLACK_CALL_TIMEOUT_MS } from '../jobs/delivery-timing.js';
import { DeliveryError, type Attempt, type Deliverer } from '../jobs/outbox.js';
import { slackLogger, type Logger } from '../logger.js';
import { kindOf, type SlackIntent } from '../services/outbox.js';
import { ticketCard } from '../../views/ticket-card.js';
import { reviewNotice } from '../../views/review-notice.js';
import { handoffCard } from '../../views/handoff-card.js';
import { findEarlierPost, outboxMetadata } from './earlier-post.js';

const PERMANENT_ERRORS = new Set([
  'invalid_blocks',
  'invalid_arguments',
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'msg_too_long',
  'no_text',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'not_authed',
  'message_not_found',
  'thread_not_found',
]);

/** Translates a Web API failure into a DeliveryError the outbox understands. */
export function toDeliveryError(err: unknown): DeliveryError {
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; message?: string };
  if (e.code === ErrorCode.RateLimitedError) {
    return new DeliveryError('slack rate limited', { retryAfterMs: Math.max(1, e.retryAfter ?? 1) * 1000 });
  }
  if (e.code === ErrorCode.PlatformError) {
    const error = e.data?.error ?? 'unknown';
    return new DeliveryError(`slack: ${error}`, { permanent: PERMANENT_ERRORS.has(error) });
  }
  if (e.code === ErrorCode.HTTPError) {
    // A 5xx may come after Slack did the work; anything else it answers is a refusal.
    const status = (err as { statusCode?: number }).statusCode ?? 0;
    return new DeliveryError(`slack unreachable: HTTP ${status}`, { outcomeUnknown: status >= 500 });
  }
  const original = (err as { original?: { name?: string; code?: string; cause?: { code?: string } } }).original;
  if (original?.name === 'TimeoutError')
    return new DeliveryError(
      `slack gave no answer within ${SLACK_CALL_TIMEOUT_MS / 1000} s; it may still have done it`,
      { outcomeUnknown: true },
    );
  // A refused connection never reached Slack; a dropped one may have.
  const refused = (original?.cause?.code ?? original?.code) === 'ECONNREFUSED';
  return new DeliveryError(`slack unreachable: ${e.message ?? String(err)}`, { outcomeUnknown: !refused });
}

export function createDeliveryClient(opts: { token: string; apiUrl: string | undefined; log: Logger }): WebClient {
  // The outbox does its own retrying, honouring Retry-After; the client must not wait or retry.
  return new WebClient(opts.token, {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    // Its own console lines would break the one-JSON-line-per-event log.
    logger: slackLogger(opts.log, 'slack-web-api'),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: SLACK_CALL_TIMEOUT_MS,
  });
}

/** Where a post goes: a channel, a thread under one of its messages, or a person's DM. */
type Target = { channel: string; threadTs?: string } | { user: string };

interface Posted {
  channel: string;
  ts: string;
  /** Set when an earlier attempt's post was found and taken instead of posting again. */
  found?: true;
}

export function createSlackDeliverer(deps: {
  client: WebClient;
  models: Models;
  channels: Record<Team, string>;
  /** TZ_BILLING: cards name the C4S cancellation as the customer's email does. */
  timeZone?: string;
  log: Logger;
  /** Where SLA breaches go (SLACK_CHANNEL_ESCALATION); unset, the ticket's team channel. */
  escalationChannel?: string | undefined;
  /** The app clock: cards say how long is left of a ticket's SLA target. */
  now?: () => Date;
  /** Bench only: post again without looking for the earlier post, as before issue 9 (see StartOptions.legacy). */
  lookBeforeRepeat?: boolean;
}): Deliverer {
  const { client, models, channels } = deps;
  const log = deps.log.child({ component: 'slack-notifier' });
  const lookBeforeRepeat = deps.lookBeforeRepeat ?? true;
  const timeZone = deps.timeZone ?? 'UTC';
  const now = deps.now ?? (() => new Date());

  async function call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDeliveryError(err);
    }
  }

  async function dmChannel(user: string): Promise<string> {
    const res = await call(() => client.conversations.open({ users: user }));
    if (!res.channel?.id) throw new DeliveryError(`slack opened no DM with ${user}`);
    return res.channel.id;
  }

  /**
   * Posts the row's message, carrying its key. Any attempt after the first may repeat one whose post
   * went out unseen (a timeout, a crash mid-call), so it looks for that post first and takes it.
   * The look reaches back to the row's creation, which comes before every attempt at it.
   */
  async function postOnce(
    row: OutboxDoc,
    attempt: Attempt,
    target: Target,
    message: { text: string; blocks?: KnownBlock[] },
  ): Promise<Posted> {
    if (lookBeforeRepeat && attempt.number > 0) {
      const place = 'user' in target ? { channel: await dmChannel(target.user) } : target;
      const earlier = await call(() => findEarlierPost(client, place, row.key, row.createdAt ?? row.nextAttemptAt));
      if (!('exhausted' in earlier)) {
        log.info(
          {
            event: 'slack.repeat_avoided',
            key: row.key,
            channel: place.channel,
            ts: earlier.ts,
            attempt: attempt.number,
          },
          'an earlier attempt had posted; not posting again',
        );
        return { channel: place.channel, ts: earlier.ts, found: true };
      }
      if (earlier.exhausted)
        log.warn(
          { event: 'slack.lookup_exhausted', key: row.key, channel: place.channel, pages: LOOKUP_MAX_PAGES },
          'no earlier post in the pages read; posting',
        );
    }
    const where =
      'user' in target
        ? { channel: target.user }
        : { channel: target.channel, ...(target.threadTs ? { thread_ts: target.threadTs } : {}) };
    const res = await call(() =>
      client.chat.postMessage({ ...where, ...message, metadata: outboxMetadata(row.key), unfurl_links: false }),
    );
    if (!res.ts) throw new DeliveryError('slack answered a post without its ts');
    return { channel: res.channel ?? where.channel, ts: res.ts };
  }

  async function ticketCardDelivery(row: OutboxDoc, attempt: Attempt, ref: string): Promise<Record<string, unknown>> {
    const ticket = await models.Ticket.findById(ref).lean();
    if (!ticket) throw new DeliveryError(`ticket ${ref} not found`, { permanent: true });
    const card = ticketCard(ticket, { timeZone, now: now() });
    const posted = await models.SlackPost.findById(`card:${ref}`).lean();
    if (posted) {
      await call(() =>
        client.chat.update({ channel: posted.channel, ts: posted.ts, text: card.text, blocks: card.blocks }),
      );
      return { channel: posted.channel, ts: posted.ts, updated: true };
    }
    // Only the row that posts the card posts it; updates wait for it so a ticket never gets two cards.
    if (kindOf(row) !== 'post') throw new DeliveryError(`card for ${ref} not posted yet`, { retryAfterMs: 2000 });
    const post = await postOnce(row, attempt, { channel: channels[ticket.team as Team] }, card);
    await insertOnce(models.SlackPost, { _id: `card:${ref}`, channel: post.channel, ts: post.ts, at: new Date() });
    return { ...post };
  }

  /**
   * The handoff posts once to billing (the handoff's `post` row; a repeat of it finds the post);
   * later rows (scheduled, withdrawn, cancelled) update that post in place and wait for it, so
   * billing never gets two cards.
   */
  async function handoffCardDelivery(row: OutboxDoc, attempt: Attempt, ref: string): Promise<Record<string, unknown>> {
    const ticket = await models.Ticket.findById(ref).lean();
    if (!ticket?.migration) throw new DeliveryError(`no handoff on ${ref}`, { permanent: true });
    const posted = await models.SlackPost.findById(`handoff:${ref}`).lean();
    const card = handoffCard({ ref: ticket.ref, timeZone, migration: ticket.migration });
    const kind = kindOf(row);
    if (posted) {
      if (kind === 'post') return { channel: posted.channel, ts: posted.ts, alreadyPosted: true };
      await call(() =>
        client.chat.update({ channel: posted.channel, ts: posted.ts, text: card.text, blocks: card.blocks }),
      );
      return { channel: posted.channel, ts: posted.ts, updated: true };
    }
    if (kind !== 'post') throw new DeliveryError(`handoff for ${ref} not posted yet`, { retryAfterMs: 2000 });
    const post = await postOnce(row, attempt, { channel: channels.billing }, card);
    await insertOnce(models.SlackPost, { _id: `handoff:${ref}`, channel: post.channel, ts: post.ts, at: new Date() });
    return { ...post };
  }

  /** Posts or updates a card, or posts a review notice: the intent says which message. */
  async function message(row: OutboxDoc, attempt: Attempt, intent: SlackIntent): Promise<Record<string, unknown>> {
    switch (intent.type) {
      case 'ticket_card':
        return ticketCardDelivery(row, attempt, intent.ref);
      case 'handoff_card':
        return handoffCardDelivery(row, attempt, intent.ref);
      case 'review_notice':
        return { ...(await postOnce(row, attempt, { channel: channels.support }, reviewNotice(intent))) };
      case 'escalation': {
        const ticket = await models.Ticket.findById(intent.ref).select({ team: 1 }).lean();
        if (!ticket) throw new DeliveryError(`ticket ${intent.ref} not found`, { permanent: true });
        const channel = deps.escalationChannel ?? channels[ticket.team as Team];
        return { ...(await postOnce(row, attempt, { channel }, { text: intent.text.slice(0, 3900) })) };
      }
      default:
        throw new DeliveryError(`slack intent ${intent.type} cannot be a post or an update`, { permanent: true });
    }
  }

  return async (row, attempt) => {
    const intent = row.payload as SlackIntent;
    const kind = kindOf(row);
    switch (kind) {
      case 'post':
      case 'update':
        return message(row, attempt, intent);
      case 'thread_reply': {
        if (intent.type !== 'thread_reply')
          throw new DeliveryError(`a thread reply row holds a ${intent.type}`, { permanent: true });
        // `post`: the billing channel's handoff card, or (by default) the team's ticket card.
        const post = await models.SlackPost.findById(`${intent.post ?? 'card'}:${intent.ref}`).lean();
        if (!post)
          throw new DeliveryError(`${intent.post ?? 'card'} for ${intent.ref} not posted yet`, { retryAfterMs: 2000 });
        return {
          ...(await postOnce(
            row,
            attempt,
            { channel: post.channel, threadTs: post.ts },
            { text: intent.text.slice(0, 3900) },
          )),
        };
      }
      case 'dm':
        if (intent.type !== 'direct_message')
          throw new DeliveryError(`a DM row holds a ${intent.type}`, { permanent: true });
        return { ...(await postOnce(row, attempt, { user: intent.user }, { text: intent.text })) };
      default:
        throw new DeliveryError(`slack cannot deliver a row of kind ${kind}`, { permanent: true });
    }
  };
}
