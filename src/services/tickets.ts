/** Opening, reading and moving tickets. Every change appends to the ticket's history. */
import type { Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { isDuplicateKey } from '../db/models.js';
import type { TicketDoc } from '../db/models/ticket.js';
import { FIRST_TICKET_NUMBER, formatRef, parseRef, teamFor, type TicketKind } from '../domain/ticket.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Outbox, OutboxLane } from './outbox.js';
import { requireRole } from './roles.js';

export interface TicketDeps {
  models: Models;
  outbox: Outbox;
  log: Logger;
  metrics?: Metrics;
  now?: () => Date;
}

export interface OpenTicketInput {
  kind: TicketKind;
  title: string;
  description?: string | undefined;
  accountId?: string | undefined;
  source: { channel: 'slack'; slackUserId: string } | { channel: 'email'; mailbox: Mailbox; email: string };
  /** Same key, same ticket: `slack:view:<id>`, `email:<mailbox>:<message-id>`. */
  idempotencyKey: string;
  actor: string;
  participants?: string[];
  rule?: string | undefined;
  citesRef?: string | undefined;
}

export type Ticket = TicketDoc;

const MAX_NUMBER_ATTEMPTS = 100;

/**
 * The next AR number. The counter's $inc is a hint (not atomic on every engine); the unique index
 * on tickets.number is the guard, and a collision simply asks again.
 */
async function nextNumber(models: Models): Promise<number> {
  for (let i = 0; i < 5; i += 1) {
    try {
      const doc = await models.Counter.findOneAndUpdate({ _id: 'ticket' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' }).lean();
      return FIRST_TICKET_NUMBER - 1 + (doc?.seq ?? 1);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // two first-ever upserts raced; the loser tries again
    }
  }
  throw new Error('could not allocate a ticket number');
}

async function ticketForKey(models: Models, key: string): Promise<Ticket | null> {
  const row = await models.TicketKey.findById(key).lean();
  return row ? ((await models.Ticket.findById(row.ref).lean()) as Ticket | null) : null;
}

/**
 * Opens a ticket once per idempotency key. The ticket is inserted first (its unique `_id` AR-n
 * settles number races), then its key (whose unique `_id` settles request races); the loser of a
 * key race deletes its unannounced ticket and returns the winner's. The number it took is never reused.
 */
export async function openTicket(deps: TicketDeps, input: OpenTicketInput): Promise<{ ticket: Ticket; created: boolean }> {
  const { models } = deps;
  const now = deps.now?.() ?? new Date();
  let ticket = await ticketForKey(models, input.idempotencyKey);
  let created = false;
  for (let attempt = 0; !ticket && attempt < MAX_NUMBER_ATTEMPTS; attempt += 1) {
    const number = await nextNumber(models);
    const ref = formatRef(number);
    try {
      await models.Ticket.create({
        _id: ref,
        number,
        ref,
        kind: input.kind,
        status: 'new',
        title: input.title,
        description: input.description,
        accountId: input.accountId,
        team: teamFor(input.kind, input.source.channel === 'email' ? input.source.mailbox : undefined),
        source: input.source,
        idempotencyKey: input.idempotencyKey,
        participants: input.participants ?? [],
        rule: input.rule,
        citesRef: input.citesRef,
        history: [{ at: now, actor: input.actor, action: 'opened', note: `${input.kind} ticket opened via ${input.source.channel}` }],
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      ticket = await ticketForKey(models, input.idempotencyKey); // number taken: maybe by this very request
      continue;
    }
    try {
      await models.TicketKey.create({ _id: input.idempotencyKey, ref });
      ticket = (await models.Ticket.findById(ref).lean()) as Ticket | null;
      created = true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      await models.Ticket.deleteOne({ _id: ref });
      ticket = await ticketForKey(models, input.idempotencyKey);
    }
  }
  if (!ticket) throw new Error('could not open the ticket after many attempts');
  // Enqueued even for an existing ticket: if a crash fell between the two writes, the retry repairs it.
  // Someone who opened it in Slack is waiting for its card; a card for an email can wait its turn.
  await deps.outbox.enqueue({
    key: `ticket-card:${ticket.ref}:opened`,
    channel: 'slack',
    payload: { type: 'ticket_card', ref: ticket.ref },
    ticketRef: ticket.ref,
    lane: laneOf(input.source),
  });
  if (created) {
    deps.metrics?.ticketsCreated.inc({ source: input.source.channel, kind: input.kind });
    deps.log.info({ event: 'ticket.opened', ref: ticket.ref, kind: ticket.kind, source: input.source.channel, rule: input.rule }, 'ticket opened');
  }
  return { ticket, created };
}

/** Whose request it is decides who waits for what it causes: a person in Slack, or nobody in particular. */
function laneOf(source: OpenTicketInput['source']): OutboxLane {
  return source.channel === 'email' ? 'bulk' : 'interactive';
}

export async function findTicket(models: Models, refText: string): Promise<Ticket> {
  const number = parseRef(refText);
  if (number === undefined) throw new AppError('invalid_input', `"${refText.slice(0, 40)}" is not a ticket reference; they look like AR-1001.`);
  const ticket = (await models.Ticket.findById(formatRef(number)).lean()) as Ticket | null;
  if (!ticket) throw new AppError('not_found', `There is no ticket ${formatRef(number)}.`);
  return ticket;
}

/** Tickets the user opened or has claimed, newest first. */
export async function ticketsOf(models: Models, slackUserId: string, limit = 10): Promise<Ticket[]> {
  return (await models.Ticket.find({ $or: [{ 'source.slackUserId': slackUserId }, { assignee: slackUserId }] })
    .sort({ number: -1 })
    .limit(limit)
    .lean()) as Ticket[];
}

async function changeTicket(
  deps: TicketDeps,
  ref: string,
  userId: string,
  change: { set: Record<string, unknown>; action: string; note?: string },
): Promise<Ticket> {
  const now = deps.now?.() ?? new Date();
  const updated = (await deps.models.Ticket.findOneAndUpdate(
    { _id: ref },
    { $set: change.set, $push: { history: { at: now, actor: `slack:${userId}`, action: change.action, note: change.note } } },
    { returnDocument: 'after' },
  ).lean()) as Ticket | null;
  if (!updated) throw new AppError('not_found', `There is no ticket ${ref}.`);
  await deps.outbox.enqueue({
    key: `ticket-card:${ref}:${change.action}:${updated.history.length}`,
    channel: 'slack',
    payload: { type: 'ticket_card', ref },
    ticketRef: ref,
  });
  deps.log.info({ event: `ticket.${change.action}`, ref, actor: userId }, `ticket ${change.action}`);
  return updated;
}

export async function claimTicket(deps: TicketDeps, refText: string, userId: string): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, [ticket.team as 'sales' | 'billing' | 'support'], `claim ${ticket.ref}`);
  if (ticket.status === 'closed') throw new AppError('conflict', `${ticket.ref} is closed.`);
  if (ticket.assignee === userId) return ticket; // a repeated click changes nothing
  return changeTicket(deps, ticket.ref, userId, { set: { assignee: userId, status: 'claimed' }, action: 'claimed' });
}

export async function closeTicket(deps: TicketDeps, refText: string, userId: string): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, [ticket.team as 'sales' | 'billing' | 'support'], `close ${ticket.ref}`);
  if (ticket.status === 'closed') return ticket;
  return changeTicket(deps, ticket.ref, userId, { set: { status: 'closed' }, action: 'closed' });
}

/** Appends one line to a ticket's history (and optionally more changes); the card is re-rendered. */
export async function recordOnTicket(
  deps: TicketDeps,
  ref: string,
  entry: { actor: string; action: string; note?: string | undefined; messageId?: string | undefined },
  change: { set?: Record<string, unknown>; addParticipant?: string; updateCard?: boolean; lane?: OutboxLane } = {},
): Promise<Ticket> {
  const now = deps.now?.() ?? new Date();
  const update: Record<string, unknown> = { $push: { history: { at: now, ...entry } } };
  if (change.set) update.$set = change.set;
  if (change.addParticipant) update.$addToSet = { participants: change.addParticipant };
  const updated = (await deps.models.Ticket.findOneAndUpdate({ _id: ref }, update, { returnDocument: 'after' }).lean()) as Ticket | null;
  if (!updated) throw new AppError('not_found', `There is no ticket ${ref}.`);
  if (change.updateCard) {
    await deps.outbox.enqueue({
      key: `ticket-card:${ref}:${entry.action}:${updated.history.length}`,
      channel: 'slack',
      payload: { type: 'ticket_card', ref },
      ticketRef: ref,
      ...(change.lane ? { lane: change.lane } : {}),
    });
  }
  return updated;
}

/** A customer's email joined the ticket: history, participant, reopened if closed, and a line in its Slack thread (bulk: mail caused them). */
export async function addCustomerReply(
  deps: TicketDeps,
  ref: string,
  reply: { from: string; messageId: string; excerpt: string },
): Promise<Ticket> {
  const current = (await deps.models.Ticket.findById(ref).lean()) as Ticket | null;
  if (!current) throw new AppError('not_found', `There is no ticket ${ref}.`);
  const reopen = current.status === 'closed' || current.status === 'waiting_on_customer';
  const ticket = await recordOnTicket(
    deps,
    ref,
    { actor: `email:${reply.from}`, action: 'customer_replied', note: reply.excerpt, messageId: reply.messageId },
    { addParticipant: reply.from, updateCard: reopen, lane: 'bulk', ...(reopen ? { set: { status: current.assignee ? 'claimed' : 'new' } } : {}) },
  );
  await deps.outbox.enqueue({
    key: `thread:${ref}:${reply.messageId}`,
    channel: 'slack',
    payload: { type: 'thread_reply', ref, text: `:incoming_envelope: *${reply.from}* replied${reopen ? ' (ticket reopened)' : ''}:\n>${reply.excerpt.replace(/\n/g, '\n>')}` },
    ticketRef: ref,
    lane: 'bulk',
  });
  return ticket;
}

export async function changeKind(deps: TicketDeps, refText: string, userId: string, kind: TicketKind): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, ['sales', 'billing', 'support'], `change the kind of ${ticket.ref}`);
  if (ticket.kind === kind) return ticket;
  return changeTicket(deps, ticket.ref, userId, { set: { kind }, action: 'kind_changed', note: `${ticket.kind} → ${kind}` });
}
