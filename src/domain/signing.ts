/**
 * Short signatures for things we hand out that grant something: a plus address that joins a
 * ticket today, migration links and CSAT answers later. One application key; each use signs
 * under its own purpose, so a signature made for one use never passes for another.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Lowercase base32 without padding: safe in an email local part and a URL, and case-proof. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Buffer, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= chars) break;
  }
  return out;
}

/** `chars` base32 characters (5 bits each) of HMAC-SHA256(key, purpose + value). */
export function signature(key: Buffer, purpose: string, value: string, chars: number): string {
  return base32(createHmac('sha256', key).update(`${purpose}\u0000${value}`).digest(), chars);
}

/** Compares in constant time, so the check itself does not leak how much of a guess was right. */
export function signatureMatches(key: Buffer, purpose: string, value: string, given: string): boolean {
  const expected = Buffer.from(signature(key, purpose, value, given.length));
  const actual = Buffer.from(given.toLowerCase());
  return given.length > 0 && expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A key of its own for one use (HKDF-SHA256 of the application key), for uses that need a raw key. */
export function deriveKey(appKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', appKey, Buffer.alloc(0), purpose, 32));
}
