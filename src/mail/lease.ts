/**
 * A lease that needs nothing but a unique _id, so it holds on FerretDB too, where conditional
 * updates and findAndModify are not atomic (ARCHITECTURE.md, "Guards are unique indexes").
 *
 * Time is cut into windows of `leaseMs`; a window belongs to whoever inserted `<name>:<window>`
 * first. The holder claims the next window during the last third of its current one, so a
 * healthy holder keeps the name: callers must call tryAcquire more often than every leaseMs / 3.
 * Processes' clocks must agree to well within leaseMs.
 */
import type { LeaseModel } from '../db/models/imap.js';
import { claimOnce } from '../db/claims.js';

export const DEFAULT_LEASE_MS = 60_000;

export interface Lease {
  readonly leaseMs: number;
  /** True if `holder` owns the window `now` falls in (claiming it when nobody has). */
  tryAcquire(name: string, holder: string, now?: Date): Promise<boolean>;
  /** Gives up the current and next window, so another process need not wait for them to pass. */
  release(name: string, holder: string, now?: Date): Promise<void>;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function createLease(Lease: LeaseModel, opts: { leaseMs?: number } = {}): Lease {
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isInteger(leaseMs) || leaseMs < 3)
    throw new Error(`leaseMs must be an integer of at least 3, got ${leaseMs}`);
  const windowOf = (at: Date) => Math.floor(at.getTime() / leaseMs);
  const key = (name: string, window: number) => `${name}:${window}`;

  /** Inserts the lease row of one window for `holder`; says whether it was new, already this holder's, or another's. */
  async function takeWindow(id: string, holder: string, at: Date): Promise<'inserted' | 'mine' | 'theirs'> {
    const got = await claimOnce(Lease, { _id: id, holder, at });
    if (got.won) return 'inserted';
    return got.existing?.holder === holder ? 'mine' : 'theirs';
  }

  // Only windows two or more behind: a process whose clock lags ours may still be in the last one,
  // and deleting its document would let it claim that window a second time.
  async function sweep(name: string, window: number): Promise<void> {
    await Lease.deleteMany({
      _id: { $regex: `^${escapeRegExp(name)}:` },
      at: { $lt: new Date((window - 2) * leaseMs) },
    }).catch(() => undefined);
  }

  return {
    leaseMs,
    async tryAcquire(name, holder, now = new Date()) {
      const window = windowOf(now);
      const current = await takeWindow(key(name, window), holder, now);
      if (current === 'theirs') return false;
      if (current === 'inserted') await sweep(name, window);
      const intoWindow = now.getTime() - window * leaseMs;
      if (intoWindow * 3 >= leaseMs * 2) await takeWindow(key(name, window + 1), holder, now);
      return true;
    },
    async release(name, holder, now = new Date()) {
      const window = windowOf(now);
      await Lease.deleteMany({ _id: { $in: [key(name, window), key(name, window + 1)] }, holder });
    },
  };
}
