/**
 * The plus address that lets a reply join its ticket: `support+AR-1001.k7f3qz2m4a@domain`. The
 * ticket number alone is guessable (they are sequential), so the tag carries a signature of the
 * reference; a bare `+AR-1001` joins only for a sender who already takes part in the ticket.
 */
import { formatRef, parseRef } from './ticket.js';
import { signature, signatureMatches } from './signing.js';

const PURPOSE = 'reply-address';
/** 50 bits: far beyond what anyone could try by mail before being noticed. */
const SIGNATURE_CHARS = 10;

export function replyTag(key: Buffer, ref: string): string {
  return `${ref}.${signature(key, PURPOSE, ref.toUpperCase(), SIGNATURE_CHARS)}`;
}

export function replyAddress(key: Buffer, mailbox: string, domain: string, ref: string): string {
  return `${mailbox}+${replyTag(key, ref)}@${domain}`;
}

/** What a plus tag names: the ticket, and whether the tag is signed (unguessable) or bare. */
export function readReplyTag(key: Buffer, tag: string): { ref: string; signed: boolean } | undefined {
  const [refText = '', sig, ...rest] = tag.split('.');
  const number = parseRef(refText);
  if (number === undefined || rest.length > 0) return undefined;
  const ref = formatRef(number);
  return {
    ref,
    signed: sig !== undefined && sig.length === SIGNATURE_CHARS && signatureMatches(key, PURPOSE, ref, sig),
  };
}
