/**
 * Starts the real app in-process against the run's database (a fresh database per call), with
 * Slack pointed at a fake Web API on loopback. Tests talk to it over HTTP like Slack does.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { postSigned, type PostOptions, type PostResult, type SlackRequest } from './slack-requests.js';
import type { FakeSlack } from './fake-slack.js';

export const SIGNING_SECRET = 'test-signing-secret';
export const CHANNELS = { sales: 'C0SALES', billing: 'C0BILLING', support: 'C0SUPPORT' } as const;
export const USERS = {
  rep: 'U0REP',
  billing: 'U0BILL',
  support: 'U0SUPP',
  admin: 'U0ADMIN',
  outsider: 'U0OUT',
} as const;

export function testDatabaseUri(name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`): string {
  const base = process.env.TEST_MONGODB_URI;
  if (!base)
    throw new Error('TEST_MONGODB_URI is not set: run tests through `npm test` (global setup starts the database)');
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestApp {
  app: RunningApp;
  config: Config;
  eventsUrl: string;
  baseUrl: string;
  post(req: SlackRequest, opts?: Omit<PostOptions, 'secret'>): Promise<PostResult>;
  stop(opts?: { dropDatabase?: boolean }): Promise<void>;
}

/** A port nobody listens on now, for an app whose PUBLIC_URL must name its own port before it starts. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** PUBLIC_URL of apps whose links are not followed: a loopback port where nothing listens. */
export const UNUSED_PUBLIC_URL = 'http://127.0.0.1:9';

export async function startTestApp(
  opts: {
    slack?: FakeSlack;
    env?: Record<string, string>;
    databaseUri?: string;
    start?: StartOptions;
    /** The app's logger (tests that read its lines); by default silent unless TEST_LOG_LEVEL. */
    log?: Logger;
    /** Links in emails must open this app (page and browser tests): PUBLIC_URL names its real port. */
    servesLinks?: boolean;
    /** Every log line (debug and up) is pushed here, for tests of what logs must never hold. */
    logLines?: string[];
  } = {},
): Promise<TestApp> {
  // The channels the app posts to exist before its first post, as they do in a workspace.
  opts.slack?.addChannels(...Object.values(CHANNELS));
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-app-'));
  const port = opts.servesLinks ? await freePort() : 0;
  const env: Record<string, string> = {
    MONGODB_URI: opts.databaseUri ?? testDatabaseUri(),
    DATA_DIR: dataDir,
    PORT: String(port),
    ...(opts.servesLinks ? { PUBLIC_URL: `http://127.0.0.1:${port}` } : {}),
    HTTP_HOST: '127.0.0.1',
    SMTP_INBOUND_PORT: '0',
    JOBS_PROCESS_EVERY_MS: '100',
    LOG_LEVEL: 'warn',
    ROLE_SALES: USERS.rep,
    ROLE_BILLING: USERS.billing,
    ROLE_SUPPORT: USERS.support,
    ROLE_ADMIN: USERS.admin,
    ...(opts.slack
      ? {
          SLACK_SIGNING_SECRET: SIGNING_SECRET,
          SLACK_BOT_TOKEN: 'xoxb-test-token',
          SLACK_API_URL: opts.slack.apiUrl,
          SLACK_CHANNEL_SALES: CHANNELS.sales,
          SLACK_CHANNEL_BILLING: CHANNELS.billing,
          SLACK_CHANNEL_SUPPORT: CHANNELS.support,
          ...(opts.servesLinks ? {} : { PUBLIC_URL: UNUSED_PUBLIC_URL }),
        }
      : {}),
    ...opts.env,
  };
  const result = loadConfig(env);
  if (!result.ok) throw new Error(`test config invalid: ${result.problems.join('; ')}`);
  const lines = opts.logLines;
  const log =
    opts.log ??
    (lines
      ? createLogger('debug', { write: (line: string) => void lines.push(line) })
      : createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'));
  const app = await startApp(result.config, log, { scheduleRetention: false, ...opts.start });
  const baseUrl = `http://127.0.0.1:${app.port}`;
  const eventsUrl = `${baseUrl}/slack/events`;
  return {
    app,
    config: result.config,
    baseUrl,
    eventsUrl,
    post: (req, postOpts = {}) => postSigned(eventsUrl, req, { secret: SIGNING_SECRET, ...postOpts }),
    stop: async ({ dropDatabase = true } = {}) => {
      if (dropDatabase) await app.db.conn.dropDatabase().catch(() => undefined);
      await app.stop();
      // A delivery stopped mid-write may still be renaming its .eml: retry rather than fail the file.
      await fs.rm(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/** Where the bot posted a ticket's card (`card`) or its billing handoff (`handoff`), once it has. */
export async function postOf(t: TestApp, ref: string, what: 'card' | 'handoff' = 'card') {
  return t.app.db.models.SlackPost.findById(`${what}:${ref}`).lean();
}

/**
 * Polls until `check` returns a value (not undefined/false), or fails with `what`. The default
 * bound is for liveness, not speed: generous, since the suite must pass beside a CPU hog.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false | null>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the app has nothing left to do now: no Slack listener still running after its ack,
 * no lane with work, no stored mail waiting to be processed and no outbox row due on a channel the
 * app delivers, three polls in a row. Assert "nothing else happened" after this, never after a
 * fixed sleep.
 */
export async function settled(t: TestApp, timeoutMs = 30_000): Promise<void> {
  const { models } = t.app.db;
  const channels: ('slack' | 'email')[] = t.config.slack.enabled ? ['slack', 'email'] : ['email'];
  let quiet = 0;
  await eventually(
    async () => {
      // Rows are stamped in real time, deliveries compare with the app's clock: due by either.
      const due = new Date(Math.max(Date.now(), t.app.clock.now().getTime()) + 1000);
      const lanesBusy = Object.values(t.app.lanes).some((lane) => lane.depth() > 0);
      const busy =
        (t.app.slack?.inFlight() ?? 0) > 0 ||
        lanesBusy ||
        (await models.InboundMail.exists({ status: 'received' })) !== null ||
        (await models.Outbox.exists({
          status: 'pending',
          channel: { $in: channels },
          nextAttemptAt: { $lte: due },
        })) !== null;
      quiet = busy ? 0 : quiet + 1;
      return quiet >= 3;
    },
    'the app to settle',
    timeoutMs,
  );
}
