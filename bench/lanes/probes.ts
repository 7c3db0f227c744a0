/**
 * What a person waits for, from the request Slack would send to the effect they see: a `/ticket new`
 * submission until its card is posted in the team channel (when the fake Slack receives the post),
 * and a staff Reply submission until the email reaches the relay.
 */
import { postSigned, viewSubmission } from '../../test/support/slack-requests.js';
import { TICKET_NEW, TICKET_REPLY } from '../../views/ids.js';
import { CHANNELS, SIGNING_SECRET, USERS, type Bot } from './bot.js';
import type { Relay } from './relay.js';

/** Milliseconds each took; undefined when it did not happen within the timeout. */
export interface ProbeResult {
  cardMs: number | undefined;
  replyMs: number | undefined;
}

export interface Prober {
  /** One `/ticket new` and one Reply, made at the same moment. */
  probe(): Promise<ProbeResult>;
}

/** `replyRefs`: email tickets the Reply probes answer in turn (one ticket with hundreds of replies would not be realistic). */
/** Whichever settles first; a wait that times out counts as "did not happen". */
function firstOf(done: Promise<number>, failed: Promise<undefined>): Promise<number | undefined> {
  return Promise.race([done.catch(() => undefined), failed.catch(() => new Promise<undefined>(() => undefined))]);
}

export function createProber(o: {
  bot: Bot;
  relay: Relay;
  replyRefs: string[];
  tag: string;
  timeoutMs: number;
}): Prober {
  let serial = 0;

  async function card(i: number): Promise<number | undefined> {
    const title = `Probe ${o.tag} #${i}.`;
    const started = Date.now();
    const res = await postSigned(
      o.bot.eventsUrl,
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.rep,
        viewId: `VPROBE${o.tag}${i}`,
        values: {
          [TICKET_NEW.fields.kind]: {
            type: 'static_select',
            selected_option: { value: 'billing', text: { type: 'plain_text', text: 'billing' } },
          },
          [TICKET_NEW.fields.title]: { type: 'plain_text_input', value: title },
          [TICKET_NEW.fields.accountId]: { type: 'plain_text_input', value: null },
          [TICKET_NEW.fields.description]: { type: 'plain_text_input', value: null },
        },
      }),
      { secret: SIGNING_SECRET },
    );
    if (res.status !== 200) return undefined;
    const posted = o.bot.slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.billing && String(c.args.text).includes(title),
      o.timeoutMs,
    );
    // The submitter is told when the ticket could not be saved: then no card will come.
    const refused = o.bot.slack.waitFor(
      'chat.postMessage',
      (c) => String(c.args.text).includes(`"${title}" was not saved`),
      o.timeoutMs,
    );
    return firstOf(
      posted.then((post) => post.at - started),
      refused.then(() => undefined),
    );
  }

  async function reply(i: number): Promise<number | undefined> {
    const marker = `PROBE-${o.tag}-${i}`;
    const started = Date.now();
    const res = await postSigned(
      o.bot.eventsUrl,
      viewSubmission({
        callbackId: TICKET_REPLY.callbackId,
        userId: USERS.support,
        viewId: `VREPLY${o.tag}${i}`,
        privateMetadata: JSON.stringify({ ref: o.replyRefs[i % o.replyRefs.length] }),
        values: {
          [TICKET_REPLY.fields.body]: {
            type: 'plain_text_input',
            value: `Thank you for waiting, we are on it. ${marker}`,
          },
        },
      }),
      { secret: SIGNING_SECRET },
    );
    if (res.status !== 200) return undefined;
    const ref = o.replyRefs[i % o.replyRefs.length];
    const refused = o.bot.slack.waitFor(
      'chat.postMessage',
      (c) => c.at >= started && String(c.args.text).includes(`reply on ${ref} was not sent`),
      o.timeoutMs,
    );
    return firstOf(
      o.relay.arrivalOf(marker, o.timeoutMs).then((at) => at - started),
      refused.then(() => undefined),
    );
  }

  return {
    async probe() {
      serial += 1;
      const [cardMs, replyMs] = await Promise.all([card(serial), reply(serial)]);
      return { cardMs, replyMs };
    },
  };
}

export interface LatencyStats {
  n: number;
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentiles; `missing` counts probes whose effect never came within the timeout. */
export function latencyStats(values: (number | undefined)[]): LatencyStats {
  const done = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const rank = (q: number) =>
    done.length === 0 ? Number.NaN : done[Math.min(done.length - 1, Math.max(0, Math.ceil(q * done.length) - 1))]!;
  return {
    n: done.length,
    missing: values.length - done.length,
    p50Ms: rank(0.5),
    p99Ms: rank(0.99),
    maxMs: done.at(-1) ?? Number.NaN,
  };
}
