/**
 * Lookups as the data grows: the same app on a database seeded with BENCH_SIZES tickets (default
 * 1,000 and 100,000, with their mail rows; see seed.ts), p50/p99 of what people wait for:
 * `/ticket AR-n`, the threading lookup of a reply, `/ticket mine`, App Home. The smallest size is
 * the baseline; each larger one is reported as a ratio of it, all in one run. Settings:
 * BENCH_SIZES, BENCH_SAMPLES, BENCH_SETTLE_SECONDS, MONGODB_URI, EMBEDDED_DB.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/logger.js';
import { startBenchDatabase } from '../ack/database.js';
import { startBenchApp } from '../common/app.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';
import { customerMessageId, isEmailTicket, OPEN_TICKETS, refOf, seed, STAFF, type Seeded } from './seed.js';

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results', 'growth.json');
const OPS = ['show', 'thread', 'mine', 'home'] as const;
type Op = (typeof OPS)[number];
const LABELS: Record<Op, string> = {
  show: '/ticket AR-n',
  thread: 'reply threading lookup',
  mine: '/ticket mine',
  home: 'App Home open',
};

function settings() {
  const sizes = (process.env.BENCH_SIZES ?? '1000,100000').split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < OPEN_TICKETS * 2))
    throw new Error(`BENCH_SIZES must be whole numbers of at least ${OPEN_TICKETS * 2}, separated by commas`);
  const samples = numberFromEnv(
    'BENCH_SAMPLES',
    200,
    (n) => Number.isInteger(n) && n >= 20,
    'a whole number of at least 20',
  );
  const settleSeconds = numberFromEnv('BENCH_SETTLE_SECONDS', 30, (n) => n >= 0, 'a number of seconds, 0 or more');
  return { sizes: [...sizes].sort((a, b) => a - b), samples, settleSeconds };
}

const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

interface SizeReport {
  size: number;
  seeded: Seeded;
  diskMiB?: number;
  ops: Record<Op, { p50: number; p99: number; max: number }>;
}

function diskMiB(dir: string | undefined): number | undefined {
  if (!dir) return undefined;
  try {
    return Math.round(Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]) / 1024);
  } catch {
    return undefined;
  }
}

async function measureSize(
  serverUri: string,
  dbDir: string | undefined,
  size: number,
  samples: number,
  settleSeconds: number,
  cleanups: Cleanups,
): Promise<SizeReport> {
  const log = createLogger('error', process.stderr);
  const staff = STAFF.join(',');
  const bench = await startBenchApp({
    name: `growth${size}`,
    serverUri,
    log,
    env: { LOG_LEVEL: 'error', ROLE_SUPPORT: staff, ROLE_BILLING: staff },
    start: { scheduleRetention: false },
  });
  cleanups.push(() => bench.stop());
  const { app } = bench;
  const t0 = Date.now();
  const seeded = await seed(app.db.models, size, (done) => {
    if (done % 10_000 === 0 || done === size)
      process.stderr.write(`bench: ${size}: seeded ${done} tickets (${Math.round((Date.now() - t0) / 1000)} s)\n`);
  });
  const { services } = app;
  const { models } = app.db;
  const emailTickets = Array.from({ length: Math.min(size, 5000) }, () => Math.floor(Math.random() * size)).filter(
    isEmailTicket,
  );
  const run: Record<Op, () => Promise<unknown>> = {
    show: () => services.tickets.find(refOf(Math.floor(Math.random() * size)), pick(STAFF)),
    // What a reply's In-Reply-To costs: the Message-ID's row, then its ticket (mail/ingest.ts findThread, handleReply).
    thread: async () => {
      const known = await models.MailMessage.findById(customerMessageId(pick(emailTickets))).lean();
      return models.Ticket.findById(known!.ticketRef).lean();
    },
    mine: () => services.tickets.mine(pick(STAFF)),
    home: () => {
      const user = pick(STAFF);
      return Promise.all([services.tickets.mine(user), services.migrations.home(user)]);
    },
  };
  const times: Record<Op, number[]> = { show: [], thread: [], mine: [], home: [] };
  // Unmeasured first: a bulk load leaves PostgreSQL checkpointing and autovacuuming for a while,
  // which is not what the same data costs once it has been there (BENCH_SETTLE_SECONDS).
  const settleUntil = Date.now() + settleSeconds * 1000;
  do for (const op of OPS) await run[op]();
  while (Date.now() < settleUntil);
  // Then the ops interleaved, so none always runs on a cold cache.
  for (let i = 0; i < samples; i += 1) {
    for (const op of OPS) {
      const started = performance.now();
      await run[op]();
      times[op].push(performance.now() - started);
    }
  }
  const ops = Object.fromEntries(
    OPS.map((op) => {
      const sorted = [...times[op]].sort((a, b) => a - b);
      return [
        op,
        { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1)!) },
      ];
    }),
  ) as SizeReport['ops'];
  const disk = diskMiB(dbDir);
  await cleanups.pop()!();
  return { size, seeded, ...(disk !== undefined ? { diskMiB: disk } : {}), ops };
}

const round = (n: number) => Math.round(n * 10) / 10;

async function main(cleanups: Cleanups): Promise<void> {
  const s = settings();
  const db = await startBenchDatabase(createLogger('warn', process.stderr));
  cleanups.push(db.stop);
  process.stderr.write(
    `bench: growth at ${s.sizes.join(', ')} tickets, ${s.samples} samples per lookup, database ${db.engine}\n`,
  );
  const reports: SizeReport[] = [];
  for (const size of s.sizes)
    reports.push(await measureSize(db.uri, db.dbDir, size, s.samples, s.settleSeconds, cleanups));

  const base = reports[0]!;
  const cpus = os.cpus();
  const lines = [
    `Lookups as the data grows: the same app on ${s.sizes.map((n) => n.toLocaleString('en')).join(' and ')} seeded tickets, same run`,
    `machine:  ${cpus.length} cpus (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    `database: ${db.engine}; ${OPEN_TICKETS} open tickets at every size (the rest closed), ${s.samples} samples per lookup after ${s.settleSeconds} s unmeasured`,
    '',
    ['tickets', 'docs', 'seed s', 'disk MiB', ...OPS.map((op) => `${LABELS[op]} p50/p99 ms`)].join(' | '),
  ];
  for (const r of reports) {
    const docs = Object.values(r.seeded.docs).reduce((a, b) => a + b, 0);
    lines.push(
      [
        r.size.toLocaleString('en'),
        docs.toLocaleString('en'),
        (r.seeded.ms / 1000).toFixed(0),
        r.diskMiB ?? '-',
        ...OPS.map((op) => `${r.ops[op].p50} / ${r.ops[op].p99}`),
      ].join(' | '),
    );
  }
  for (const r of reports.slice(1)) {
    lines.push(
      [
        `p99 ${r.size.toLocaleString('en')}/${base.size.toLocaleString('en')}`,
        '',
        '',
        '',
        ...OPS.map((op) => `${(r.ops[op].p99 / Math.max(base.ops[op].p99, 0.1)).toFixed(2)}x`),
      ].join(' | '),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.mkdir(path.dirname(RESULTS), { recursive: true });
  await fs.writeFile(
    RESULTS,
    `${JSON.stringify({ startedAt: new Date().toISOString(), database: db.engine, samples: s.samples, reports }, null, 2)}\n`,
  );
  process.stdout.write(`written: ${path.relative(process.cwd(), RESULTS)}\n`);
}

await runBench(main);
