/**
 * Every text the bot emails to customers, in one place, as pure functions. Plain text only: the
 * customer's own mail client quotes and wraps it, and there is no HTML to sanitise.
 */
import { randomBytes } from 'node:crypto';
import type { Mailbox } from '../config.js';
import { teamFor, type TicketKind } from './ticket.js';

export interface RenderedMail {
  subject: string;
  text: string;
}

/** Longest subject we produce; long enough to keep the customer's words, short enough to read. */
const MAX_SUBJECT = 200;
/** Re:, RE :, Aw:, Sv:, Antw:, Re[2]: as mail clients in different languages write them. */
const REPLY_PREFIX = /^(?:re|aw|sv|antw)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*/i;

/**
 * Collapses line breaks, tabs and other control characters (and the Unicode line and paragraph
 * separators) to single spaces: a header value must stay one line, or it could start a header
 * of its own.
 */
export function oneLine(value: string): string {
  return value
    .replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/**
 * Staff-written text made fit for a customer's email. Slack's markup means nothing in a mail client
 * and can name people and channels the customer should not see, so it becomes plain words:
 * `<@U…>` a person's label or "our team", `<!here>` nothing, `<!date…|fallback>` the fallback,
 * `<#C…|name>` the name, `<url|label>` "label (url)", and `:emoji:` codes are dropped.
 */
export function withoutSlackSyntax(value: string): string {
  const GONE = '\uE000'; // a private-use mark for what was dropped, so the space around it can go too
  return (
    value
      .replace(/<@[UW][A-Z0-9]+(?:\|([^<>]*))?>/g, (_m, label?: string) => label?.replace(/^@/, '') || 'our team')
      .replace(/<!([^<>|]*)(?:\|([^<>]*))?>/g, (_m, _what: string, label?: string) => label?.replace(/^@/, '') || GONE)
      .replace(/<#C[A-Z0-9]+(?:\|([^<>]*))?>/g, (_m, label?: string) => label || GONE)
      .replace(/<((?:https?|mailto):[^<>|\s]+)(?:\|([^<>]*))?>/g, (_m, url: string, label?: string) => {
        const bare = url.replace(/^mailto:/, '');
        return label && label !== bare ? `${label} (${bare})` : bare;
      })
      // An emoji code has a letter and touches no word or colon on either side, so 10:30:00 stays.
      .replace(/(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])/gi, GONE)
      .replace(/^[ \t]*\uE000+[ \t]*/gm, '')
      .replace(/[ \t]*\uE000+(?=[,.;:!?)]|$)/gm, '')
      .replace(/[ \t]*\uE000+[ \t]*/g, ' ')
      .replace(/[ \t]+$/gm, '')
      .trim()
  );
}

/** A one-line value written by staff (a customer's name, a plan, a reason), for a customer's email. */
export const staffLine = (value: string): string => oneLine(withoutSlackSyntax(value));

function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max
    ? value
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `[AR-n] Re: <subject>`, the subject every mail about a ticket carries. Reply prefixes and our
 * own tag at the front are dropped first, so a long thread stays `[AR-n] Re: …` rather than
 * growing `Re: Re: [AR-n] [AR-n]`. A tag the customer put elsewhere is left where it is.
 */
export function ticketSubject(ref: string, subject: string): string {
  const tag = `[${ref}]`;
  const leadingTag = new RegExp(`^${escapeRegExp(tag)}\\s*`, 'i');
  // Titles can be written by staff in Slack (a handoff's customer name): no Slack markup goes out.
  let rest = oneLine(withoutSlackSyntax(subject));
  for (let previous = ''; previous !== rest;) {
    previous = rest;
    rest = rest.replace(REPLY_PREFIX, '').replace(leadingTag, '');
  }
  if (rest === '') rest = 'Your request';
  const tagged = rest.toLowerCase().includes(tag.toLowerCase());
  const prefix = tagged ? 'Re: ' : `${tag} Re: `;
  return prefix + truncate(rest, MAX_SUBJECT - prefix.length);
}

/**
 * The automatic answer to a new ticket opened by email. `kind`, when known, names the right team
 * for the few kinds that do not stay with their mailbox's team (a migration goes to sales).
 */
export function acknowledgement(input: {
  ref: string;
  subject: string;
  mailbox: Mailbox;
  domain: string;
  kind?: TicketKind;
}): RenderedMail {
  const { ref, mailbox, domain } = input;
  const team = teamFor(input.kind ?? 'support', mailbox);
  const text = [
    'Hello,',
    '',
    `Thank you for your message. We have received your request and filed it as ${ref}.`,
    `Our ${team} team has it and will answer you by email.`,
    '',
    `If you write to us about it again, please keep "${ref}" in the subject so your message`,
    'joins the same request.',
    '',
    `This is an automatic answer from ${mailbox}@${domain}; there is no need to reply to it.`,
    '',
  ].join('\n');
  return { subject: ticketSubject(ref, input.subject), text };
}

/** A reply written by staff in Slack, sent to the customer. */
export function staffReply(input: { ref: string; subject: string; body: string; staffName?: string }): RenderedMail {
  const body = withoutSlackSyntax(input.body.replace(/\r\n?/g, '\n'));
  const name = input.staffName ? staffLine(input.staffName) : '';
  const text = [
    body,
    '',
    ...(name ? [name, ''] : []),
    `Reference: ${input.ref}. Please keep it in the subject when you reply.`,
    '',
  ].join('\n');
  return { subject: ticketSubject(input.ref, input.subject), text };
}

/** The email that tells the customer their request is closed, with the two CSAT links when the team asks. */
export function closingMail(input: {
  ref: string;
  subject: string;
  goodUrl?: string | undefined;
  badUrl?: string | undefined;
}): RenderedMail {
  const ask =
    input.goodUrl && input.badUrl
      ? ['How did we do? One click is enough:', '', `  Good: ${input.goodUrl}`, `  Not good: ${input.badUrl}`, '']
      : [];
  const text = [
    'Hello,',
    '',
    `We have closed your request ${input.ref}. If anything is still open, reply to this email and it opens again.`,
    '',
    ...ask,
    `Reference: ${input.ref}.`,
    '',
  ].join('\n');
  return { subject: ticketSubject(input.ref, input.subject), text };
}

/** A fresh Message-ID (without angle brackets) for a mail we send; the domain is lowercased as inbound ids are. */
export function ourMessageId(domain: string): string {
  return `ar.${Date.now().toString(36)}.${randomBytes(12).toString('hex')}@${domain.toLowerCase()}`;
}
