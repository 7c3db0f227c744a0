/**
 * bench:sla — N open tickets with SLA timers (a due row per target: its next step), of which D breach their
 * first-response target within the same minute, run by the real app (two processes by default,
 * due-work runner woken by Agenda, posts through the outbox to a fake Slack on loopback). Prints
 * the time from the minute's start until every escalation (breach post and owner DM) is posted,
 * duplicates (posts of one outbox key more than once; must be 0), and App Home's open time for an
 * owner with 200 open tickets beside one with 10 (app_home_opened over signed HTTP until
 * views.publish reaches Slack).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BSON } from 'mongodb';
import { startApp, type RunningApp } from '../../src/app.js';
import { settableClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { databaseUri, startBenchDatabase } from '../ack/database.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';
import { startFakeSlack, type FakeSlack } from '../../test/support/fake-slack.js';
import { eventCallback, postSigned } from '../../test/support/slack-requests.js';

const COUNT = numberFromEnv(
  'BENCH_COUNT',
  10_000,
  (n) => Number.isInteger(n) && n >= 300,
  'an integer of at least 300',
);
const DUE = numberFromEnv(
  'BENCH_DUE',
  Math.min(1000, Math.floor(COUNT / 10)),
  (n) => Number.isInteger(n) && n > 0 && n <= COUNT - 210,
  'a positive integer below BENCH_COUNT - 210',
);
const PROCESSES = numberFromEnv('BENCH_PROCESSES', 2, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
const CONCURRENCY = numberFromEnv(
  'BENCH_DUE_CONCURRENCY',
  8,
  (n) => Number.isInteger(n) && n > 0,
  'a positive integer',
);
const EVERY_MS = numberFromEnv(
  'BENCH_JOBS_PROCESS_EVERY_MS',
  1000,
  (n) => Number.isInteger(n) && n > 0,
  'a positive integer',
);
const HOME_RUNS = numberFromEnv('BENCH_HOME_RUNS', 40, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
const TIMEOUT_S = numberFromEnv('BENCH_TIMEOUT_SECONDS', 1800, (n) => n > 0, 'positive');
const LEAD_MS = 3000;
const SECRET = 'bench-signing-secret';
const say = (line: string) => process.stderr.write(`bench:sla: ${line}\n`);
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

/** Owners: BUSY has 200 open tickets, LIGHT 10, everyone else's go to the rest of the team. */
const BUSY = 'U0BUSY';
const LIGHT = 'U0LIGHT';
const REST = 'U0REST';
const ADMIN = 'U0ADMIN';

/**
 * The tickets: one opened through the real service (email source, billing policy, timers and due
 * rows as the app writes them), the rest copies of it with their own ref, owner and times, written
 * in batches: opening 10,000 one by one through SMTP is bench:ingest's business, not this one's.
 */
async function createTickets(app: RunningApp, minute: Date): Promise<void> {
  const { models } = app.db;
  const { ticket } = await app.services.tickets.open({
    kind: 'billing',
    title: 'Invoice is wrong',
    source: { channel: 'email', mailbox: 'billing', email: 'bench@customer.test' },
    idempotencyKey: 'bench:template',
    actor: 'email:bench@customer.test',
  });
  const template = BSON.EJSON.stringify(await models.Ticket.findById(ticket.ref).lean(), { relaxed: false });
  const rows = (await models.DueWork.find({ key: { $regex: `^${ticket.ref}:` } }).lean()).map((r) =>
    BSON.EJSON.stringify(r, { relaxed: false }),
  );
  await models.Ticket.deleteOne({ _id: ticket.ref });
  await models.DueWork.deleteMany({ key: { $regex: `^${ticket.ref}:` } });
  await models.Outbox.deleteMany({ ticketRef: ticket.ref });
  const later = new Date(minute.getTime() + 7 * 86_400_000);
  const iso = (d: Date) => d.toISOString();
  for (let from = 0; from < COUNT; from += 500) {
    const tickets: BSON.Document[] = [];
    const due: BSON.Document[] = [];
    const cards: BSON.Document[] = [];
    for (let i = from; i < Math.min(COUNT, from + 500); i += 1) {
      const number = 2001 + i;
      const ref = `AR-${number}`;
      const owner = i < 200 ? BUSY : i < 210 ? LIGHT : REST;
      // The last DUE tickets breach within the minute; the others' targets are a week away.
      const breaching = i >= COUNT - DUE;
      const dueAt = breaching ? new Date(minute.getTime() + Math.floor(((i - (COUNT - DUE)) * 60_000) / DUE)) : later;
      const doc = BSON.EJSON.parse(template.replaceAll(ticket.ref, ref), { relaxed: false }) as BSON.Document;
      Object.assign(doc, { number, assignee: owner, status: 'claimed', idempotencyKey: `bench:${i}`, history: [] });
      const sla = doc.sla as { firstResponse: Record<string, unknown>; resolution: Record<string, unknown> };
      // Past its reminder already (sent before the bench), so the minute holds only breaches.
      sla.firstResponse.remindAt = breaching
        ? new Date(dueAt.getTime() - 3_600_000)
        : new Date(later.getTime() - 3_600_000);
      sla.firstResponse.dueAt = dueAt;
      sla.resolution.dueAt = new Date(later.getTime() + 86_400_000);
      tickets.push(doc);
      cards.push({
        _id: `card:${ref}`,
        channel: 'C0BILLING',
        ts: `1700000000.${String(i).padStart(6, '0')}`,
        at: new Date(),
      });
      for (const text of rows) {
        const row = BSON.EJSON.parse(text.replaceAll(ticket.ref, ref), { relaxed: false }) as BSON.Document;
        // The app keeps one row per target, its next step (the template's: the reminders). The
        // breaching first responses are past their reminder, so theirs is the breach.
        const target = String(row.key).endsWith(':firstResponse') ? 'firstResponse' : 'resolution';
        const breachNext = breaching && target === 'firstResponse';
        if (breachNext) Object.assign(row, { _id: `sla.breach:${ref}:firstResponse`, kind: 'sla.breach' });
        const at = breachNext
          ? dueAt
          : target === 'firstResponse'
            ? (sla.firstResponse.remindAt as Date)
            : new Date(later.getTime() + 86_400_000 - 7_200_000);
        Object.assign(row, { dueAt: at, runAt: at, data: { at: iso(at) } });
        delete row.createdAt;
        delete row.updatedAt;
        due.push(row);
      }
    }
    await app.db.conn.collection('tickets').insertMany(tickets, { ordered: false });
    await app.db.conn.collection('due_work').insertMany(due, { ordered: false });
    await app.db.conn.collection('slack_posts').insertMany(cards, { ordered: false });
  }
}

/** App Home opened by `user` over signed HTTP, timed until its views.publish reaches Slack. */
async function homeTimes(app: RunningApp, slack: FakeSlack, user: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < HOME_RUNS; i += 1) {
    const started = performance.now();
    const seen = slack.callsTo('views.publish').length;
    await postSigned(
      `http://127.0.0.1:${app.port}/slack/events`,
      eventCallback({
        event: { type: 'app_home_opened', user, tab: 'home', channel: 'D0HOME' },
        eventId: `EvBench${randomUUID().slice(0, 8)}`,
      }),
      { secret: SECRET },
    );
    for (;;) {
      const published = slack
        .callsTo('views.publish')
        .slice(seen)
        .find((c) => c.args.user_id === user);
      if (published) {
        if (!published.ok) throw new Error(`views.publish refused: ${published.error}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

await runBench(async (cleanups: Cleanups) => {
  const db = await startBenchDatabase(createLogger('warn'));
  cleanups.push(() => db.stop());
  const slack = await startFakeSlack();
  cleanups.push(() => slack.close());
  slack.addChannels('C0SALES', 'C0BILLING', 'C0SUPPORT');
  const dbUri = databaseUri(db.uri, `bench_sla_${randomUUID().slice(0, 8)}`);
  // Monday 2031-06-02 10:00 Berlin: the breaching minute starts an hour later.
  const clock = settableClock(new Date('2031-06-02T08:00:00Z'));
  const minute = new Date('2031-06-02T09:00:00Z');
  const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn');
  const apps: RunningApp[] = [];
  for (let i = 0; i < PROCESSES; i += 1) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-sla-'));
    cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
    const cfg = loadConfig({
      MONGODB_URI: dbUri,
      DATA_DIR: dir,
      PORT: '0',
      HTTP_HOST: '127.0.0.1',
      SMTP_INBOUND_PORT: '0',
      TZ_BILLING: 'Europe/Berlin',
      JOBS_PROCESS_EVERY_MS: String(EVERY_MS),
      JOBS_DUE_CONCURRENCY: String(CONCURRENCY),
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-bench',
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL_SALES: 'C0SALES',
      SLACK_CHANNEL_BILLING: 'C0BILLING',
      SLACK_CHANNEL_SUPPORT: 'C0SUPPORT',
      // Required with Slack on; nothing here opens the customer's pages.
      PUBLIC_URL: 'http://127.0.0.1:9',
      ROLE_BILLING: [BUSY, LIGHT, REST].join(','),
      ROLE_ADMIN: ADMIN,
    });
    if (!cfg.ok) throw new Error(cfg.problems.join('; '));
    const app = await startApp(cfg.config, log, { clock, instanceName: `sla-${i}` });
    apps.push(app);
    cleanups.push(async () => {
      if (i === 0) await app.db.conn.dropDatabase().catch(() => undefined);
      await app.stop();
    });
  }
  const main = apps[0]!;
  say(
    `engine ${db.engine}, ${COUNT} open tickets, ${DUE} breaching in one minute, ${PROCESSES} process(es), ${os.cpus().length} cpus`,
  );
  const setupStarted = Date.now();
  await createTickets(main, minute);
  const setupS = (Date.now() - setupStarted) / 1000;
  const dueRows = await main.db.models.DueWork.estimatedDocumentCount();
  const breachRows = await main.db.models.DueWork.countDocuments({ kind: 'sla.breach' });
  if (breachRows !== DUE) throw new Error(`setup wrote ${breachRows} breach rows, not ${DUE}`);
  say(`setup ${setupS.toFixed(1)} s (${dueRows} due rows)`);

  // App Home before the burst: BUSY owns 200 open tickets, LIGHT 10.
  const homeBusy = await homeTimes(main, slack, BUSY);
  const homeLight = await homeTimes(main, slack, LIGHT);

  // Time passes to LEAD_MS before the minute: every process arms Agenda for it.
  const startReal = Date.now() + LEAD_MS;
  clock.set(new Date(minute.getTime() - LEAD_MS));
  const expected = DUE * 2; // the breach post and the owner's DM
  const posted = () =>
    slack
      .messages()
      .filter((m) => /^sla:AR-\d+:firstResponse:breach(-dm)?$/.test(String(m.metadata?.event_payload?.key ?? '')));
  const deadline = Date.now() + TIMEOUT_S * 1000;
  let lastSaid = Date.now();
  let count = 0;
  while (Date.now() < deadline) {
    count = posted().length;
    if (count >= expected) break;
    await new Promise((r) => setTimeout(r, 250));
    if (Date.now() - lastSaid > 30_000) {
      lastSaid = Date.now();
      say(`  ${count} of ${expected} escalations posted after ${((Date.now() - startReal) / 1000).toFixed(0)} s`);
    }
  }
  const allPostedS = (Date.now() - startReal) / 1000;
  // Late repeats would show after the count is reached: give the outbox a moment, then count keys.
  await new Promise((r) => setTimeout(r, 5000));
  const keys = posted().map((m) => String(m.metadata?.event_payload?.key));
  const duplicates = keys.length - new Set(keys).size;
  const lines = [
    `bench:sla  engine=${db.engine}  tickets=${COUNT}  breaching in one minute=${DUE}  processes=${PROCESSES}  JOBS_DUE_CONCURRENCY=${CONCURRENCY}  JOBS_PROCESS_EVERY_MS=${EVERY_MS}  node=${process.version}  cpus=${os.cpus().length}`,
    `setup ${setupS.toFixed(1)} s, ${dueRows} due rows`,
    `escalations posted ${new Set(keys).size} of ${expected} (breach post + owner DM per ticket); all posted ${allPostedS.toFixed(1)} s after the minute began (its last breach falls at +60 s); duplicates ${duplicates}`,
    `App Home open (event to views.publish), ${HOME_RUNS} runs each: owner with 200 open p50 ${pct(homeBusy, 50).toFixed(0)} ms p99 ${pct(homeBusy, 99).toFixed(0)} ms; with 10 open p50 ${pct(homeLight, 50).toFixed(0)} ms p99 ${pct(homeLight, 99).toFixed(0)} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.mkdir('bench/results', { recursive: true });
  await fs.writeFile(
    'bench/results/sla.json',
    JSON.stringify(
      {
        engine: db.engine,
        count: COUNT,
        due: DUE,
        processes: PROCESSES,
        setupS,
        dueRows,
        allPostedS,
        posted: new Set(keys).size,
        expected,
        duplicates,
        home: {
          busy: { p50: pct(homeBusy, 50), p99: pct(homeBusy, 99) },
          light: { p50: pct(homeLight, 50), p99: pct(homeLight, 99) },
        },
      },
      null,
      2,
    ),
  );
  if (count < expected) throw new Error(`only ${count} of ${expected} escalations posted within ${TIMEOUT_S} s`);
});
