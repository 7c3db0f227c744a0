/**
 * Message-IDs are compared across inbound and outbound mail (threading, duplicates), so
 * every module normalises them the same way: no angle brackets, domain part lowercased.
 */
export function normalizeMessageId(id: string): string | undefined {
  const bare = id
    .trim()
    .replace(/^<+|>+$/g, '')
    .trim();
  if (bare === '' || /\s/.test(bare)) return undefined;
  const at = bare.lastIndexOf('@');
  return at < 0 ? bare : bare.slice(0, at) + bare.slice(at).toLowerCase();
}

/** All Message-IDs in a header value, in order, once each; a bare id without brackets counts alone. */
export function messageIdsIn(value: string | undefined): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] ?? '');
  const candidates = bracketed.length > 0 ? bracketed : value.trim().split(/\s+/).slice(0, 1);
  const ids = candidates.map(normalizeMessageId).filter((id): id is string => id !== undefined);
  return [...new Set(ids)];
}
