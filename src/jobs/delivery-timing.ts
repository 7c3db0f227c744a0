/**
 * How long outbox deliveries may take, in one place because the numbers depend on each other.
 *
 * - A claim must outlive the longest attempt: otherwise a second process takes over an attempt
 *   that is still running, and both post.
 * - An attempt that follows one whose outcome is unknown (a call that timed out, a process that
 *   died mid-call) looks for the earlier post before posting again. It must wait until the far side
 *   has finished the earlier call, or the look could miss a post still being made.
 */

/** The Slack Web API client gives up on a call after this long. */
export const SLACK_CALL_TIMEOUT_MS = 10_000;

/**
 * How long after we stopped waiting Slack may still complete a call. Slack publishes no such
 * deadline; 30 s is three client timeouts, well past what its edge keeps a request open.
 */
export const SLACK_SETTLE_MS = 30_000;

/** History pages (200 messages each) an attempt reads at most when it looks for its earlier post. */
export const LOOKUP_MAX_PAGES = 5;
export const LOOKUP_PAGE_SIZE = 200;

/** How far before the row was written the look starts: our clock and Slack's may differ a little. */
export const LOOKBACK_MARGIN_MS = 60_000;

/** The outbound relay (mailer.ts): connecting, its greeting, and silence on the socket. */
export const SMTP_TIMEOUTS = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 60_000 } as const;

/** The most Slack calls one attempt makes: open the DM, read the history, post. */
const SLACK_CALLS_PER_ATTEMPT = 1 + LOOKUP_MAX_PAGES + 1;

/** Reading the row and the ticket, claiming, recording the result: generous, for a loaded database. */
const DATABASE_MARGIN_MS = 60_000;

/** No attempt takes longer than this, on either channel. */
export const ATTEMPT_MAX_MS =
  Math.max(
    SLACK_CALLS_PER_ATTEMPT * SLACK_CALL_TIMEOUT_MS,
    SMTP_TIMEOUTS.connectionMs + SMTP_TIMEOUTS.greetingMs + SMTP_TIMEOUTS.socketMs,
  ) + DATABASE_MARGIN_MS;

/**
 * A claim older than this, with its row still pending, was left by a process that died mid-attempt.
 * By then that attempt would have ended and Slack would have settled its last call, so the attempt
 * that takes over finds whatever it posted.
 */
export const CLAIM_LIFETIME_MS = ATTEMPT_MAX_MS + SLACK_SETTLE_MS;

/** The next attempt after one whose outcome is unknown waits at least this long (see above). */
export const RETRY_AFTER_UNKNOWN_MS = SLACK_SETTLE_MS;
