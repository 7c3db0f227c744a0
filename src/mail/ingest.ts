/**
 * What becomes of a stored inbound message: a new ticket (acknowledged by email unless that would
 * answer a machine), a reply on its ticket, a bounce or auto-reply record, or a row kept for staff
 * review. Runs in this process's queue as soon as the message is stored, or in the `mail.sweep`
 * job for what a crash or a failure left. Each attempt is claimed first (`mail_claims`), so two
 * processes or a sweep never work on one message at once; a re-run after a crash writes nothing
 * twice (history lines are keyed by the message). This file is the adapter: it parses, classifies
 * and records; which ticket a message joins is services/mail-threads.ts, and whether and how a new
 * ticket is acknowledged is services/acknowledgements.ts.
 */
import type { Config, Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { claimOnce, insertOnce } from '../db/claims.js';
import type { InboundMailDoc } from '../db/models/mail.js';
import type { TicketKind } from '../domain/ticket.js';
import type { Logger } from '../logger.js';
import type { Lane } from '../lanes.js';
import { acknowledgeNewTicket } from '../services/acknowledgements.js';
import { mailboxAddress } from '../services/email.js';
import { findThread } from '../services/mail-threads.js';
import type { Outbox } from '../services/outbox.js';
import { addCustomerReply, openTicket, recordOnTicket, type TicketDeps } from '../services/tickets.js';
import { classify } from './classify.js';
import { autoReplyRecipient, classifyInbound, shouldAutoReply } from './loop-guard.js';
import { parseMail, type ParsedMail } from './parse.js';
import type { RawStore } from './raw-store.js';

type Outcome = {
  status: 'ticket' | 'reply' | 'bounce' | 'auto-reply' | 'review';
  ticketRef?: string;
  reason?: string;
  rule?: string;
};

const EXCERPT_CHARS = 500;
const DESCRIPTION_CHARS = 20_000;
/** A row still `received` this long after arrival lost its job (a crash): the sweep runs it. */
const STALE_MS = 60_000;
/**
 * An attempt's claim older than this, with the row still `received`, belongs to a process that
 * died: the attempt is written off and the next sweep tries again. Far longer than processing
 * takes even on a loaded machine, so a slow attempt is never taken over while it runs.
 */
const STALE_CLAIM_MS = 10 * 60_000;

export interface MailIngestDeps {
  config: Config;
  models: Models;
  raw: RawStore;
  outbox: Outbox;
  /** Where this process processes mail (see lanes.ts). */
  lane: Lane;
  log: Logger;
  tickets: TicketDeps;
  /** The application key: reply addresses we hand out are signed with it, and checked here. */
  appKey: Buffer;
  now: () => Date;
  /** A customer's reply joined a ticket (migration replies may name the projects to move). Idempotent per Message-ID. */
  onReply?: (ref: string, reply: { from: string; text: string; messageId: string }) => Promise<unknown>;
}

function excerpt(text: string, max = EXCERPT_CHARS): string {
  const flat = text
    .replace(/\r/g, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

export function createMailIngest(deps: MailIngestDeps) {
  const { models, config, outbox } = deps;
  const log = deps.log.child({ component: 'mail' });
  const domain = config.mail.domain;
  const ourAddresses = (['billing', 'sales', 'support', 'selfserve'] as Mailbox[]).map((m) =>
    mailboxAddress(m, domain),
  );
  const ackDeps = { models, outbox, domain, appKey: deps.appKey, tickets: deps.tickets, now: deps.now };
  const threadDeps = { models, appKey: deps.appKey };

  /** The ticket `mail` belongs to (services/mail-threads.ts has the rules). */
  const threadOf = (doc: InboundMailDoc, mail: ParsedMail) =>
    findThread(threadDeps, {
      messageId: mail.messageId,
      inReplyTo: mail.inReplyTo,
      references: mail.references,
      subject: mail.subject,
      from: mail.from?.address,
      plusTag: doc.plusTag ?? undefined,
    });

  async function handleBounce(doc: InboundMailDoc, mail: ParsedMail): Promise<Outcome> {
    const original = mail.originalMessageId ? await models.MailMessage.findById(mail.originalMessageId).lean() : null;
    const ref = original?.ticketRef;
    for (const address of mail.failedRecipients) {
      // The first bounce for an address is the one kept.
      await insertOnce(models.Undeliverable, {
        _id: address.toLowerCase(),
        reason: excerpt(mail.subject, 200),
        at: deps.now(),
        ...(ref ? { ticketRef: ref } : {}),
      });
    }
    if (ref) {
      const who = mail.failedRecipients.join(', ') || original?.address || 'the customer';
      await recordOnTicket(deps.tickets, ref, {
        actor: 'system',
        action: 'bounced',
        note: `Our email to ${who} could not be delivered.`,
        key: `bounce:${doc.key}`,
      });
    }
    return { status: 'bounce', ...(ref ? { ticketRef: ref } : {}) };
  }

  async function handleAutoReply(doc: InboundMailDoc, mail: ParsedMail): Promise<Outcome> {
    const { ref } = await threadOf(doc, mail);
    if (ref)
      await recordOnTicket(deps.tickets, ref, {
        actor: `email:${mail.from?.address ?? 'unknown'}`,
        action: 'auto_reply',
        note: excerpt(mail.subject, 200),
        key: `auto-reply:${doc.key}`,
      });
    return { status: 'auto-reply', ...(ref ? { ticketRef: ref } : {}) };
  }

  async function handleReply(ref: string, doc: InboundMailDoc, mail: ParsedMail, messageId: string): Promise<Outcome> {
    // The Message-ID row is the claim: a second run finds it and does not append the reply again.
    if (
      !(await insertOnce(models.MailMessage, {
        _id: messageId,
        ticketRef: ref,
        direction: 'in',
        address: mail.from?.address,
        at: deps.now(),
      }))
    ) {
      const ticket = await models.Ticket.findById(ref).select({ history: 1 }).lean();
      const applied = ticket?.history.some((h) => h.action === 'customer_replied' && h.messageId === messageId);
      if (applied) {
        await deps.onReply?.(ref, {
          from: mail.from?.address ?? 'unknown',
          text: mail.replyText || mail.text,
          messageId,
        });
        return { status: 'reply', ticketRef: ref };
      }
    }
    await addCustomerReply(deps.tickets, ref, {
      from: mail.from?.address ?? 'unknown',
      messageId,
      excerpt: excerpt(mail.replyText || mail.text),
    });
    await deps.onReply?.(ref, { from: mail.from?.address ?? 'unknown', text: mail.replyText || mail.text, messageId });
    return { status: 'reply', ticketRef: ref };
  }

  async function handleNew(
    doc: InboundMailDoc,
    mail: ParsedMail,
    messageId: string,
    citesRef?: string,
  ): Promise<Outcome> {
    const mailbox = doc.mailbox as Mailbox;
    const from = mail.from?.address ?? doc.envelopeFrom ?? 'unknown';
    const body = mail.replyText || mail.text;
    const decided = classify({ mailbox, subject: mail.subject, text: body });
    const { ticket } = await openTicket(deps.tickets, {
      kind: decided.kind,
      title: mail.subject.trim() || '(no subject)',
      description: body.slice(0, DESCRIPTION_CHARS),
      accountId: decided.accountId,
      // A Reply-To is kept for staff (their replies may use it, the card shows it), never for automatic answers.
      source: {
        channel: 'email',
        mailbox,
        email: from,
        ...(mail.replyTo && mail.replyTo.address !== from ? { replyTo: mail.replyTo.address } : {}),
      },
      idempotencyKey: `email:${doc.key}`,
      actor: `email:${from}`,
      participants: mail.from ? [mail.from.address] : [],
      rule: decided.rule,
      citesRef,
    });
    await insertOnce(models.MailMessage, {
      _id: messageId,
      ticketRef: ticket.ref,
      direction: 'in',
      address: from,
      at: deps.now(),
    });
    await acknowledge(doc, mail, ticket.ref, decided.kind);
    return { status: 'ticket', ticketRef: ticket.ref, rule: decided.rule };
  }

  /** The acknowledgement of a new ticket (services/acknowledgements.ts), with what the headers allow. */
  async function acknowledge(
    doc: InboundMailDoc,
    mail: ParsedMail,
    ref: string,
    kind: TicketKind | undefined,
  ): Promise<void> {
    const to = autoReplyRecipient(mail, doc.envelopeFrom ?? undefined);
    await acknowledgeNewTicket(ackDeps, {
      key: doc.key,
      ref,
      mailbox: doc.mailbox as Mailbox,
      kind,
      subject: mail.subject,
      messageId: mail.messageId,
      references: mail.references,
      to,
      answerable: shouldAutoReply(mail, ourAddresses, to),
    });
  }

  async function outcomeOf(doc: InboundMailDoc): Promise<Outcome> {
    // Streamed from the pieces and parsed with bounds: a large message is never held whole.
    const parsed = await parseMail(deps.raw.read(doc), { maxBytes: config.mail.inbound.maxBytes });
    if (!parsed.ok) return { status: 'review', reason: parsed.reason };
    const mail = parsed.mail;
    const kind = classifyInbound(mail);
    if (kind === 'bounce') return handleBounce(doc, mail);
    if (kind === 'auto-reply') return handleAutoReply(doc, mail);
    if (!mail.subject.trim() && !mail.text.trim() && mail.attachments.length === 0)
      return { status: 'review', reason: 'no subject, text or attachment could be read' };
    if (!mail.from) {
      // No From header: the envelope sender is who to answer, if there is one.
      const sender = doc.envelopeFrom?.trim().toLowerCase();
      if (!sender || !/^[^\s@<>,]+@[^\s@<>,]+$/.test(sender)) return { status: 'review', reason: 'no sender address' };
      mail.from = { address: sender, name: '' };
    }
    const messageId = mail.messageId ?? doc.key;
    const thread = await threadOf(doc, mail);
    if (thread.ref) return handleReply(thread.ref, doc, mail, messageId);
    return handleNew(doc, mail, messageId, thread.citesRef);
  }

  /** Messages this process is working on: a sweep here leaves them to the run that has them. */
  const inFlight = new Set<string>();

  /**
   * Claims the row's current attempt. A claim held elsewhere is left alone unless it is stale (its
   * process died), in which case the attempt is written off so the next sweep claims a fresh one.
   */
  async function claimAttempt(doc: InboundMailDoc): Promise<InboundMailDoc | undefined> {
    const now = deps.now();
    const attempt = doc.attempts ?? 0;
    const claim = await claimOnce(models.MailClaim, { _id: `${doc._id}:${attempt}`, at: now });
    if (claim.won) return doc;
    if (!claim.existing || now.getTime() - claim.existing.at.getTime() <= STALE_CLAIM_MS) return undefined;
    // The attempt's process died: count it as failed and claim the next one (whoever wins that runs).
    await models.InboundMail.updateOne(
      { _id: doc._id, status: 'received', attempts: doc.attempts },
      { $set: { attempts: attempt + 1 } },
    );
    log.warn(
      { event: 'mail.claim_recovered', id: String(doc._id), attempt },
      'an interrupted processing attempt is retried',
    );
    const next = await claimOnce(models.MailClaim, { _id: `${doc._id}:${attempt + 1}`, at: now });
    return next.won ? { ...doc, attempts: attempt + 1 } : undefined;
  }

  async function process(id: string): Promise<Outcome | undefined> {
    if (inFlight.has(id)) return undefined;
    inFlight.add(id);
    try {
      return await processClaimed(id);
    } finally {
      inFlight.delete(id);
    }
  }

  async function processClaimed(id: string): Promise<Outcome | undefined> {
    const stored = await models.InboundMail.findById(id).lean<InboundMailDoc>();
    if (!stored || stored.status !== 'received') return undefined;
    const doc = await claimAttempt(stored);
    if (!doc) return undefined;
    let outcome: Outcome;
    try {
      outcome = await outcomeOf(doc);
    } catch (err) {
      // A message we cannot process after several tries is kept for people, not retried forever.
      await models.InboundMail.updateOne({ _id: doc._id }, { $inc: { attempts: 1 } });
      if ((doc.attempts ?? 0) + 1 < 5) throw err;
      outcome = { status: 'review', reason: `processing failed: ${(err as Error).message.slice(0, 200)}` };
    }
    await models.InboundMail.updateOne(
      { _id: doc._id, status: 'received' },
      { $set: { ...outcome, processedAt: deps.now() } },
    );
    if (outcome.status === 'review') {
      await outbox.enqueue({
        key: `review:${doc._id}`,
        channel: 'slack',
        kind: 'post',
        payload: {
          type: 'review_notice',
          inboundId: String(doc._id),
          mailbox: doc.mailbox,
          reason: outcome.reason ?? 'unknown',
          from: doc.envelopeFrom ?? undefined,
        },
        lane: 'bulk',
      });
    }
    log.info(
      {
        event: 'mail.processed',
        id,
        mailbox: doc.mailbox,
        via: doc.via,
        status: outcome.status,
        ref: outcome.ticketRef,
        rule: outcome.rule,
        reason: outcome.reason,
      },
      `inbound mail: ${outcome.status}`,
    );
    return outcome;
  }

  /** Processes the row in this process's mail lane; false if it is already waiting there. */
  const processSoon = (id: string): boolean => deps.lane.run(id, () => process(id));

  /**
   * Hands rows left `received` (a crash, a failure) to the mail lane; `staleMs` 0 at start-up takes
   * them all. During a flood most are already waiting in the lane: they are not processed twice.
   */
  async function sweep(staleMs = STALE_MS): Promise<number> {
    const cutoff = new Date(deps.now().getTime() - staleMs);
    const stale = await models.InboundMail.find({ status: 'received', createdAt: { $lte: cutoff } })
      .select({ _id: 1 })
      .limit(500)
      .lean();
    return stale.filter((row) => processSoon(String(row._id))).length;
  }

  return { process, processSoon, sweep };
}
export type MailIngest = ReturnType<typeof createMailIngest>;
