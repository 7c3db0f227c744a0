/**
 * What becomes of a stored inbound message: a new ticket (acknowledged by email unless that would
 * answer a machine), a reply on its ticket, a bounce or auto-reply record, or a row kept for staff
 * review. Runs in the `mail.process` job; running it twice changes nothing twice.
 */
import type { Config, Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { insertIfAbsent, isDuplicateKey } from '../db/models.js';
import type { InboundMailDoc } from '../db/models/mail.js';
import { formatRef, parseRef } from '../domain/ticket.js';
import type { Logger } from '../logger.js';
import type { Scheduler } from '../jobs/scheduler.js';
import { enqueueTicketEmail, mailboxAddress, takeAckSlot } from '../services/email.js';
import type { Outbox } from '../services/outbox.js';
import { addCustomerReply, openTicket, recordOnTicket, type TicketDeps } from '../services/tickets.js';
import { classify } from './classify.js';
import { SWEEP_MAIL_JOB } from './inbound-store.js';
import { classifyInbound, shouldAutoReply } from './loop-guard.js';
import { parseMail, type ParsedMail } from './parse.js';
import { acknowledgement } from '../domain/email-templates.js';
import type { RawStore } from './raw-store.js';

type Outcome = { status: 'ticket' | 'reply' | 'bounce' | 'auto-reply' | 'review'; ticketRef?: string; reason?: string; rule?: string };

const EXCERPT_CHARS = 500;
const DESCRIPTION_CHARS = 20_000;
/** A row still `received` this long after arrival lost its job (a crash): the sweep runs it. */
const STALE_MS = 60_000;

export interface MailIngestDeps {
  config: Config;
  models: Models;
  raw: RawStore;
  outbox: Outbox;
  scheduler: Scheduler;
  log: Logger;
  tickets: TicketDeps;
  now?: () => Date;
  /** A customer's reply joined a ticket (migration replies may name the projects to move). Idempotent per Message-ID. */
  onReply?: (ref: string, reply: { from: string; text: string; messageId: string }) => Promise<unknown>;
}

function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text.replace(/\r/g, '').replace(/\n{3,}/g, '\n\n').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function createMailIngest(deps: MailIngestDeps) {
  const { models, config, outbox } = deps;
  const log = deps.log.child({ component: 'mail' });
  const domain = config.mail.domain;
  const ourAddresses = (['billing', 'sales', 'support', 'selfserve'] as Mailbox[]).map((m) => mailboxAddress(m, domain));
  const emailDeps = { models, outbox, domain, ...(deps.now ? { now: deps.now } : {}) };

  /** The ticket a message belongs to, by its thread headers, else by plus address or [AR-n]. */
  async function findThread(doc: InboundMailDoc, mail: ParsedMail): Promise<{ ref?: string; citesRef?: string }> {
    const ids = [mail.inReplyTo, ...mail.references].filter((id): id is string => Boolean(id));
    if (ids.length > 0) {
      // Newest first, one `_id` lookup each (cheap everywhere), at most 20.
      for (const id of [...new Set(ids)].reverse().slice(0, 20)) {
        if (id === mail.messageId) continue;
        const known = await models.MailMessage.findById(id).lean();
        if (known) return { ref: known.ticketRef };
      }
    }
    const plusNumber = doc.plusTag ? parseRef(doc.plusTag) : undefined;
    if (plusNumber !== undefined) {
      const ticket = await models.Ticket.findById(formatRef(plusNumber)).select({ ref: 1 }).lean();
      if (ticket) return { ref: ticket.ref };
    }
    const cited = /\[(AR-\d+)\]/i.exec(mail.subject)?.[1];
    const citedNumber = cited ? parseRef(cited) : undefined;
    if (citedNumber !== undefined) {
      const ticket = await models.Ticket.findById(formatRef(citedNumber)).select({ ref: 1, participants: 1 }).lean();
      if (ticket && mail.from && ticket.participants.includes(mail.from.address)) return { ref: ticket.ref };
      if (ticket) return { citesRef: ticket.ref };
    }
    return {};
  }

  async function handleBounce(mail: ParsedMail): Promise<Outcome> {
    const original = mail.originalMessageId ? await models.MailMessage.findById(mail.originalMessageId).lean() : null;
    const ref = original?.ticketRef;
    for (const address of mail.failedRecipients) {
      // The first bounce for an address is the one kept.
      await insertIfAbsent(() =>
        models.Undeliverable.create({ _id: address.toLowerCase(), reason: excerpt(mail.subject, 200), at: deps.now?.() ?? new Date(), ...(ref ? { ticketRef: ref } : {}) }),
      );
    }
    if (ref) {
      const who = mail.failedRecipients.join(', ') || original?.address || 'the customer';
      await recordOnTicket(deps.tickets, ref, { actor: 'system', action: 'bounced', note: `Our email to ${who} could not be delivered.` });
    }
    return { status: 'bounce', ...(ref ? { ticketRef: ref } : {}) };
  }

  async function handleAutoReply(doc: InboundMailDoc, mail: ParsedMail): Promise<Outcome> {
    const { ref } = await findThread(doc, mail);
    if (ref) await recordOnTicket(deps.tickets, ref, { actor: `email:${mail.from?.address ?? 'unknown'}`, action: 'auto_reply', note: excerpt(mail.subject, 200) });
    return { status: 'auto-reply', ...(ref ? { ticketRef: ref } : {}) };
  }

  async function handleReply(ref: string, doc: InboundMailDoc, mail: ParsedMail, messageId: string): Promise<Outcome> {
    // The Message-ID row is the claim: a second run finds it and does not append the reply again.
    try {
      await models.MailMessage.create({ _id: messageId, ticketRef: ref, direction: 'in', address: mail.from?.address, at: deps.now?.() ?? new Date() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const ticket = await models.Ticket.findById(ref).select({ history: 1 }).lean();
      const applied = ticket?.history.some((h) => h.action === 'customer_replied' && h.messageId === messageId);
      if (applied) {
        await deps.onReply?.(ref, { from: mail.from?.address ?? 'unknown', text: mail.replyText || mail.text, messageId });
        return { status: 'reply', ticketRef: ref };
      }
    }
    await addCustomerReply(deps.tickets, ref, { from: mail.from?.address ?? 'unknown', messageId, excerpt: excerpt(mail.replyText || mail.text) });
    await deps.onReply?.(ref, { from: mail.from?.address ?? 'unknown', text: mail.replyText || mail.text, messageId });
    return { status: 'reply', ticketRef: ref };
  }

  async function handleNew(doc: InboundMailDoc, mail: ParsedMail, messageId: string, citesRef?: string): Promise<Outcome> {
    const mailbox = doc.mailbox as Mailbox;
    const from = mail.from?.address ?? doc.envelopeFrom ?? 'unknown';
    const body = mail.replyText || mail.text;
    const decided = classify({ mailbox, subject: mail.subject, text: body });
    const { ticket } = await openTicket(deps.tickets, {
      kind: decided.kind,
      title: mail.subject.trim() || '(no subject)',
      description: body.slice(0, DESCRIPTION_CHARS),
      accountId: decided.accountId,
      source: { channel: 'email', mailbox, email: from },
      idempotencyKey: `email:${doc.key}`,
      actor: `email:${from}`,
      participants: mail.from ? [mail.from.address] : [],
      rule: decided.rule,
      citesRef,
    });
    await insertIfAbsent(() => models.MailMessage.create({ _id: messageId, ticketRef: ticket.ref, direction: 'in', address: from, at: deps.now?.() ?? new Date() }));
    await acknowledge(doc, mail, ticket.ref, messageId, decided.kind);
    return { status: 'ticket', ticketRef: ticket.ref, rule: decided.rule };
  }

  async function acknowledge(doc: InboundMailDoc, mail: ParsedMail, ref: string, messageId: string, kind: Parameters<typeof acknowledgement>[0]['kind']): Promise<void> {
    const decision = shouldAutoReply(mail, ourAddresses);
    const to = mail.replyTo?.address ?? mail.from?.address;
    let reason = decision.ok ? undefined : decision.reason;
    if (!reason && to && (await models.Undeliverable.exists({ _id: to.toLowerCase() }))) reason = 'address bounced before';
    if (!reason && to && !(await takeAckSlot(emailDeps, to))) reason = 'acknowledgement limit for this address reached';
    if (reason || !to) {
      await recordOnTicket(deps.tickets, ref, { actor: 'system', action: 'ack_suppressed', note: reason ?? 'no address to answer' });
      return;
    }
    const mailbox = doc.mailbox as Mailbox;
    const rendered = acknowledgement({ ref, subject: mail.subject, mailbox, domain, ...(kind ? { kind } : {}) });
    await enqueueTicketEmail(emailDeps, {
      key: `ack:${doc.key}`,
      ref,
      mailbox,
      to,
      subject: rendered.subject,
      text: rendered.text,
      inReplyTo: mail.messageId,
      references: [...mail.references, ...(mail.messageId ? [mail.messageId] : [])],
      automatic: true,
    });
    await recordOnTicket(deps.tickets, ref, { actor: 'system', action: 'acknowledged', note: `Acknowledgement emailed to ${to}` });
  }

  async function decide(doc: InboundMailDoc): Promise<Outcome> {
    // Streamed from the pieces and parsed with bounds: a large message is never held whole.
    const parsed = await parseMail(deps.raw.read(doc), { maxBytes: config.mail.inbound.maxBytes });
    if (!parsed.ok) return { status: 'review', reason: parsed.reason };
    const mail = parsed.mail;
    const kind = classifyInbound(mail);
    if (kind === 'bounce') return handleBounce(mail);
    if (kind === 'auto-reply') return handleAutoReply(doc, mail);
    if (!mail.subject.trim() && !mail.text.trim() && mail.attachments.length === 0) return { status: 'review', reason: 'no subject, text or attachment could be read' };
    if (!mail.from) {
      // No From header: the envelope sender is who to answer, if there is one.
      const sender = doc.envelopeFrom?.trim().toLowerCase();
      if (!sender || !/^[^\s@<>,]+@[^\s@<>,]+$/.test(sender)) return { status: 'review', reason: 'no sender address' };
      mail.from = { address: sender, name: '' };
    }
    const messageId = mail.messageId ?? doc.key;
    const thread = await findThread(doc, mail);
    if (thread.ref) return handleReply(thread.ref, doc, mail, messageId);
    return handleNew(doc, mail, messageId, thread.citesRef);
  }

  async function process(id: string): Promise<Outcome | undefined> {
    const doc = (await models.InboundMail.findById(id).lean()) as InboundMailDoc | null;
    if (!doc || doc.status !== 'received') return undefined;
    let outcome: Outcome;
    try {
      outcome = await decide(doc);
    } catch (err) {
      // A message we cannot process after several tries is kept for people, not retried forever.
      await models.InboundMail.updateOne({ _id: doc._id }, { $inc: { attempts: 1 } });
      if ((doc.attempts ?? 0) + 1 < 5) throw err;
      outcome = { status: 'review', reason: `processing failed: ${(err as Error).message.slice(0, 200)}` };
    }
    await models.InboundMail.updateOne(
      { _id: doc._id, status: 'received' },
      { $set: { ...outcome, processedAt: deps.now?.() ?? new Date() } },
    );
    if (outcome.status === 'review') {
      await outbox.enqueue({
        key: `review:${doc._id}`,
        channel: 'slack',
        payload: { type: 'review_notice', inboundId: String(doc._id), mailbox: doc.mailbox, reason: outcome.reason ?? 'unknown', from: doc.envelopeFrom ?? undefined },
      });
    }
    log.info({ event: 'mail.processed', id, mailbox: doc.mailbox, via: doc.via, status: outcome.status, ref: outcome.ticketRef, rule: outcome.rule, reason: outcome.reason }, `inbound mail: ${outcome.status}`);
    return outcome;
  }

  /** Processes rows left `received` (a crash, a failure); `staleMs` 0 at start-up takes them all. */
  async function sweep(staleMs = STALE_MS): Promise<number> {
    const cutoff = new Date((deps.now?.() ?? new Date()).getTime() - staleMs);
    const stale = await models.InboundMail.find({ status: 'received', createdAt: { $lte: cutoff } }).select({ _id: 1 }).limit(500).lean();
    let done = 0;
    for (const row of stale) {
      try {
        if (await process(String(row._id))) done += 1;
      } catch (err) {
        log.warn({ event: 'mail.process_failed', id: String(row._id), err: (err as Error).message }, 'will retry on the next sweep');
      }
    }
    return done;
  }

  deps.scheduler.define(SWEEP_MAIL_JOB, async () => void (await sweep()), { concurrency: 1, lockLifetimeMs: 600_000 });
  return { process, sweep };
}
export type MailIngest = ReturnType<typeof createMailIngest>;
