/**
 * chat.postMessage has no idempotency key, so a post repeated after a timeout or a crash would be a
 * second copy. Every post of ours carries its outbox key in its message metadata; an attempt that
 * may repeat an earlier one looks for that key first and takes the earlier post instead.
 */
import type { WebClient } from '@slack/web-api';
import { LOOKBACK_MARGIN_MS, LOOKUP_MAX_PAGES, LOOKUP_PAGE_SIZE } from '../jobs/delivery-timing.js';

export const OUTBOX_EVENT_TYPE = 'ar_outbox';

export function outboxMetadata(key: string): { event_type: string; event_payload: { key: string } } {
  return { event_type: OUTBOX_EVENT_TYPE, event_payload: { key } };
}

/** Where the earlier post would be: a channel (or DM) history, or the thread under `threadTs`. */
export interface PostPlace {
  channel: string;
  threadTs?: string | undefined;
}

export type Lookup = { ts: string } | { ts: undefined; exhausted: boolean };

/** A Slack timestamp (seconds with six decimals) for a time in milliseconds. */
export function slackTs(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(6);
}

function carries(message: unknown, key: string): boolean {
  const m = (message as { metadata?: { event_type?: unknown; event_payload?: { key?: unknown } } }).metadata;
  return m?.event_type === OUTBOX_EVENT_TYPE && m.event_payload?.key === key;
}

/**
 * Looks through the place's messages since a little before `since` for one carrying `key`, newest
 * first, at most LOOKUP_MAX_PAGES pages (`exhausted` when it stopped there with more to read). A
 * failing call throws: a look that could not be made is a reason to try later, never to post.
 */
export async function findEarlierPost(client: WebClient, place: PostPlace, key: string, since: Date): Promise<Lookup> {
  const oldest = slackTs(since.getTime() - LOOKBACK_MARGIN_MS);
  let cursor: string | undefined;
  for (let page = 0; page < LOOKUP_MAX_PAGES; page += 1) {
    const args = {
      channel: place.channel,
      oldest,
      include_all_metadata: true,
      limit: LOOKUP_PAGE_SIZE,
      ...(cursor ? { cursor } : {}),
    };
    const res = place.threadTs
      ? await client.conversations.replies({ ...args, ts: place.threadTs })
      : await client.conversations.history(args);
    const hit = res.messages?.find((m) => carries(m, key));
    if (hit?.ts) return { ts: hit.ts };
    cursor = res.response_metadata?.next_cursor || undefined;
    if (!res.has_more || !cursor) return { ts: undefined, exhausted: false };
  }
  return { ts: undefined, exhausted: true };
}
