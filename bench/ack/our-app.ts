/**
 * Our app, started in-process with startApp the way test/support/test-app.ts does, on a database
 * of its own, with Slack pointed at the fake. A few tickets are opened first so `/ticket mine`
 * reads a real list; the bench waits until their cards are delivered, so the outbox is quiet.
 */
import type { RunningApp } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import type { Ticket } from '../../src/services/index.js';
import type { FakeSlack } from '../../test/support/fake-slack.js';
import { startBenchApp } from '../common/app.js';

export const CHANNELS = { sales: 'C0SALES', billing: 'C0BILLING', support: 'C0SUPPORT' } as const;
/** The account `/account` shows: one scheduled change and the seeded tickets opened on it. */
export const BENCH_ACCOUNT = 'BEN-AAA-0001';

export interface OurApp {
  app: RunningApp;
  eventsUrl: string;
  /** The seeded user's tickets, newest first, as `/ticket mine` lists them. */
  tickets: Ticket[];
  stop(): Promise<void>;
}

export async function startOurApp(o: {
  serverUri: string;
  slack: FakeSlack;
  signingSecret: string;
  token: string;
  userId: string;
  seedTickets: number;
  log: Logger;
}): Promise<OurApp> {
  const { app, stop } = await startBenchApp({
    name: 'ack',
    serverUri: o.serverUri,
    log: o.log,
    env: {
      LOG_LEVEL: 'error',
      ROLE_SALES: o.userId,
      SLACK_SIGNING_SECRET: o.signingSecret,
      SLACK_BOT_TOKEN: o.token,
      SLACK_API_URL: o.slack.apiUrl,
      SLACK_CHANNEL_SALES: CHANNELS.sales,
      SLACK_CHANNEL_BILLING: CHANNELS.billing,
      SLACK_CHANNEL_SUPPORT: CHANNELS.support,
      // Required with Slack on; no link is followed in this bench.
      PUBLIC_URL: 'http://127.0.0.1:9',
    },
  });
  try {
    await app.services.accounts.create({
      id: BENCH_ACCOUNT,
      name: 'Bench Co',
      contactEmail: 'owner@bench.test',
      tier: 'startup-10k',
      status: 'active',
      signupDate: '2029-12-01',
      billingAnchor: '2030-01-01',
      billingDetailsComplete: true,
    });
    for (let i = 1; i <= o.seedTickets; i += 1) {
      await app.services.tickets.open({
        kind: 'billing',
        title: `Bench ticket ${i}: invoice shows the wrong VAT`,
        source: { channel: 'slack', slackUserId: o.userId },
        accountId: BENCH_ACCOUNT,
        idempotencyKey: `bench:${i}`,
        actor: `slack:${o.userId}`,
      });
    }
    await outboxDrained(app, 30_000);
    return {
      app,
      eventsUrl: `http://127.0.0.1:${app.port}/slack/events`,
      tickets: await app.services.tickets.mine(o.userId),
      stop: () => stop(),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function outboxDrained(app: RunningApp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending = Object.values(await app.outboxWorker.backlog()).reduce((a, b) => a + b, 0);
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`outbox still has ${pending} pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
