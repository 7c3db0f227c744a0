/**
 * How a migration step is written down: one ticket update with its history line (both Slack cards
 * refreshed through the outbox), and the customer's email on the ticket's conversation.
 */
import type { Mailbox } from '../config.js';
import type { RenderedMail } from '../domain/email-templates.js';
import type { MigrationMailContext } from '../domain/migration-emails.js';
import { AppError } from '../errors.js';
import { reached } from '../domain/migration.js';
import { conversationIds, enqueueTicketEmail, type EmailDeps } from './email.js';
import type { Outbox } from './outbox.js';
import type { Ticket } from './tickets.js';
import type { Models } from '../db/models.js';

/** Stores one billing step on the ticket (a single write) and has both cards updated. */
export async function recordBillingStep(
  deps: { models: Models; outbox: Outbox },
  ref: string,
  set: Record<string, unknown>,
  unset: Record<string, ''>,
  line: { at: Date; actor: string; action: string; note: string },
  more: { addTrusted?: string } = {},
): Promise<Ticket> {
  const update = {
    $set: set,
    $push: { history: line },
    ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
    ...(more.addTrusted ? { $addToSet: { trusted: more.addTrusted } } : {}),
  };
  const updated = await deps.models.Ticket.findOneAndUpdate({ _id: ref }, update, {
    returnDocument: 'after',
  }).lean<Ticket>();
  if (!updated) throw new AppError('not_found', `There is no ticket ${ref}.`);
  const key = `${line.action}:${line.at.getTime()}`;
  await deps.outbox.enqueue({
    key: `ticket-card:${ref}:${key}`,
    channel: 'slack',
    kind: 'update',
    payload: { type: 'ticket_card', ref },
    ticketRef: ref,
  });
  await deps.outbox.enqueue({
    key: `handoff-update:${ref}:${key}`,
    channel: 'slack',
    kind: 'update',
    payload: { type: 'handoff_card', ref },
    ticketRef: ref,
  });
  return updated;
}

/** Where a migration's emails go: the address sales gave, else the customer who wrote. */
export function customerEmailOf(ticket: Ticket): string | undefined {
  return (
    ticket.migration?.customerEmail ??
    (ticket.source?.channel === 'email' ? (ticket.source.email ?? undefined) : undefined) ??
    ticket.participants[0]
  );
}

/** Issues the customer's page link for a ticket (services/migration-links.ts); absent without PUBLIC_URL. */
export interface LinkIssuer {
  linkFor(ticket: Ticket): string | undefined;
}

/** What every migration email names; from "scheduled" on it carries the customer's page link. */
export function mailContext(ticket: Ticket, links?: LinkIssuer | undefined): MigrationMailContext {
  const m = ticket.migration;
  const link = links && reached(m?.stage, 'scheduled') ? links.linkFor(ticket) : undefined;
  return {
    ref: ticket.ref,
    subject: ticket.title,
    customerName: m?.customerName,
    enterprisePlan: m?.enterprisePlan,
    enterpriseStartDate: m?.enterpriseStartDate,
    ...(link ? { link } : {}),
  };
}

/** Migration emails are billing's, whichever mailbox the customer first wrote to (selfserve@, sales@…). */
const MIGRATION_MAILBOX: Mailbox = 'billing';

/**
 * Emails the customer from billing@ ("Billing"), threaded on the ticket's conversation: the reply
 * joins the ticket by its In-Reply-To (every Message-ID we send is recorded with the ticket), not by
 * the mailbox it is sent to. Returns what happened in words: `emailed <address>`, or why nothing
 * was sent (no address on file).
 */
export async function emailMigrationCustomer(
  deps: EmailDeps,
  ticket: Ticket,
  key: string,
  rendered: RenderedMail,
): Promise<string> {
  const to = customerEmailOf(ticket);
  if (!to) return 'no customer email on file, so no email was sent';
  const ids = await conversationIds(deps.models, ticket.ref);
  await enqueueTicketEmail(deps, {
    key: `migration:${ticket.ref}:${key}`,
    ref: ticket.ref,
    mailbox: MIGRATION_MAILBOX,
    to,
    subject: rendered.subject,
    text: rendered.text,
    inReplyTo: ids.at(-1),
    references: ids,
    automatic: false,
  });
  return `emailed ${to}`;
}
