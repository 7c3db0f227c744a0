/**
 * Keeps the bot out of mail loops: which inbound mail is machine-made (bounces, auto-replies)
 * and which may get an automatic acknowledgement. RFC 3834 is the baseline; the rest covers
 * what real MTAs and auto-responders send without following it.
 */
import { isMailSystemAddress, localPart } from './addresses.js';
import type { ParsedMail } from './parse.js';

export type InboundClass = 'bounce' | 'auto-reply' | 'normal';
export type AutoReplyDecision = { ok: true } | { ok: false; reason: string };

const NO_REPLY = /^(?:mailer[-_.]?daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)(?:$|[-_.+])/i;
const BOUNCE_SUBJECT = new RegExp(
  [
    'undeliver',
    'not (?:be )?delivered',
    'delivery (?:status|fail|failure|notification|problem|report)',
    'returned mail',
    'returning message',
    'mail delivery',
    'failure notice',
    'fail(?:ed|ure) delivery',
    'delivery failure',
    'could not be delivered',
    'mail system error',
    'non-?delivery',
    '\\bdelayed\\b',
    'could not send',
    'error sending',
    'mail failure',
    'nicht zustellbar',
    'unzustellbar',
    'no se pudo entregar',
    'non recapitabile',
    'non remis',
    'не доставлено',
    '配信できません',
    'エラー',
  ].join('|'),
  'i',
);
const AUTO_REPLY_SUBJECT = new RegExp(
  '^(?:auto(?:matic)?[ -]?(?:reply|response|respons|antwort)|autoresponder|out of (?:the )?office(?: reply| autoreply)?|' +
    'abwesenheitsnotiz|réponse automatique|respuesta automática|risposta automatica|automatisch antwoord|' +
    'autosvar|automaattinen vastaus)\\s*:',
  'i',
);
// Exchange's X-Auto-Response-Suppress lists the kinds of automatic answer the sender does
// not want; an acknowledgement is an auto-reply, so these values rule it out.
const SUPPRESSES_ACK = /\b(?:all|autoreply|oof)\b/i;

export function classifyInbound(mail: ParsedMail): InboundClass {
  if (bounceSignal(mail)) return 'bounce';
  if (autoReplySignal(mail)) return 'auto-reply';
  return 'normal';
}

/** `recipient` is where the answer would go (see autoReplyRecipient); it is checked like the sender. */
export function shouldAutoReply(mail: ParsedMail, ourAddresses: string[], recipient?: string): AutoReplyDecision {
  const ours = ourAddresses.map((a) => a.trim().toLowerCase()).filter((a) => a !== '');
  const reason = refusal(mail, ours, recipient);
  return reason === undefined ? { ok: true } : { ok: false, reason };
}

const PLAIN_ADDRESS = /^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/;

/**
 * Where an automatic answer goes (RFC 3834, section 4): the envelope sender (the SMTP MAIL FROM we
 * received, else the Return-Path header a delivery agent wrote), falling back to From. Never a
 * Reply-To: anyone can put anybody there, and answering it would make us a relay aimed at third
 * parties. An empty envelope sender (a bounce) gets nothing.
 */
export function autoReplyRecipient(mail: ParsedMail, envelopeFrom: string | undefined): string | undefined {
  const envelope =
    envelopeFrom !== undefined
      ? envelopeFrom.trim().toLowerCase()
      : mail.headers.returnPath !== undefined
        ? bareAddress(mail.headers.returnPath)
        : undefined;
  if (envelope === '') return undefined;
  if (envelope !== undefined && PLAIN_ADDRESS.test(envelope)) return envelope;
  return mail.from?.address;
}

function refusal(mail: ParsedMail, ours: string[], recipient: string | undefined): string | undefined {
  const h = mail.headers;
  const bounce = bounceSignal(mail);
  if (bounce) return `bounce: ${bounce}`;
  const autoReply = autoReplySignal(mail);
  if (autoReply) return `auto-reply: ${autoReply}`;
  const precedence = token(h.precedence);
  if (precedence === 'bulk' || precedence === 'junk' || precedence === 'list') return `Precedence: ${precedence}`;
  if (h.listId !== undefined) return 'mailing list (List-Id)';
  if (!mail.from?.address) return 'no From address';
  if (isNullReturnPath(h.returnPath)) return 'null Return-Path <>';
  for (const address of [mail.from.address, mail.replyTo?.address, recipient]) {
    if (address === undefined) continue;
    if (NO_REPLY.test(localPart(address)) || isMailSystemAddress(address)) return `no-reply sender ${address}`;
    if (ours.includes(address) || ours.includes(withoutTag(address))) return `sent from our own address ${address}`;
  }
  if (h.xAutoResponseSuppress !== undefined && SUPPRESSES_ACK.test(h.xAutoResponseSuppress)) {
    return `sender suppresses auto-replies (X-Auto-Response-Suppress: ${h.xAutoResponseSuppress})`;
  }
  return undefined;
}

/**
 * Why this looks like a bounce, or undefined. A DSN or feedback report says so itself; other
 * bounces are recognised by a bounce-like subject from a mail system (daemon sender, null or
 * daemon Return-Path, or no From at all) or by the failed recipients or original message
 * they carry. A person forwarding a bounce to us is not a bounce: they want help.
 */
function bounceSignal(mail: ParsedMail): string | undefined {
  if (mail.isDeliveryReport) return 'delivery status report';
  if (mail.reportType === 'feedback-report') return 'abuse feedback report';
  const fromDaemon = isMailSystemAddress(mail.from?.address ?? '');
  if (fromDaemon && mail.failedRecipients.length > 0) return 'failed recipients from a mail system';
  const systemSender =
    fromDaemon ||
    !mail.from?.address ||
    isNullReturnPath(mail.headers.returnPath) ||
    isMailSystemAddress(bareAddress(mail.headers.returnPath));
  if (systemSender && BOUNCE_SUBJECT.test(mail.subject)) return `"${mail.subject}" from a mail system`;
  if (fromDaemon && mail.originalMessageId !== undefined) return 'returned message from a mail system';
  return undefined;
}

function autoReplySignal(mail: ParsedMail): string | undefined {
  const h = mail.headers;
  const autoSubmitted = token(h.autoSubmitted);
  if (autoSubmitted !== undefined && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  if (h.xAutoreply !== undefined && token(h.xAutoreply) !== 'no') return 'X-Autoreply';
  if (h.xAutorespond !== undefined && token(h.xAutorespond) !== 'no') return 'X-Autorespond';
  if (token(h.precedence) === 'auto_reply') return 'Precedence: auto_reply';
  if (mail.reportType === 'disposition-notification') return 'read receipt';
  if (AUTO_REPLY_SUBJECT.test(mail.subject)) return `subject "${mail.subject}"`;
  return undefined;
}

/** First token of a header value, lowercased ("auto-replied; owner=…" → "auto-replied"). */
function token(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.split(/[;(\s]/)[0]?.toLowerCase() ?? '';
}

function isNullReturnPath(value: string | undefined): boolean {
  return value !== undefined && /^<\s*>$/.test(value.trim());
}

function bareAddress(value: string | undefined): string {
  return (value ?? '').trim().replace(/^<|>$/g, '').toLowerCase();
}

function withoutTag(address: string): string {
  return address.replace(/\+[^@]*@/, '@');
}
