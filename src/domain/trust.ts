/**
 * Whose email may steer a ticket. Joining a ticket's conversation is not enough to confirm
 * anything on it (a colleague on CC, or anyone who learnt a reference, can write): only the
 * customer the ticket was opened for, the address sales gave for the migration, or an address
 * billing added by hand is trusted.
 */
export interface TrustFacts {
  source?: { channel?: string | null; email?: string | null } | null | undefined;
  migration?: { customerEmail?: string | null } | null | undefined;
  trusted?: string[] | null | undefined;
}

export function trustedAddresses(t: TrustFacts): string[] {
  const all = [
    t.source?.channel === 'email' ? t.source.email : undefined,
    t.migration?.customerEmail,
    ...(t.trusted ?? []),
  ];
  return [...new Set(all.filter((a): a is string => !!a).map((a) => a.toLowerCase()))];
}

export function isTrustedSender(t: TrustFacts, address: string): boolean {
  return trustedAddresses(t).includes(address.trim().toLowerCase());
}
