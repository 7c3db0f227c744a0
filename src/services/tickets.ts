/** Opening, reading and moving tickets. Every change appends to the ticket's history. */
import { randomInt } from 'node:crypto';
import type { Mailbox, Team } from '../config.js';
import type { Models } from '../db/models.js';
import { claimOnce } from '../db/claims.js';
import { racingUpsert } from '../db/models.js';
import type { TicketDoc } from '../db/models/ticket.js';
import {
  FIRST_TICKET_NUMBER,
  formatRef,
  KIND_LABELS,
  openForOf,
  parseRef,
  teamFor,
  type TicketKind,
} from '../domain/ticket.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Outbox, OutboxLane } from './outbox.js';
import { requireRole } from './roles.js';
import { escapeText } from '../domain/slack-text.js';
import type { SlaHooks } from './sla.js';
import { checkOwner, roundRobinOwner } from './assignment.js';

export interface TicketDeps {
  models: Models;
  outbox: Outbox;
  log: Logger;
  metrics?: Metrics;
  /** The app clock (clock.ts): tests move it, so nothing here reads the system time. */
  now: () => Date;
  /** Service levels (services/sla.ts): timers on open, met, paused, resumed. Absent in a few unit paths. */
  sla?: SlaHooks | undefined;
  /** How each team's new tickets get an owner (ASSIGN_<TEAM>). */
  assign?: Record<Team, 'off' | 'round-robin'> | undefined;
  /** The closing email with the CSAT question (services/csat.ts). */
  csatHooks?: { closed(ticket: Ticket): Promise<void> } | undefined;
}

export interface OpenTicketInput {
  kind: TicketKind;
  title: string;
  description?: string | undefined;
  accountId?: string | undefined;
  source:
    { channel: 'slack'; slackUserId: string } | { channel: 'email'; mailbox: Mailbox; email: string; replyTo?: string };
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
  // Two first-ever upserts can race; the loser goes again.
  const doc = await racingUpsert(() =>
    models.Counter.findOneAndUpdate({ _id: 'ticket' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' })
      .lean()
      .exec(),
  );
  return FIRST_TICKET_NUMBER - 1 + (doc?.seq ?? 1);
}

async function ticketForKey(models: Models, key: string): Promise<Ticket | null> {
  const row = await models.TicketKey.findById(key).lean();
  return row ? models.Ticket.findById(row.ref).lean<Ticket>() : null;
}

/**
 * Opens a ticket once per idempotency key. The ticket is inserted first (its unique `_id` AR-n
 * settles number races), then its key (whose unique `_id` settles request races); the loser of a
 * key race deletes its unannounced ticket and returns the winner's. The number it took is never reused.
 */
export async function openTicket(
  deps: TicketDeps,
  input: OpenTicketInput,
): Promise<{ ticket: Ticket; created: boolean }> {
  const { models } = deps;
  const now = deps.now();
  let ticket = await ticketForKey(models, input.idempotencyKey);
  let created = false;
  let taken = 0;
  const team = teamFor(input.kind, input.source.channel === 'email' ? input.source.mailbox : undefined);
  const owner = !ticket && deps.assign?.[team] === 'round-robin' ? await roundRobinOwner(models, team) : undefined;
  const sla = deps.sla?.timersFor({ kind: input.kind, source: input.source }, now);
  for (let attempt = 0; !ticket && attempt < MAX_NUMBER_ATTEMPTS; attempt += 1) {
    // Concurrent requests can be handed the same hint (the $inc is not atomic on FerretDB): after a
    // collision, move past the number seen taken, spread by a random step so contenders part.
    const hint = await nextNumber(models);
    const number = taken > 0 ? Math.max(hint, taken + 1 + randomInt(attempt + 1)) : hint;
    const ref = formatRef(number);
    const numbered = await claimOnce(
      models.Ticket,
      {
        _id: ref,
        number,
        ref,
        kind: input.kind,
        status: owner ? 'claimed' : 'new',
        title: input.title,
        description: input.description,
        accountId: input.accountId,
        team,
        source: input.source,
        ...(input.source.channel === 'slack' ? { openedBy: input.source.slackUserId } : {}),
        openFor: openForOf({
          status: owner ? 'claimed' : 'new',
          openedBy: input.source.channel === 'slack' ? input.source.slackUserId : undefined,
          assignee: owner,
        }),
        idempotencyKey: input.idempotencyKey,
        participants: input.participants ?? [],
        rule: input.rule,
        citesRef: input.citesRef,
        ...(owner ? { assignee: owner } : {}),
        ...(sla ? { sla } : {}),
        history: [
          {
            at: now,
            actor: input.actor,
            action: 'opened',
            note: `${input.kind} ticket opened via ${input.source.channel}`,
          },
          ...(owner
            ? [{ at: now, actor: 'system', action: 'assigned', note: `assigned to <@${owner}> (round-robin)` }]
            : []),
        ],
      },
      { readExisting: false },
    );
    if (!numbered.won) {
      taken = number;
      ticket = await ticketForKey(models, input.idempotencyKey); // number taken: maybe by this very request
      continue;
    }
    // Probed past the counter: move it up, so later requests do not walk the same taken numbers.
    if (number !== hint)
      await models.Counter.updateOne({ _id: 'ticket' }, { $max: { seq: number - FIRST_TICKET_NUMBER + 1 } });
    const keyed = await claimOnce(models.TicketKey, { _id: input.idempotencyKey, ref });
    if (keyed.won) {
      ticket = await models.Ticket.findById(ref).lean<Ticket>();
      created = true;
    } else {
      await models.Ticket.deleteOne({ _id: ref });
      ticket = keyed.existing
        ? ((await models.Ticket.findById(keyed.existing.ref).lean()) as Ticket | null)
        : await ticketForKey(models, input.idempotencyKey);
    }
  }
  if (!ticket) throw new Error('could not open the ticket after many attempts');
  // Armed even for an existing ticket, like its card below: a crash between the writes is repaired.
  await deps.sla?.started(ticket.ref);
  // Enqueued even for an existing ticket: if a crash fell between the two writes, the retry repairs it.
  // Someone who opened it in Slack is waiting for its card; a card for an email can wait its turn.
  await deps.outbox.enqueue({
    key: `ticket-card:${ticket.ref}:opened`,
    channel: 'slack',
    kind: 'post',
    payload: { type: 'ticket_card', ref: ticket.ref },
    ticketRef: ticket.ref,
    lane: laneOf(input.source),
  });
  if (created) {
    deps.metrics?.ticketsCreated.inc({ source: input.source.channel, kind: input.kind });
    deps.log.info(
      { event: 'ticket.opened', ref: ticket.ref, kind: ticket.kind, source: input.source.channel, rule: input.rule },
      'ticket opened',
    );
  }
  return { ticket, created };
}

/** Whose request it is decides who waits for what it causes: a person in Slack, or nobody in particular. */
function laneOf(source: OpenTicketInput['source']): OutboxLane {
  return source.channel === 'email' ? 'bulk' : 'interactive';
}

export async function findTicket(models: Models, refText: string): Promise<Ticket> {
  const number = parseRef(refText);
  if (number === undefined)
    throw new AppError('invalid_input', `"${refText.slice(0, 40)}" is not a ticket reference; they look like AR-1001.`);
  const ticket = await models.Ticket.findById(formatRef(number)).lean<Ticket>();
  if (!ticket) throw new AppError('not_found', `There is no ticket ${formatRef(number)}.`);
  return ticket;
}

/**
 * The open tickets the user opened or has claimed, newest first. Only open ones: they are the
 * user's work, and their number stays small while closed history grows for years. One equality
 * on the top-level `openFor`: FerretDB pushes only such filters down to its indexes, and sorts
 * and limits in memory whatever the filter let through, so an `$or`, a dotted field or a filter
 * matching closed tickets too would read every ticket the user ever had.
 */
export async function ticketsOf(models: Models, slackUserId: string, limit = 10): Promise<Ticket[]> {
  return models.Ticket.find({ openFor: slackUserId }).sort({ number: -1 }).limit(limit).lean<Ticket[]>();
}

async function changeTicket(
  deps: TicketDeps,
  ref: string,
  userId: string,
  change: { set: Record<string, unknown>; action: string; note?: string },
): Promise<Ticket> {
  const now = deps.now();
  const updated = await deps.models.Ticket.findOneAndUpdate(
    { _id: ref },
    {
      $set: change.set,
      $push: { history: { at: now, actor: `slack:${userId}`, action: change.action, note: change.note } },
    },
    { returnDocument: 'after' },
  ).lean<Ticket>();
  if (!updated) throw new AppError('not_found', `There is no ticket ${ref}.`);
  await deps.outbox.enqueue({
    key: `ticket-card:${ref}:${change.action}:${updated.history.length}`,
    channel: 'slack',
    kind: 'update',
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
  return changeTicket(deps, ticket.ref, userId, {
    set: {
      assignee: userId,
      status: 'claimed',
      openFor: openForOf({ ...ticket, assignee: userId, status: 'claimed' }),
    },
    action: 'claimed',
  });
}

export async function closeTicket(deps: TicketDeps, refText: string, userId: string): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, [ticket.team as 'sales' | 'billing' | 'support'], `close ${ticket.ref}`);
  if (ticket.status === 'closed') return ticket;
  const closed = await changeTicket(deps, ticket.ref, userId, {
    set: { status: 'closed', openFor: [] },
    action: 'closed',
  });
  await deps.sla?.closed(ticket.ref);
  await deps.csatHooks?.closed(closed);
  return closed;
}

/** "Waiting on customer" on the card: the ticket waits for the customer's answer and its clocks stop. */
export async function waitOnCustomer(deps: TicketDeps, refText: string, userId: string): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, [ticket.team as Team], `change ${ticket.ref}`);
  if (ticket.status === 'closed') throw new AppError('conflict', `${ticket.ref} is closed.`);
  if (ticket.status === 'waiting_on_customer') return ticket;
  const updated = await changeTicket(deps, ticket.ref, userId, {
    set: { status: 'waiting_on_customer' },
    action: 'waiting_on_customer',
  });
  await deps.sla?.paused(ticket.ref);
  return updated;
}

/** The role checks of a reassignment, before its modal is acknowledged: throws the reason. */
export async function checkReassign(deps: TicketDeps, refText: string, userId: string, owner: string): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, [ticket.team as Team], `reassign ${ticket.ref}`);
  if (ticket.status === 'closed') throw new AppError('conflict', `${ticket.ref} is closed.`);
  await checkOwner(deps.models, ticket.team as Team, owner);
  return ticket;
}

/** The team (or an admin) gives the ticket to another member. */
export async function reassignTicket(
  deps: TicketDeps,
  refText: string,
  userId: string,
  owner: string,
): Promise<Ticket> {
  const ticket = await checkReassign(deps, refText, userId, owner);
  if (ticket.assignee === owner) return ticket;
  const status = ticket.status === 'new' ? 'claimed' : ticket.status;
  const note = `${ticket.assignee ? `<@${ticket.assignee}>` : 'nobody'} → <@${owner}>`;
  return changeTicket(deps, ticket.ref, userId, {
    set: { assignee: owner, status, openFor: openForOf({ ...ticket, assignee: owner, status }) },
    action: 'reassigned',
    note,
  });
}

/**
 * Appends one line to a ticket's history (and optionally more changes); the card is re-rendered.
 * A line with a `key` is written once: a retried effect (a message processed again after a crash)
 * finds its line and changes nothing. Callers serialise a key's writers (see the mail claims).
 */
export async function recordOnTicket(
  deps: TicketDeps,
  ref: string,
  entry: {
    actor: string;
    action: string;
    note?: string | undefined;
    messageId?: string | undefined;
    key?: string | undefined;
  },
  change: { set?: Record<string, unknown>; addParticipant?: string; updateCard?: boolean; lane?: OutboxLane } = {},
): Promise<Ticket> {
  if (entry.key) {
    const current = await deps.models.Ticket.findById(ref).lean<Ticket>();
    if (!current) throw new AppError('not_found', `There is no ticket ${ref}.`);
    if (current.history.some((h) => h.key === entry.key)) return current;
  }
  const now = deps.now();
  const update: Record<string, unknown> = { $push: { history: { at: now, ...entry } } };
  if (change.set) update.$set = change.set;
  if (change.addParticipant) update.$addToSet = { participants: change.addParticipant };
  const updated = await deps.models.Ticket.findOneAndUpdate({ _id: ref }, update, {
    returnDocument: 'after',
  }).lean<Ticket>();
  if (!updated) throw new AppError('not_found', `There is no ticket ${ref}.`);
  if (change.updateCard) {
    await deps.outbox.enqueue({
      key: `ticket-card:${ref}:${entry.action}:${updated.history.length}`,
      channel: 'slack',
      kind: 'update',
      payload: { type: 'ticket_card', ref },
      ticketRef: ref,
      ...(change.lane ? { lane: change.lane } : {}),
    });
  }
  return updated;
}

/** A closed or waiting ticket a customer wrote to again: back to its owner, or to the queue. */
function reopened(current: Ticket): Record<string, unknown> {
  const status = current.assignee ? 'claimed' : 'new';
  return { status, openFor: openForOf({ ...current, status }) };
}

/** A customer's email joined the ticket: history, participant, reopened if closed, and a line in its Slack thread (bulk: mail caused them). */
export async function addCustomerReply(
  deps: TicketDeps,
  ref: string,
  reply: { from: string; messageId: string; excerpt: string },
): Promise<Ticket> {
  const current = await deps.models.Ticket.findById(ref).lean<Ticket>();
  if (!current) throw new AppError('not_found', `There is no ticket ${ref}.`);
  const reopen = current.status === 'closed' || current.status === 'waiting_on_customer';
  const ticket = await recordOnTicket(
    deps,
    ref,
    { actor: `email:${reply.from}`, action: 'customer_replied', note: reply.excerpt, messageId: reply.messageId },
    { addParticipant: reply.from, updateCard: reopen, lane: 'bulk', ...(reopen ? { set: reopened(current) } : {}) },
  );
  await deps.outbox.enqueue({
    key: `thread:${ref}:${reply.messageId}`,
    channel: 'slack',
    kind: 'thread_reply',
    payload: {
      type: 'thread_reply',
      ref,
      text: `:incoming_envelope: *${escapeText(reply.from)}* replied${reopen ? ' (ticket reopened)' : ''}:\n>${escapeText(reply.excerpt).replace(/\n/g, '\n>')}`,
    },
    ticketRef: ref,
    lane: 'bulk',
  });
  // The customer answered: a waiting ticket's clocks go on; a closed one was reopened.
  if (current.status === 'waiting_on_customer') await deps.sla?.resumed(ref);
  if (current.status === 'closed') await deps.sla?.reopened(ref);
  return ticket;
}

/**
 * Relabelling a ticket is for its own team (and admins): another team relabelling billing's
 * migration would switch off billing's steps. A kind that work hangs on stays: a migration with a
 * handoff, or a ticket with plan changes still scheduled, keeps its kind and the refusal says why.
 */
export async function changeKind(deps: TicketDeps, refText: string, userId: string, kind: TicketKind): Promise<Ticket> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(
    deps.models,
    userId,
    [ticket.team as 'sales' | 'billing' | 'support'],
    `change the kind of ${ticket.ref}`,
  );
  if (ticket.kind === kind) return ticket;
  if (ticket.kind === 'migration' && ticket.migration) {
    throw new AppError(
      'rule_refused',
      `${ticket.ref} stays a migration: it has a handoff to billing (${ticket.migration.stage.replace(/_/g, ' ')}). Nothing was changed.`,
    );
  }
  const pending = await deps.models.PlanChange.exists({
    ...(ticket.accountId ? { accountId: ticket.accountId } : {}),
    ticketRef: ticket.ref,
    status: 'scheduled',
  });
  if (pending) {
    throw new AppError(
      'rule_refused',
      `${ticket.ref} has plan changes still scheduled, so it stays ${KIND_LABELS[ticket.kind as TicketKind] ?? ticket.kind}. Cancel them first (see /account). Nothing was changed.`,
    );
  }
  return changeTicket(deps, ticket.ref, userId, {
    set: { kind },
    action: 'kind_changed',
    note: `${ticket.kind} → ${kind}`,
  });
}
