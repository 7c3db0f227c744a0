/**
 * Email ingest over SMTP: the shared email corpus replayed to our bot (startApp, real database,
 * Slack off, acknowledgements to .eml files) and to a bare smtp-server + simpleParser sink, in one
 * run under the same conditions. See bench/README.md for what it prints. Settings:
 * BENCH_CONNECTIONS, BENCH_LOAD_THREAD (worker | main), BENCH_JOBS_PROCESS_EVERY_MS,
 * BENCH_PROCESS_TIMEOUT_SECONDS, BENCH_WARMUP (1 | 0), BENCH_CORPUS_DIR, MONGODB_URI, EMBEDDED_DB.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MAILBOXES } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startBenchDatabase } from '../ack/database.js';
import { listCorpus } from './corpus.js';
import { cpuMark, cpuSeconds, type CpuMark } from './cpu.js';
import { startIngestApp } from './our-app.js';
import { outcomes, STATUSES, waitProcessed } from './processing.js';
import {
  MiB,
  perSecond,
  phaseTable,
  ratio,
  round,
  throughputTable,
  type PhaseMemory,
  type TargetReport,
} from './report.js';
import { startRssSampler, type RssMark, type RssSampler } from './rss.js';
import { startSender, type LoadThread } from './sender.js';
import type { SendResult } from './send.js';
import { startSink } from './sink.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';
import { diskUse, treeMemory } from '../common/proc.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'ingest.json');
const ENVELOPE_FROM = 'corpus@customer.test';
const RSS_INTERVAL_MS = 50;
/** The bot's listener default (SMTP_INBOUND_MAX_BYTES); the sink takes the same. */
const MAX_BYTES = 25 * 1024 * 1024;

function settings() {
  const connections = numberFromEnv(
    'BENCH_CONNECTIONS',
    4,
    (n) => Number.isInteger(n) && n >= 1 && n <= 256,
    'a whole number from 1 to 256',
  );
  const processEveryMs = numberFromEnv(
    'BENCH_JOBS_PROCESS_EVERY_MS',
    100,
    (n) => Number.isInteger(n) && n >= 1,
    'a whole number of ms, 1 or more',
  );
  const processTimeoutSeconds = numberFromEnv(
    'BENCH_PROCESS_TIMEOUT_SECONDS',
    300,
    (n) => n > 0,
    'a number of seconds above 0',
  );
  const warmup = numberFromEnv('BENCH_WARMUP', 1, (n) => n === 0 || n === 1, '0 or 1');
  const thread = process.env.BENCH_LOAD_THREAD ?? 'worker';
  if (thread !== 'worker' && thread !== 'main')
    throw new Error(`BENCH_LOAD_THREAD must be worker or main (got "${thread}")`);
  const corpusDir = path.resolve(ROOT, process.env.BENCH_CORPUS_DIR ?? path.join('..', 'shared', 'corpus', 'email'));
  return {
    connections,
    processEveryMs,
    processTimeoutSeconds,
    warmup: warmup === 1,
    thread: thread as LoadThread,
    corpusDir,
  };
}

/** Log lines go to stderr, so stdout holds only the report; warnings and errors are tallied by event. */
function stderrTally() {
  const sink = {
    lines: 0,
    events: {} as Record<string, number>,
    write(line: string) {
      sink.lines += 1;
      try {
        const entry = JSON.parse(line) as { level?: number; event?: string; msg?: string };
        const level = (entry.level ?? 0) >= 50 ? 'error' : (entry.level ?? 0) >= 40 ? 'warn' : 'info';
        const key = `${level} ${entry.event ?? entry.msg ?? '?'}`;
        sink.events[key] = (sink.events[key] ?? 0) + 1;
      } catch {
        // not JSON: count the line only
      }
      process.stderr.write(line);
    },
    reset() {
      sink.lines = 0;
      sink.events = {};
    },
  };
  return sink;
}

/** A full garbage collection before each phase, so its RSS starts from live data only. */
function collector(): () => void {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return gc as () => void;
  } catch {
    // fall through
  }
  return () => undefined;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
  };
}

interface Mark {
  rss: RssMark;
  cpu: CpuMark;
}

function phaseMemory(phase: string, seconds: number, start: Mark, end: Mark, externalDb: boolean): PhaseMemory {
  const cpu = cpuSeconds(start.cpu, end.cpu);
  return {
    phase,
    seconds: round(seconds, 2),
    rssStartMiB: MiB(start.rss.now),
    rssPeakMiB: MiB(end.rss.peakSinceLast),
    deltaMiB: round(MiB(end.rss.peakSinceLast) - MiB(start.rss.now), 1),
    samples: end.rss.samples,
    cpuSeconds: round(cpu.self, 2),
    databaseCpuSeconds: externalDb ? Number.NaN : round(cpu.database, 2),
  };
}

function target(send: SendResult, endToEndMs: number): TargetReport {
  const acceptSeconds = send.acceptMs / 1000;
  const endToEndSeconds = endToEndMs / 1000;
  return {
    sent: send.sent,
    accepted: send.accepted,
    rejected: send.rejected,
    failures: send.failures,
    acceptSeconds: round(acceptSeconds, 3),
    acceptedPerSecond: perSecond(send.accepted, acceptSeconds),
    endToEndSeconds: round(endToEndSeconds, 3),
    endToEndPerSecond: perSecond(send.accepted, endToEndSeconds),
  };
}

async function countEml(dir: string): Promise<number> {
  try {
    return (await fs.readdir(dir)).filter((f) => f.endsWith('.eml')).length;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(cleanups: Cleanups): Promise<void> {
  const s = settings();
  const gc = collector();
  const logSink = stderrTally();
  const info = machine();

  const corpus = await listCorpus(s.corpusDir);
  const rss: RssSampler = await startRssSampler(RSS_INTERVAL_MS);
  cleanups.push(rss.stop);
  const mark = async (): Promise<Mark> => ({ rss: await rss.mark(), cpu: await cpuMark() });
  const db = await startBenchDatabase(createLogger('warn', logSink));
  cleanups.push(db.stop);
  const bot = await startIngestApp({
    serverUri: db.uri,
    processEveryMs: s.processEveryMs,
    log: createLogger('warn', logSink),
  });
  cleanups.push(bot.stop);
  const sink = await startSink({ maxBytes: MAX_BYTES });
  cleanups.push(sink.close);
  const sender = await startSender(
    s.thread,
    corpus.files.map((f) => f.path),
  );
  cleanups.push(sender.stop);

  const domain = bot.app.config.mail.domain;
  const recipients = MAILBOXES.map((m) => `${m}@${domain}`);
  const sendTo = (port: number) => sender.send({ port, connections: s.connections, from: ENVELOPE_FROM, recipients });
  process.stderr.write(
    `bench: ${corpus.files.length} messages (${corpus.empty.length} empty files skipped), ${s.connections} connections, database ${db.engine}\n`,
  );

  // The client, smtp-server and mailparser are shared by both targets: warm them up once, so
  // whichever target goes first does not pay for their JIT.
  if (s.warmup) {
    process.stderr.write('bench: warm-up replay to a throwaway sink\n');
    const warm = await startSink({ maxBytes: MAX_BYTES });
    try {
      await sendTo(warm.port);
    } finally {
      await warm.close();
    }
  }
  logSink.reset();

  // Phase 1: the sink. simpleParser finishes before each 250, so accepted is also processed.
  gc();
  await sleep(500);
  process.stderr.write('bench: sink\n');
  const sinkStart = await mark();
  const sinkSend = await sendTo(sink.port);
  const sinkEnd = await mark();
  const sinkStats = { ...sink.stats };

  // Phase 2: the bot, accept then process.
  gc();
  await sleep(500);
  process.stderr.write('bench: bot\n');
  const botStart = await mark();
  // A long accept phase says how far it got now and then (one count query every 10 s).
  const acceptProgress = setInterval(() => {
    void bot.app.db.models.InboundMail.countDocuments().then(
      (n) => process.stderr.write(`bench: bot stored ${n} rows so far\n`),
      () => undefined,
    );
  }, 10_000);
  const botSend = await sendTo(bot.app.smtpPort).finally(() => clearInterval(acceptProgress));
  const acceptEnd = await mark();
  const acceptedAtMs = Date.now();
  process.stderr.write(
    `bench: bot accepted ${botSend.accepted}/${botSend.sent} in ${(botSend.acceptMs / 1000).toFixed(2)} s; waiting for processing\n`,
  );
  const processed = await waitProcessed(bot.app, {
    timeoutMs: s.processTimeoutSeconds * 1000,
    progress: (remaining, rows) => process.stderr.write(`bench: bot processed ${rows - remaining}/${rows}\n`),
  });
  const processEnd = await mark();
  const waitedMs = Date.now() - acceptedAtMs;
  const enginePid = db.pid?.();
  const engine = {
    diskBytes: db.dbDir ? await diskUse(db.dbDir) : Number.NaN,
    memoryBytes: enginePid ? await treeMemory(enginePid) : Number.NaN,
  };
  const ackFiles = await countEml(bot.outboxDir);
  const backlog = await bot.app.outboxWorker.backlog();
  const result = await outcomes(bot.app);
  const appLog = { lines: logSink.lines, events: { ...logSink.events } };

  // End to end: from the first message handed to the pool to the last row processed.
  const botAcceptEndWall = botSend.startedWallMs + botSend.acceptMs;
  const botEndWall = Math.max(botAcceptEndWall, processed.lastProcessedWallMs ?? botAcceptEndWall);
  const botE2eMs = processed.timedOut ? Number.NaN : botEndWall - botSend.startedWallMs;
  const sinkReport = {
    ...target(sinkSend, sinkSend.acceptMs),
    parsed: sinkStats.parsed,
    parseErrors: sinkStats.parseErrors,
  };
  const botReport = {
    ...target(botSend, botE2eMs),
    rows: processed.rows,
    processed: processed.rows - processed.remaining,
    duplicates: botSend.accepted - processed.rows,
  };
  const ratios = {
    accepted: ratio(botReport.acceptedPerSecond, sinkReport.acceptedPerSecond),
    endToEnd: ratio(botReport.endToEndPerSecond, sinkReport.endToEndPerSecond),
  };

  const acceptSeconds = botSend.acceptMs / 1000;
  const wholeBotSeconds = Number.isFinite(botE2eMs) ? botE2eMs / 1000 : acceptSeconds + waitedMs / 1000;
  const wholeBotEnd: Mark = {
    cpu: processEnd.cpu,
    rss: {
      ...processEnd.rss,
      peakSinceLast: Math.max(acceptEnd.rss.peakSinceLast, processEnd.rss.peakSinceLast),
      samples: acceptEnd.rss.samples + processEnd.rss.samples,
    },
  };
  const externalDb = db.engine.startsWith('external');
  const memory: PhaseMemory[] = [
    phaseMemory('sink', sinkSend.elapsedMs / 1000, sinkStart, sinkEnd, externalDb),
    phaseMemory('bot: accept', acceptSeconds, botStart, acceptEnd, externalDb),
    phaseMemory('bot: process (after last 250)', wholeBotSeconds - acceptSeconds, acceptEnd, processEnd, externalDb),
    phaseMemory('bot: whole', wholeBotSeconds, botStart, wholeBotEnd, externalDb),
  ];
  const peakMiB = MiB(processEnd.rss.peakOverall);

  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const outcomeLine = [...STATUSES].map((st) => `${st} ${result.byStatus[st]}`).join(', ');
  const lines = [
    `Email ingest over SMTP: our bot vs a bare smtp-server + simpleParser sink, same process, same run`,
    `machine:     ${info.cpus} cpus (${info.cpuModel}), ${info.memoryGiB} GiB, ${info.platform}, node ${info.node}`,
    `database:    ${db.engine}`,
    `corpus:      ${corpus.files.length} messages, ${mb(corpus.bytes)} (${path.relative(ROOT, corpus.dir)}; ${corpus.empty.length} empty files skipped)`,
    `load:        ${s.connections} connections (nodemailer pool), envelope ${ENVELOPE_FROM} -> ${MAILBOXES.join('/')}@${domain} in turn, sender in ${s.thread === 'worker' ? 'a worker thread' : 'the main thread'}${s.warmup ? ', after one warm-up replay' : ''}`,
    `bot:         JOBS_PROCESS_EVERY_MS=${s.processEveryMs}, Slack off, acknowledgements to .eml files`,
    '',
    throughputTable(sinkReport, botReport, ratios),
    '',
    phaseTable(memory),
    `peak RSS over the run: ${peakMiB.toFixed(1)} MiB (this process: servers, sender, driver; the database server is another process, not counted)`,
    `cpu s: this process, all threads; db cpu s: the ${externalDb ? 'external database (not measured)' : `${db.engine} server process`}. Phase seconds are wall time.`,
    ...(externalDb
      ? []
      : [
          `database server after the corpus: disk ${mb(engine.diskBytes)} (its data directory), memory ${mb(engine.memoryBytes)} (PSS of its process tree)`,
        ]),
    '',
    `bot outcomes (${processed.rows} rows for ${botSend.accepted} accepted, ${botReport.duplicates} repeats of a stored Message-ID): ${outcomeLine}${result.byStatus.received > 0 ? `, still received ${result.byStatus.received}` : ''}`,
    `acknowledgements: ${ackFiles} .eml written by the time the last message was processed; outbox pending: email ${backlog.email ?? 0}, slack ${backlog.slack ?? 0} (Slack off: kept)`,
    '',
    `accepted/s: accepted messages / time to the last 250. e2e: to the last row processed (the sink parses before its 250, so its e2e is its accept time).`,
  ];
  if (result.reviewReasons.length > 0)
    lines.push(
      `note: review reasons: ${result.reviewReasons
        .slice(0, 6)
        .map((r) => `${r.reason} (${r.count})`)
        .join('; ')}`,
    );
  for (const [name, send] of [
    ['sink', sinkSend],
    ['bot', botSend],
  ] as const) {
    if (send.rejected > 0)
      lines.push(
        `note: ${name} rejected ${send.rejected}: ${JSON.stringify(send.failures)}; first: ${send.samples
          .slice(0, 3)
          .map((x) => `${corpus.files[x.index]?.rel}: ${x.error}`)
          .join(' | ')}`,
      );
  }
  if (sinkStats.parseErrors > 0)
    lines.push(`note: simpleParser threw on ${sinkStats.parseErrors} messages at the sink (answered 250 anyway)`);
  if (sinkStats.parsed + sinkStats.parseErrors !== sinkSend.accepted)
    lines.push(
      `note: the sink saw ${sinkStats.parsed + sinkStats.parseErrors} messages for ${sinkSend.accepted} accepted`,
    );
  if (processed.timedOut)
    lines.push(
      `note: gave up after ${s.processTimeoutSeconds} s with ${processed.remaining} rows still received; e2e not measured`,
    );
  const logged = Object.entries(appLog.events).sort((a, b) => b[1] - a[1]);
  if (logged.length > 0)
    lines.push(
      `note: the bot logged ${appLog.lines} lines at warn/error during the phases (on stderr): ${logged.map(([k, n]) => `${k} x${n}`).join(', ')}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);

  const json = {
    startedAt: new Date().toISOString(),
    machine: info,
    database: db.engine,
    engine,
    connections: s.connections,
    loadGenerator: s.thread,
    warmup: s.warmup,
    jobsProcessEveryMs: s.processEveryMs,
    corpus: {
      dir: path.relative(ROOT, corpus.dir),
      messages: corpus.files.length,
      bytes: corpus.bytes,
      emptySkipped: corpus.empty,
    },
    sink: { ...sinkReport, samples: sinkSend.samples },
    bot: {
      ...botReport,
      samples: botSend.samples,
      outcomes: result.byStatus,
      reviewReasons: result.reviewReasons,
      timedOut: processed.timedOut,
      acknowledgementFiles: ackFiles,
      outboxPending: backlog,
      appLog,
    },
    ratio: ratios,
    phases: { rssIntervalMs: RSS_INTERVAL_MS, list: memory, peakRssMiB: peakMiB },
  };
  await fs.mkdir(path.dirname(RESULTS), { recursive: true });
  await fs.writeFile(RESULTS, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`written: ${path.relative(process.cwd(), RESULTS)}\n`);
}

await runBench(main);
