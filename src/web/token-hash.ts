import { createHash } from 'node:crypto';

/**
 * A request's link as rate limits and CSRF know it: a hash of the token in the path, so no token
 * is kept as a key in memory, and a CSRF token is bound to the link it was made on.
 */
export function tokenHash(params: unknown): string {
  return createHash('sha256')
    .update((params as { token?: string } | undefined)?.token ?? '')
    .digest('base64url')
    .slice(0, 22);
}
