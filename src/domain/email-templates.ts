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
  return value.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').replace(/ {2,}/g, ' ').trim();
}

function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
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
  let rest = oneLine(subject);
  for (let previous = ''; previous !== rest; ) {
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
export function acknowledgement(input: { ref: string; subject: string; mailbox: Mailbox; domain: string; kind?: TicketKind }): RenderedMail {
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
  const body = input.body.replace(/\r\n?/g, '\n').replace(/[ \t]+$/gm, '').trim();
  const name = input.staffName ? oneLine(input.staffName) : '';
  const text = [body, '', ...(name ? [name, ''] : []), `Reference: ${input.ref}. Please keep it in the subject when you reply.`, ''].join('\n');
  return { subject: ticketSubject(input.ref, input.subject), text };
}

/** A fresh Message-ID (without angle brackets) for a mail we send; the domain is lowercased as inbound ids are. */
export function ourMessageId(domain: string): string {
  return `ar.${Date.now().toString(36)}.${randomBytes(12).toString('hex')}@${domain.toLowerCase()}`;
}
