/**
 * The link to a customer's migration page, `PUBLIC_URL/migrate/<token>`. The token is what grants
 * access, so it is signed (HMAC-SHA256 under a key of its own, derived from the application key),
 * names the ticket and the customer's address, expires, and carries the link's generation: billing's
 * "Send a new link" raises the ticket's generation, and every token of an older one is refused.
 * Pure: the key and the time are passed in.
 */
import { deriveKey, signature, signatureMatches } from './signing.js';

const PURPOSE = 'migration-link';
/** 160 bits of HMAC, base32: far beyond guessing, short enough for an email line. */
const SIGNATURE_CHARS = 32;

export interface LinkClaims {
  ref: string;
  /** The customer's address, lowercased. */
  email: string;
  generation: number;
  /** Unix seconds. */
  issuedAt: number;
  expiresAt: number;
}

export type LinkCheck =
  { ok: true; claims: LinkClaims } | { ok: false; why: 'malformed' | 'bad_signature' | 'expired' };

/**
 * A key for links only, so a signature made for a reply address (or anything else signed with the
 * application key) can never pass for a link, nor the other way round.
 */
export function linkKey(appKey: Buffer): Buffer {
  return deriveKey(appKey, PURPOSE);
}

/** `<base64url claims>.<signature>`: URL-safe, no padding. */
export function signLink(key: Buffer, claims: LinkClaims): string {
  const body = Buffer.from(
    JSON.stringify([claims.ref, claims.email.toLowerCase(), claims.generation, claims.issuedAt, claims.expiresAt]),
  ).toString('base64url');
  return `${body}.${signature(key, PURPOSE, body, SIGNATURE_CHARS)}`;
}

const TOKEN = /^[A-Za-z0-9_-]{10,400}\.[a-z2-7]{32}$/;

/** Reads a token: its claims when the signature holds and it has not expired at `now`. */
export function readLink(key: Buffer, token: string, now: Date): LinkCheck {
  if (!TOKEN.test(token)) return { ok: false, why: 'malformed' };
  const [body = '', sig = ''] = token.split('.');
  if (!signatureMatches(key, PURPOSE, body, sig)) return { ok: false, why: 'bad_signature' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, why: 'malformed' };
  }
  if (!Array.isArray(parsed) || parsed.length !== 5) return { ok: false, why: 'malformed' };
  const [ref, email, generation, issuedAt, expiresAt] = parsed as unknown[];
  if (
    typeof ref !== 'string' ||
    typeof email !== 'string' ||
    !Number.isInteger(generation) ||
    !Number.isInteger(issuedAt) ||
    !Number.isInteger(expiresAt)
  )
    return { ok: false, why: 'malformed' };
  const claims: LinkClaims = {
    ref,
    email,
    generation: generation as number,
    issuedAt: issuedAt as number,
    expiresAt: expiresAt as number,
  };
  if (now.getTime() >= claims.expiresAt * 1000) return { ok: false, why: 'expired' };
  return { ok: true, claims };
}

/**
 * Text for a log line with any page link's token taken out: an error from a library (a refused
 * Checkout request echoing its success_url, say) must not carry a working token into the logs.
 */
export function withoutLinkTokens(text: string): string {
  return text.replace(/\/migrate\/[A-Za-z0-9_.-]{10,}/g, '/migrate/<token>');
}

/** Claims for a link issued at `now`, good for `ttlDays`. */
export function linkClaims(input: {
  ref: string;
  email: string;
  generation: number;
  now: Date;
  ttlDays: number;
}): LinkClaims {
  const issuedAt = Math.floor(input.now.getTime() / 1000);
  return {
    ref: input.ref,
    email: input.email.toLowerCase(),
    generation: input.generation,
    issuedAt,
    expiresAt: issuedAt + input.ttlDays * 86_400,
  };
}
