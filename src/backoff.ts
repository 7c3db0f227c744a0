/** The one back-off rule for retries: `firstMs` doubling with each attempt, never above `maxMs`. */
export function backoff(attempt: number, firstMs: number, maxMs: number): number {
  return Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(attempt, 0), 30));
}
