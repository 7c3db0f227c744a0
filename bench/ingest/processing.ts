/** Reads the bot's inbound_mail collection: waits until every stored row is processed, then tallies. */
import type { RunningApp } from '../../src/app.js';

export const STATUSES = ['ticket', 'reply', 'bounce', 'auto-reply', 'review'] as const;

export interface Processed {
  /** Distinct rows stored (repeats of a Message-ID in a mailbox collapse into one). */
  rows: number;
  /** Rows still `received` when the wait ended (0 unless it timed out). */
  remaining: number;
  timedOut: boolean;
  /** Latest processedAt over the rows, as Date.now() milliseconds. */
  lastProcessedWallMs: number | undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A row is written before its 250, so once the sender is done every row exists: this waits until
 * none is `received` any more, or gives up after `timeoutMs`.
 */
export async function waitProcessed(
  app: RunningApp,
  o: { timeoutMs: number; pollMs?: number; progress?: (remaining: number, rows: number) => void },
): Promise<Processed> {
  const M = app.db.models.InboundMail;
  const rows = await M.countDocuments();
  const deadline = Date.now() + o.timeoutMs;
  let lastProgress = Date.now();
  let remaining: number;
  for (;;) {
    remaining = await M.countDocuments({ status: 'received' });
    if (remaining === 0 || Date.now() > deadline) break;
    if (o.progress && Date.now() - lastProgress >= 5000) {
      lastProgress = Date.now();
      o.progress(remaining, rows);
    }
    await sleep(o.pollMs ?? 50);
  }
  const last = await M.findOne({ processedAt: { $ne: null } })
    .sort({ processedAt: -1 })
    .select({ processedAt: 1 })
    .lean();
  return {
    rows,
    remaining,
    timedOut: remaining > 0,
    lastProcessedWallMs: last?.processedAt ? new Date(last.processedAt).getTime() : undefined,
  };
}

export interface Outcomes {
  byStatus: Record<(typeof STATUSES)[number] | 'received', number>;
  /** Review rows by reason, most frequent first. */
  reviewReasons: { reason: string; count: number }[];
}

export async function outcomes(app: RunningApp): Promise<Outcomes> {
  const M = app.db.models.InboundMail;
  const byStatus = { received: 0 } as Outcomes['byStatus'];
  for (const status of [...STATUSES, 'received'] as const) byStatus[status] = await M.countDocuments({ status });
  const reasons: Record<string, number> = {};
  for (const row of await M.find({ status: 'review' }).select({ reason: 1 }).lean()) {
    // Reasons may carry a message's detail after a colon; group by what comes before it.
    const reason = (row.reason ?? '(none)').split(':')[0]!.slice(0, 80);
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  const reviewReasons = Object.entries(reasons)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count);
  return { byStatus, reviewReasons };
}
