/**
 * bench:schedule — N plan changes due in the same minute, applied by one and by two bot processes
 * (the real app: due-work runner woken by Agenda, claim, guard, billing ledger, account update),
 * beside a baseline of bare Agenda running no-op jobs due at the same instant with one and two
 * processes. Prints time until all are done, p99 lateness against the due time, and duplicates
 * (must be 0 for ours).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Agenda } from 'agenda';
import { MongoBackend } from '@agendajs/mongo-backend';
import { BSON, MongoClient } from 'mongodb';
import { startApp, type RunningApp } from '../../src/app.js';
import { settableClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { PLAN_DUE_KIND } from '../../src/jobs/plan-changes.js';
import { databaseUri, startBenchDatabase } from '../ack/database.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';

const COUNT = numberFromEnv('BENCH_COUNT', 100, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
/** Bare Agenda locks 5 jobs per poll per process and scans its collection for each lock on FerretDB: 10,000 would take hours. */
const BARE_COUNT = numberFromEnv(
  'BENCH_BARE_COUNT',
  Math.min(COUNT, 200),
  (n) => Number.isInteger(n) && n > 0,
  'a positive integer',
);
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
const TIMEOUT_S = numberFromEnv('BENCH_TIMEOUT_SECONDS', 900, (n) => n > 0, 'positive');
const LEAD_MS = 3000;
const say = (line: string) => process.stderr.write(`bench:schedule: ${line}\n`);

interface Row {
  target: string;
  processes: number;
  count: number;
  allDoneS: number;
  p50LateMs: number;
  p99LateMs: number;
  maxLateMs: number;
  duplicates: number;
  setupS: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;

/** Bare Agenda: N no-op jobs due at one instant, run by `processes` Agenda instances on one database. */
async function bare(serverUri: string, processes: number): Promise<Row> {
  const COUNT = BARE_COUNT;
  const client = await MongoClient.connect(databaseUri(serverUri, `bench_bare_${randomUUID().slice(0, 8)}`));
  const db = client.db();
  const runs = new Map<string, number>();
  const late: number[] = [];
  let due = 0;
  const agendas = Array.from({ length: processes }, (_, i) => {
    const agenda = new Agenda({
      backend: new MongoBackend({ mongo: db, collection: 'jobs' }),
      name: `bare-${i}`,
      processEvery: EVERY_MS,
      maxConcurrency: 20,
      removeOnComplete: true,
    });
    agenda.define(
      'noop',
      async (job) => {
        const id = String(job.attrs._id);
        runs.set(id, (runs.get(id) ?? 0) + 1);
        late.push(Date.now() - due);
      },
      { concurrency: 5, lockLimit: 5 },
    );
    return agenda;
  });
  const setupStarted = Date.now();
  const far = new Date(Date.now() + 86_400_000);
  await db
    .collection('jobs')
    .createIndex({ name: 1, nextRunAt: 1 })
    .catch(() => undefined);
  for (let i = 0; i < COUNT; i += 1) await agendas[0]!.schedule(far, 'noop', { i });
  const setupS = (Date.now() - setupStarted) / 1000;
  for (const a of agendas) await a.start();
  due = Date.now() + LEAD_MS;
  await db.collection('jobs').updateMany({ name: 'noop' }, { $set: { nextRunAt: new Date(due) } });
  const deadline = Date.now() + TIMEOUT_S * 1000;
  while (runs.size < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const allDoneS = (Date.now() - due) / 1000;
  for (const a of agendas) await a.stop();
  await db.dropDatabase().catch(() => undefined);
  await client.close();
  const sorted = late.sort((x, y) => x - y);
  const duplicates = [...runs.values()].reduce((s, n) => s + n - 1, 0);
  return {
    target: 'bare Agenda (no-op)',
    processes,
    count: runs.size,
    allDoneS,
    p50LateMs: pct(sorted, 50),
    p99LateMs: pct(sorted, 99),
    maxLateMs: sorted.at(-1) ?? 0,
    duplicates,
    setupS,
  };
}

/** The account IDs of the bench: `B00-BEN-0000`, `B00-BEN-0001`… */
const accountId = (i: number) =>
  `B${String(Math.floor(i / 10000)).padStart(2, '0')}-BEN-${String(i % 10000).padStart(4, '0')}`;

/**
 * N trial accounts with their scheduled lock and end: the first through the real service, the rest
 * as copies of what it wrote (accounts, changes, slots, due rows), with the account ID replaced.
 * Creating 10,000 one by one through the service costs O(N²) on FerretDB SQLite, where every `_id`
 * read scans its collection, and the setup is not what is measured.
 */
async function createTrials(app: RunningApp): Promise<void> {
  const template = accountId(0);
  await app.services.accounts.create({
    id: template,
    name: `Bench ${template}`,
    contactEmail: `${template.toLowerCase()}@bench.test`,
    tier: 'startup-10k',
    status: 'trial',
    signupDate: '2030-01-01',
    billingDetailsComplete: false,
  });
  const { models } = app.db;
  const changes = await models.PlanChange.find({ accountId: template }).lean();
  const docs: [string, object[]][] = [
    ['accounts', await models.Account.find({ _id: template }).lean()],
    ['plan_changes', changes],
    ['plan_slots', await models.PlanSlot.find({ _id: { $in: changes.map((c) => `${template}:${c.type}`) } }).lean()],
    ['due_work', await models.DueWork.find({ _id: { $in: changes.map((c) => `${PLAN_DUE_KIND}:${c._id}`) } }).lean()],
  ];
  for (const [collection, templates] of docs) {
    const texts = templates.map((d) => BSON.EJSON.stringify(d, { relaxed: false }));
    const lower = template.toLowerCase();
    for (let from = 1; from < COUNT; from += 500) {
      const batch: BSON.Document[] = [];
      for (let i = from; i < Math.min(COUNT, from + 500); i += 1) {
        const id = accountId(i);
        for (const text of texts)
          batch.push(
            BSON.EJSON.parse(text.replaceAll(template, id).replaceAll(lower, id.toLowerCase()), {
              relaxed: false,
            }) as BSON.Document,
          );
      }
      await app.db.conn.collection(collection).insertMany(batch, { ordered: false });
    }
  }
}

/** Ours: N trial locks (plan changes through the real app) due at one instant, `processes` bot processes. */
async function ours(serverUri: string, processes: number): Promise<Row> {
  const dbUri = databaseUri(serverUri, `bench_plans_${randomUUID().slice(0, 8)}`);
  const appliedBy = new Map<string, number>();
  // Counts the "applied" effects per change from the apps' own log lines: more than one is a duplicate.
  const counter = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line.includes('"event":"due.batch"')) say(`  ${line}`);
        if (!line.includes('"event":"plan.applied"')) continue;
        const id = /"changeId":"([^"]+)"/.exec(line)?.[1] ?? '?';
        appliedBy.set(id, (appliedBy.get(id) ?? 0) + 1);
      }
      done();
    },
  });
  const log = createLogger(process.env.BENCH_LOG_LEVEL ?? 'info', counter);
  // Signup on 2030-01-01 in UTC: every lock is due at 00:00 on 2030-01-24.
  const dueApp = new Date('2030-01-24T00:00:00Z');
  const clock = settableClock(new Date('2030-01-10T00:00:00Z'));
  const apps: RunningApp[] = [];
  const dirs: string[] = [];
  for (let i = 0; i < processes; i += 1) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-schedule-'));
    dirs.push(dir);
    const cfg = loadConfig({
      MONGODB_URI: dbUri,
      DATA_DIR: dir,
      PORT: '0',
      HTTP_HOST: '127.0.0.1',
      SMTP_INBOUND_PORT: '0',
      JOBS_PROCESS_EVERY_MS: String(EVERY_MS),
      JOBS_DUE_CONCURRENCY: String(CONCURRENCY),
      TZ_BILLING: 'UTC',
    });
    if (!cfg.ok) throw new Error(cfg.problems.join('; '));
    apps.push(await startApp(cfg.config, log, { clock, instanceName: `bot-${i}` }));
  }
  const main = apps[0]!;
  const setupStarted = Date.now();
  await createTrials(main);
  const setupS = (Date.now() - setupStarted) / 1000;
  // Time passes to LEAD_MS before the due time: every process arms Agenda for that instant.
  const dueReal = Date.now() + LEAD_MS;
  clock.set(new Date(dueApp.getTime() - LEAD_MS));
  const deadline = Date.now() + TIMEOUT_S * 1000;
  let lastSaid = 0;
  // Progress from the log lines: a count query would scan plan_changes on FerretDB beside the work.
  while (Date.now() < deadline && appliedBy.size < COUNT) {
    await new Promise((r) => setTimeout(r, 200));
    if (Date.now() - lastSaid > 30_000) {
      lastSaid = Date.now();
      say(`  ${appliedBy.size} of ${COUNT} applied after ${((Date.now() - dueReal) / 1000).toFixed(0)} s`);
    }
  }
  const allDoneS = (Date.now() - dueReal) / 1000;
  const models = main.db.models;
  // The change is marked applied just after its log line: wait for the last writes to land.
  let done = 0;
  for (let i = 0; i < 50; i += 1) {
    done = await models.PlanChange.countDocuments({ type: 'trial_lock', status: 'applied' });
    if (done >= appliedBy.size) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const late = (await models.PlanChange.find({ type: 'trial_lock', status: 'applied' }).select({ lateMs: 1 }).lean())
    .map((c) => c.lateMs ?? 0)
    .sort((x, y) => x - y);
  const ledger = await models.BillingLedger.countDocuments({ type: 'trial_lock' });
  await main.db.conn.dropDatabase().catch(() => undefined);
  for (const app of apps.reverse()) await app.stop();
  for (const dir of dirs) await fs.rm(dir, { recursive: true, force: true });
  const doubled = [...appliedBy.values()].reduce((sum, n) => sum + n - 1, 0);
  return {
    target: 'ours (trial locks)',
    processes,
    count: done,
    allDoneS,
    p50LateMs: pct(late, 50),
    p99LateMs: pct(late, 99),
    maxLateMs: late.at(-1) ?? 0,
    duplicates: doubled + Math.max(0, ledger - done),
    setupS,
  };
}

await runBench(async (cleanups: Cleanups) => {
  const db = await startBenchDatabase(createLogger('warn'));
  cleanups.push(() => db.stop());
  const targets = (process.env.BENCH_TARGETS ?? 'bare,ours').split(',');
  const procs = (process.env.BENCH_PROCESSES ?? '1,2').split(',').map(Number);
  say(
    `engine ${db.engine}, ${COUNT} changes (bare Agenda: ${BARE_COUNT} jobs), poll every ${EVERY_MS} ms, ${os.cpus().length} cpus`,
  );
  const rows: Row[] = [];
  for (const processes of procs) {
    if (targets.includes('bare')) {
      say(`bare Agenda, ${processes} process(es)…`);
      rows.push(await bare(db.uri, processes));
    }
    if (targets.includes('ours')) {
      say(`ours, ${processes} process(es)…`);
      rows.push(await ours(db.uri, processes));
    }
  }
  const lines = [
    `bench:schedule  engine=${db.engine}  count=${COUNT}  bare count=${BARE_COUNT}  JOBS_PROCESS_EVERY_MS=${EVERY_MS}  JOBS_DUE_CONCURRENCY=${CONCURRENCY}  node=${process.version}  cpus=${os.cpus().length}`,
    'target                 procs  done   all done s  p50 late ms  p99 late ms  max late ms  duplicates  setup s',
    ...rows.map((r) =>
      [
        r.target.padEnd(22),
        String(r.processes).padStart(5),
        String(r.count).padStart(6),
        r.allDoneS.toFixed(1).padStart(11),
        String(r.p50LateMs).padStart(12),
        String(r.p99LateMs).padStart(12),
        String(r.maxLateMs).padStart(12),
        String(r.duplicates).padStart(11),
        r.setupS.toFixed(1).padStart(8),
      ].join(' '),
    ),
  ];
  for (const processes of procs) {
    const o = rows.find((r) => r.target.startsWith('ours') && r.processes === processes);
    const b = rows.find((r) => r.target.startsWith('bare') && r.processes === processes);
    if (!o || !b) continue;
    // Per change, since bare Agenda may run fewer than ours.
    const rate = (r: Row) => r.count / Math.max(0.001, r.allDoneS);
    lines.push(
      `ours/bare (${processes} proc): changes per second ${(rate(o) / Math.max(0.001, rate(b))).toFixed(2)}x (${rate(o).toFixed(1)} vs ${rate(b).toFixed(1)})`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.mkdir('bench/results', { recursive: true });
  await fs.writeFile(
    'bench/results/schedule.json',
    JSON.stringify(
      { engine: db.engine, count: COUNT, bareCount: BARE_COUNT, everyMs: EVERY_MS, concurrency: CONCURRENCY, rows },
      null,
      2,
    ),
  );
});
