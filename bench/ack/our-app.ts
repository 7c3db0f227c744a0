/**
 * Our app, started in-process with startApp the way test/support/test-app.ts does, on a database
 * of its own, with Slack pointed at the fake. A few tickets are opened first so `/ticket mine`
 * reads a real list; the bench waits until their cards are delivered, so the outbox is quiet.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { Ticket } from '../../src/services/index.js';
import type { FakeSlack } from '../../test/support/fake-slack.js';
import { databaseUri } from './database.js';

export const CHANNELS = { sales: 'C0SALES', billing: 'C0BILLING', support: 'C0SUPPORT' } as const;

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
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-app-'));
  const result = loadConfig({
    MONGODB_URI: databaseUri(o.serverUri, `bench_ack_${randomUUID().replace(/-/g, '').slice(0, 12)}`),
    DATA_DIR: dataDir,
    PORT: '0',
    HTTP_HOST: '127.0.0.1',
    SMTP_INBOUND_PORT: '0',
    LOG_LEVEL: 'error',
    ROLE_SALES: o.userId,
    SLACK_SIGNING_SECRET: o.signingSecret,
    SLACK_BOT_TOKEN: o.token,
    SLACK_API_URL: o.slack.apiUrl,
    SLACK_CHANNEL_SALES: CHANNELS.sales,
    SLACK_CHANNEL_BILLING: CHANNELS.billing,
    SLACK_CHANNEL_SUPPORT: CHANNELS.support,
  });
  if (!result.ok) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw new Error(`bench config invalid: ${result.problems.join('; ')}`);
  }
  let app: RunningApp;
  try {
    app = await startApp(result.config, o.log);
  } catch (err) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await app.db.conn.dropDatabase().catch(() => undefined);
    await app.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  try {
    for (let i = 1; i <= o.seedTickets; i += 1) {
      await app.services.tickets.open({
        kind: 'billing',
        title: `Bench ticket ${i}: invoice shows the wrong VAT`,
        source: { channel: 'slack', slackUserId: o.userId },
        idempotencyKey: `bench:${i}`,
        actor: `slack:${o.userId}`,
      });
    }
    await outboxDrained(app, 30_000);
    return { app, eventsUrl: `http://127.0.0.1:${app.port}/slack/events`, tickets: await app.services.tickets.mine(o.userId), stop };
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
