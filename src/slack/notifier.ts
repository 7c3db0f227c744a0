/**
 * Delivers Slack outbox rows: renders the intent (a ticket card, a direct message) from current
 * data and calls the Web API. Errors are sorted into "retry later" and "retrying cannot help".
 */
import { ErrorCode, WebClient, type WebAPICallResult } from '@slack/web-api';
import type { Team } from '../config.js';
import { insertIfAbsent, type Models } from '../db/models.js';
import type { OutboxDoc } from '../db/models/outbox.js';
import { DeliveryError, type Deliverer } from '../jobs/outbox.js';
import type { SlackIntent } from '../services/outbox.js';
import { ticketCard } from '../../views/ticket-card.js';
import { reviewNotice } from '../../views/review-notice.js';
import { handoffCard } from '../../views/handoff-card.js';

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
  return new DeliveryError(`slack unreachable: ${e.message ?? String(err)}`);
}

export function createDeliveryClient(opts: { token: string; apiUrl: string | undefined }): WebClient {
  // The outbox does its own retrying, honouring Retry-After; the client must not wait or retry.
  return new WebClient(opts.token, {
    ...(opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
  });
}

export function createSlackDeliverer(deps: { client: WebClient; models: Models; channels: Record<Team, string>; timeZone?: string }): Deliverer {
  const { client, models, channels } = deps;
  // TZ_BILLING: cards name the C4S cancellation as the customer's email does.
  const timeZone = deps.timeZone ?? 'UTC';

  async function call<T extends WebAPICallResult>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toDeliveryError(err);
    }
  }

  async function ticketCardDelivery(row: OutboxDoc, ref: string): Promise<Record<string, unknown>> {
    const ticket = await models.Ticket.findById(ref).lean();
    if (!ticket) throw new DeliveryError(`ticket ${ref} not found`, { permanent: true });
    const card = ticketCard(ticket, { timeZone });
    const posted = await models.SlackPost.findById(`card:${ref}`).lean();
    if (posted) {
      await call(() => client.chat.update({ channel: posted.channel, ts: posted.ts, text: card.text, blocks: card.blocks }));
      return { channel: posted.channel, ts: posted.ts, updated: true };
    }
    // Only the "opened" row posts the card; later updates wait for it so a ticket never gets two cards.
    if (!row.key.endsWith(':opened')) throw new DeliveryError(`card for ${ref} not posted yet`, { retryAfterMs: 2000 });
    const channel = channels[ticket.team as Team];
    const res = await call(() => client.chat.postMessage({ channel, text: card.text, blocks: card.blocks, unfurl_links: false }));
    await insertIfAbsent(() => models.SlackPost.create({ _id: `card:${ref}`, channel: res.channel ?? channel, ts: res.ts, at: new Date() }));
    return { channel: res.channel ?? channel, ts: res.ts };
  }

  /**
   * The handoff posts once to billing (rows keyed `handoff-card:`); later rows (scheduled, withdrawn,
   * cancelled) update that post in place and wait for it, so billing never gets two cards.
   */
  async function handoffCardDelivery(row: OutboxDoc, ref: string): Promise<Record<string, unknown>> {
    const ticket = await models.Ticket.findById(ref).lean();
    if (!ticket?.migration) throw new DeliveryError(`no handoff on ${ref}`, { permanent: true });
    const posted = await models.SlackPost.findById(`handoff:${ref}`).lean();
    const card = handoffCard({ ref: ticket.ref, timeZone, migration: ticket.migration });
    if (posted) {
      if (row.key.startsWith('handoff-card:')) return { channel: posted.channel, ts: posted.ts, alreadyPosted: true };
      await call(() => client.chat.update({ channel: posted.channel, ts: posted.ts, text: card.text, blocks: card.blocks }));
      return { channel: posted.channel, ts: posted.ts, updated: true };
    }
    if (!row.key.startsWith('handoff-card:')) throw new DeliveryError(`handoff for ${ref} not posted yet`, { retryAfterMs: 2000 });
    const res = await call(() => client.chat.postMessage({ channel: channels.billing, text: card.text, blocks: card.blocks, unfurl_links: false }));
    const channel = res.channel ?? channels.billing;
    await insertIfAbsent(() => models.SlackPost.create({ _id: `handoff:${ref}`, channel, ts: res.ts, at: new Date() }));
    return { channel, ts: res.ts };
  }

  return async (row) => {
    const intent = row.payload as SlackIntent;
    switch (intent.type) {
      case 'ticket_card':
        return ticketCardDelivery(row, intent.ref);
      case 'handoff_card':
        return handoffCardDelivery(row, intent.ref);
      case 'thread_reply': {
        const post = await models.SlackPost.findById(`${intent.post ?? 'card'}:${intent.ref}`).lean();
        if (!post) throw new DeliveryError(`${intent.post ?? 'card'} for ${intent.ref} not posted yet`, { retryAfterMs: 2000 });
        const res = await call(() => client.chat.postMessage({ channel: post.channel, thread_ts: post.ts, text: intent.text.slice(0, 3900), unfurl_links: false }));
        return { channel: res.channel, ts: res.ts };
      }
      case 'review_notice': {
        const notice = reviewNotice(intent);
        const res = await call(() => client.chat.postMessage({ channel: channels.support, ...notice, unfurl_links: false }));
        return { channel: res.channel, ts: res.ts };
      }
      case 'direct_message': {
        const res = await call(() => client.chat.postMessage({ channel: intent.user, text: intent.text }));
        return { channel: res.channel, ts: res.ts };
      }
      default:
        throw new DeliveryError(`unknown slack intent ${(intent as { type?: string }).type}`, { permanent: true });
    }
  };
}
