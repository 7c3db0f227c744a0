/**
 * Email to customers, through the outbox. The Message-ID is fixed when the email is enqueued and
 * recorded with its ticket at once, so a reply to it threads even if it arrives before delivery
 * finishes, and a retry sends the very same message.
 */
import { randomUUID } from 'node:crypto';
import type { Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { insertOnce } from '../db/claims.js';
import type { EmailPayload } from '../domain/email.js';
import { staffReply } from '../domain/email-templates.js';
import { replyAddress } from '../domain/reply-address.js';
import { AppError } from '../errors.js';
import type { Outbox, OutboxLane } from './outbox.js';
import { requireRole } from './roles.js';
import { findTicket, recordOnTicket, type TicketDeps } from './tickets.js';
import type { SlaHooks } from './sla.js';

/** How many automatic answers one address may get per hour: enough for real people, too few for a loop. */
export const ACKS_PER_HOUR = 3;

export interface EmailDeps {
  models: Models;
  outbox: Outbox;
  domain: string;
  /** Signs the Reply-To plus address (domain/reply-address.ts). */
  appKey: Buffer;
  now: () => Date;
  /** Service levels: an email a person sends the customer is a response (services/sla.ts). */
  sla?: SlaHooks | undefined;
}

export interface TicketEmail {
  /** Unique per email intent (e.g. `ack:<inbound key>`): the same intent enqueues one email. */
  key: string;
  ref: string;
  mailbox: Mailbox;
  to: string;
  subject: string;
  text: string;
  inReplyTo?: string | undefined;
  references?: string[] | undefined;
  automatic: boolean;
  /** Interactive unless said otherwise: acknowledgements of inbound mail are bulk. */
  lane?: OutboxLane;
}

export function mailboxAddress(mailbox: Mailbox, domain: string): string {
  return `${mailbox}@${domain}`;
}

const MAILBOX_NAMES: Record<Mailbox, string> = {
  billing: 'Billing',
  sales: 'Sales',
  support: 'Support',
  selfserve: 'Self-serve',
};

export async function enqueueTicketEmail(deps: EmailDeps, email: TicketEmail): Promise<string> {
  const existing = await deps.models.Outbox.findById(`email:${email.key}`).lean();
  if (existing) return (existing.payload as EmailPayload).messageId;
  const messageId = `${randomUUID()}@${deps.domain}`;
  const payload: EmailPayload = {
    from: mailboxAddress(email.mailbox, deps.domain),
    fromName: MAILBOX_NAMES[email.mailbox],
    to: email.to,
    replyTo: replyAddress(deps.appKey, email.mailbox, deps.domain, email.ref),
    subject: email.subject,
    text: email.text,
    messageId,
    ...(email.inReplyTo ? { inReplyTo: email.inReplyTo } : {}),
    ...(email.references?.length ? { references: email.references } : {}),
    automatic: email.automatic,
  };
  await deps.models.MailMessage.create({
    _id: messageId,
    ticketRef: email.ref,
    direction: 'out',
    address: email.to,
    at: deps.now(),
  });
  await deps.outbox.enqueue({
    key: `email:${email.key}`,
    channel: 'email',
    kind: 'email',
    payload,
    ticketRef: email.ref,
    ...(email.lane ? { lane: email.lane } : {}),
  });
  // A person's answer (a reply from Slack, a migration or plan step), never an acknowledgement.
  if (!email.automatic) await deps.sla?.responded(email.ref);
  return messageId;
}

/** Takes one of the address's acknowledgement slots for this hour; false when all are used. */
export async function takeAckSlot(deps: Pick<EmailDeps, 'models' | 'now'>, address: string): Promise<boolean> {
  const hour = Math.floor(deps.now().getTime() / 3_600_000);
  for (let slot = 0; slot < ACKS_PER_HOUR; slot += 1) {
    if (await insertOnce(deps.models.AckSlot, { _id: `${address.toLowerCase()}:${hour}:${slot}`, at: deps.now() }))
      return true;
  }
  return false;
}

/** Message-IDs of a ticket's conversation, oldest first, for the References header. */
export async function conversationIds(models: Models, ref: string): Promise<string[]> {
  const rows = await models.MailMessage.find({ ticketRef: ref }).sort({ at: 1 }).limit(50).lean();
  return rows.map((r) => r._id);
}

/** Staff answer the customer from Slack: threaded on the conversation, recorded on the ticket. */
export async function replyByEmail(
  deps: EmailDeps & { tickets: TicketDeps },
  input: { ref: string; userId: string; body: string; requestKey: string },
): Promise<{ to: string; messageId: string }> {
  const ticket = await findTicket(deps.models, input.ref);
  await requireRole(
    deps.models,
    input.userId,
    [ticket.team as 'sales' | 'billing' | 'support'],
    `reply on ${ticket.ref}`,
  );
  // A person answering may follow the customer's Reply-To (the card shows both addresses).
  const to = ticket.source?.channel === 'email' ? (ticket.source.replyTo ?? ticket.source.email) : undefined;
  const mailbox = ticket.source?.mailbox as Mailbox | undefined;
  if (!to || !mailbox)
    throw new AppError('rule_refused', `${ticket.ref} did not come by email, so there is no one to email.`);
  const ids = await conversationIds(deps.models, ticket.ref);
  const rendered = staffReply({ ref: ticket.ref, subject: ticket.title, body: input.body });
  const messageId = await enqueueTicketEmail(deps, {
    key: `reply:${ticket.ref}:${input.requestKey}`,
    ref: ticket.ref,
    mailbox,
    to,
    subject: rendered.subject,
    text: rendered.text,
    inReplyTo: ids.at(-1),
    references: ids,
    automatic: false,
  });
  await recordOnTicket(
    deps.tickets,
    ticket.ref,
    { actor: `slack:${input.userId}`, action: 'emailed', note: `Reply emailed to ${to}`, messageId },
    { updateCard: true, set: { status: 'waiting_on_customer' } },
  );
  await deps.tickets.sla?.paused(ticket.ref);
  return { to, messageId };
}
