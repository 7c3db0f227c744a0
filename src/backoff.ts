/**
 * The one back-off rule for retries (the outbox, due work, plan changes waiting on billing, the
 * database engine's restarts): the delay doubles with each attempt from the caller's `baseMs`, is
 * capped at its `capMs`, and is then spread by "equal jitter", somewhere between half of it and all
 * of it. The spread is why: a thousand rows that failed together (billing down at 00:00 on the
 * first of the month) would otherwise all come back in the same second and fail together again;
 * the half kept fixed is why a retry never comes back at once.
 */
export interface BackoffPolicy {
  /** The delay before the first retry (attempt 0), before jitter. */
  baseMs: number;
  /** No delay is longer than this. */
  capMs: number;
}

/** Upper bound of the delay after `attempt` failures: `baseMs · 2^attempt`, at most `capMs`. */
export function backoffCeilingMs(attempt: number, policy: BackoffPolicy): number {
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}

/** The delay before the next try; `random` in [0, 1) is for tests. */
export function backoff(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = backoffCeilingMs(attempt, policy);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
