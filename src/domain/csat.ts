/**
 * CSAT links: `/csat/<ref>/<answer>/<expiry>/<signature>`, signed with the application key under
 * their own purpose, so a link cannot be turned into another ticket's, another answer or a later
 * expiry. No I/O.
 */
import { signature, signatureMatches } from './signing.js';

export const CSAT_ANSWERS = ['good', 'bad'] as const;
export type CsatAnswer = (typeof CSAT_ANSWERS)[number];
/** How long a closing email's links may be answered. */
export const CSAT_VALID_DAYS = 30;
const PURPOSE = 'csat';
const SIGNATURE_CHARS = 26;

const valueOf = (ref: string, answer: string, expires: number) => `${ref}:${answer}:${expires}`;

export function csatPath(key: Buffer, ref: string, answer: CsatAnswer, expires: number): string {
  return `/csat/${ref}/${answer}/${expires}/${signature(key, PURPOSE, valueOf(ref, answer, expires), SIGNATURE_CHARS)}`;
}

export type CsatLink = { ok: true; ref: string; answer: CsatAnswer } | { ok: false; why: 'invalid' | 'expired' };

/** Reads a link's path: valid and unexpired, or why not (tampered and expired links read differently to the customer). */
export function readCsatPath(key: Buffer, path: string, now: Date): CsatLink {
  const m = /^\/csat\/(AR-\d{4,9})\/(good|bad)\/(\d{10,13})\/([a-z2-7]{26})$/.exec(path);
  if (!m) return { ok: false, why: 'invalid' };
  const [, ref, answer, expires, sig] = m as unknown as [string, string, CsatAnswer, string, string];
  if (!signatureMatches(key, PURPOSE, valueOf(ref, answer, Number(expires)), sig)) return { ok: false, why: 'invalid' };
  if (Number(expires) < now.getTime()) return { ok: false, why: 'expired' };
  return { ok: true, ref, answer };
}
