/**
 * The automatic answer to a new ticket opened by email, or the reason there is none. The mail
 * adapter says whether the message may be answered at all (mail/loop-guard.ts reads its headers)
 * and to whom; this adds what the bot knows: an address that bounced before gets nothing, and no
 * address gets more than ACKS_PER_HOUR an hour. Recorded once per message: a re-run after a crash
 * finds its history line, or the queued email, and adds nothing.
 */
import type { Mailbox } from '../config.js';
import { acknowledgement } from '../domain/email-templates.js';
import type { TicketKind } from '../domain/ticket.js';
import { enqueueTicketEmail, takeAckSlot, type EmailDeps } from './email.js';
import { recordOnTicket, type TicketDeps } from './tickets.js';

export interface AcknowledgementDeps extends EmailDeps {
  tickets: TicketDeps;
}

export interface NewTicketMail {
  /** The inbound message's key: the acknowledgement's key derives from it. */
  key: string;
  ref: string;
  mailbox: Mailbox;
  kind?: TicketKind | undefined;
  subject: string;
  messageId?: string | undefined;
  references: string[];
  /** Whom an automatic answer would go to (never a Reply-To), if anyone. */
  to?: string | undefined;
  /** The loop guard's verdict on the message's headers. */
  answerable: { ok: true } | { ok: false; reason: string };
}

export async function acknowledgeNewTicket(deps: AcknowledgementDeps, mail: NewTicketMail): Promise<void> {
  const { models } = deps;
  const { ref, to } = mail;
  const key = `ack:${mail.key}`;
  const ticket = await models.Ticket.findById(ref).select({ history: 1 }).lean();
  if (ticket?.history.some((h) => h.key === key)) return;
  const queued = await models.Outbox.findById(`email:${key}`).select({ payload: 1 }).lean();
  if (queued) {
    await recordOnTicket(deps.tickets, ref, {
      actor: 'system',
      action: 'acknowledged',
      note: `Acknowledgement emailed to ${(queued.payload as { to: string }).to}`,
      key,
    });
    return;
  }
  let reason = mail.answerable.ok ? undefined : mail.answerable.reason;
  if (!reason && to && (await models.Undeliverable.exists({ _id: to.toLowerCase() })))
    reason = 'address bounced before';
  if (!reason && to && !(await takeAckSlot(deps, to))) reason = 'acknowledgement limit for this address reached';
  if (reason || !to) {
    await recordOnTicket(deps.tickets, ref, {
      actor: 'system',
      action: 'ack_suppressed',
      note: reason ?? 'no address to answer',
      key,
    });
    return;
  }
  const rendered = acknowledgement({
    ref,
    subject: mail.subject,
    mailbox: mail.mailbox,
    domain: deps.domain,
    ...(mail.kind ? { kind: mail.kind } : {}),
  });
  await enqueueTicketEmail(deps, {
    key,
    ref,
    mailbox: mail.mailbox,
    to,
    subject: rendered.subject,
    text: rendered.text,
    inReplyTo: mail.messageId,
    references: [...mail.references, ...(mail.messageId ? [mail.messageId] : [])],
    automatic: true,
    lane: 'bulk',
  });
  await recordOnTicket(deps.tickets, ref, {
    actor: 'system',
    action: 'acknowledged',
    note: `Acknowledgement emailed to ${to}`,
    key,
  });
}
