/**
 * The bot as these benches run it: startApp in-process on a database of its own, Slack on against
 * the fake Slack Web API (test/support/fake-slack.ts), and, when given, outbound email to a relay.
 * `legacy` selects the behaviour before issue 9 for the "before" figures (StartOptions.legacy).
 */
import type { RunningApp, StartOptions } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import { startFakeSlack, type FakeSlack } from '../../test/support/fake-slack.js';
import { startBenchApp } from '../common/app.js';

export const CHANNELS = { sales: 'C0SALES', billing: 'C0BILLING', support: 'C0SUPPORT' } as const;
export const USERS = { rep: 'U0REP', support: 'U0SUPP' } as const;
export const SIGNING_SECRET = 'bench-signing-secret';

export interface Bot {
  app: RunningApp;
  slack: FakeSlack;
  eventsUrl: string;
  stop(): Promise<void>;
}

export async function startBot(o: {
  name: string;
  serverUri: string;
  log: Logger;
  processEveryMs: number;
  smtpUrl?: string;
  legacy?: StartOptions['legacy'];
}): Promise<Bot> {
  const slack = await startFakeSlack();
  slack.addChannels(...Object.values(CHANNELS));
  try {
    const { app, stop } = await startBenchApp({
      name: o.name,
      serverUri: o.serverUri,
      log: o.log,
      env: {
        LOG_LEVEL: 'warn',
        MAIL_DOMAIN: 'example.com',
        SMTP_INBOUND_HOST: '127.0.0.1',
        JOBS_PROCESS_EVERY_MS: String(o.processEveryMs),
        ROLE_SALES: USERS.rep,
        ROLE_SUPPORT: USERS.support,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: 'xoxb-bench-token',
        SLACK_API_URL: slack.apiUrl,
        SLACK_CHANNEL_SALES: CHANNELS.sales,
        SLACK_CHANNEL_BILLING: CHANNELS.billing,
        SLACK_CHANNEL_SUPPORT: CHANNELS.support,
        // Required with Slack on; no link is followed in this bench.
        PUBLIC_URL: 'http://127.0.0.1:9',
        ...(o.smtpUrl ? { SMTP_URL: o.smtpUrl } : {}),
      },
      ...(o.legacy ? { start: { legacy: o.legacy } } : {}),
    });
    return {
      app,
      slack,
      eventsUrl: `http://127.0.0.1:${app.port}/slack/events`,
      stop: async () => {
        // Jobs first (deliveries may still be going out), so none writes to a dropped database.
        await stop((a) => a.scheduler.agenda.drain(10_000));
        await slack.close();
      },
    };
  } catch (err) {
    await slack.close();
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `idle` holds and the database agrees, or `timeoutMs` passes; true if it did. The
 * in-process lanes are watched, not the database: on FerretDB a count scans its collection
 * (seconds at this size), and polling one would slow the very app being measured.
 */
async function settle(idle: () => boolean, confirm: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (idle() && (await confirm())) return true;
    await sleep(idle() ? 2000 : 250);
  }
  return false;
}

/** No outbox row pending: this process's delivery lanes are empty and no row waits for a retry. */
export function outboxDrained(app: RunningApp, timeoutMs: number): Promise<boolean> {
  return settle(
    () => app.lanes.bulk.depth() + app.lanes.interactive.depth() === 0,
    async () => (await app.db.models.Outbox.countDocuments({ status: 'pending' })) === 0,
    timeoutMs,
  );
}

/** Every stored email processed: the mail lane is empty and no row is still `received`. */
export function mailProcessed(app: RunningApp, timeoutMs: number): Promise<boolean> {
  return settle(
    () => app.lanes.mail.depth() === 0,
    async () => (await app.db.models.InboundMail.countDocuments({ status: 'received' })) === 0,
    timeoutMs,
  );
}
