/**
 * The application key every process signs with. APP_SECRET when the operator sets one; otherwise a
 * random key made by the first process to start and kept in the database, so that several
 * processes, and the same process after a restart, agree without any configuration.
 */
import { randomBytes } from 'node:crypto';
import { claimOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';

const KEY_ID = 'app-key';

export async function loadAppKey(models: Models, configured: string | undefined, now: Date): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8');
  const made = { _id: KEY_ID, value: randomBytes(32).toString('base64'), at: now };
  const claim = await claimOnce(models.AppSecret, made);
  const value = claim.won ? made.value : claim.existing?.value;
  if (!value) throw new Error('the application key could not be read back');
  return Buffer.from(value, 'base64');
}
