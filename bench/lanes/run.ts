/**
 * Issue 9, items 9 and 5, before and after in one run (see bench/README.md, `bench:lanes`).
 *
 * Lanes: while 1,000 generated emails are replayed over SMTP, a `/ticket new` and a staff Reply are
 * made every few seconds; their latency (submission to card posted, to email at the relay) is
 * printed beside the same probes with nothing else running, for the app with lanes and for the
 * app with the one shared queue it had before.
 *
 * Duplicates: Slack answers posts after 12 s for a minute (the client gives up at 10 s) while 10
 * emails arrive; the top-level posts Slack ends up with, with and without the look for the
 * earlier post.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import type { StartOptions } from '../../src/app.js';
import { MAILBOXES } from '../../src/config.js';
import { SLACK_CALL_TIMEOUT_MS } from '../../src/jobs/delivery-timing.js';
import { createLogger } from '../../src/logger.js';
import { startBenchDatabase } from '../ack/database.js';
import { startSender, type Sender } from '../ingest/sender.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';
import { mailProcessed, outboxDrained, startBot } from './bot.js';
import { writeMails } from './mails.js';
import { createProber, latencyStats, type LatencyStats, type ProbeResult } from './probes.js';
import { startRelay } from './relay.js';
import { slowSlackRun, type SlowSlackResult } from './slow-slack.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, '..', 'results', 'lanes.json');
const DOMAIN = 'example.com';
const GOAL_P99_MS = 5000;

function settings() {
  const sections = (process.env.BENCH_SECTIONS ?? 'duplicates,lanes').split(',').map((s) => s.trim());
  for (const s of sections)
    if (s !== 'duplicates' && s !== 'lanes')
      throw new Error(`BENCH_SECTIONS: unknown section "${s}" (duplicates, lanes)`);
  return {
    sections,
    emails: numberFromEnv('BENCH_EMAILS', 1000, (n) => Number.isInteger(n) && n >= 1, 'a whole number, 1 or more'),
    connections: numberFromEnv(
      'BENCH_CONNECTIONS',
      4,
      (n) => Number.isInteger(n) && n >= 1 && n <= 64,
      'a whole number from 1 to 64',
    ),
    probeEveryMs: numberFromEnv('BENCH_PROBE_EVERY_MS', 5000, (n) => n >= 100, 'at least 100 ms'),
    baselineProbes: numberFromEnv(
      'BENCH_BASELINE_PROBES',
      20,
      (n) => Number.isInteger(n) && n >= 1,
      'a whole number, 1 or more',
    ),
    replyTickets: numberFromEnv(
      'BENCH_REPLY_TICKETS',
      20,
      (n) => Number.isInteger(n) && n >= 1,
      'a whole number, 1 or more',
    ),
    modes: (process.env.BENCH_LANE_MODES ?? 'after,before').split(',').map((m) => m.trim()),
    processEveryMs: numberFromEnv(
      'BENCH_JOBS_PROCESS_EVERY_MS',
      1000,
      (n) => Number.isInteger(n) && n >= 1,
      'a whole number of ms',
    ),
    timeoutSeconds: numberFromEnv('BENCH_PROCESS_TIMEOUT_SECONDS', 900, (n) => n > 0, 'a number of seconds above 0'),
    slackLatencyMs: numberFromEnv('BENCH_SLACK_LATENCY_MS', 0, (n) => n >= 0, '0 or more ms'),
    slowEmails: numberFromEnv(
      'BENCH_SLOW_EMAILS',
      10,
      (n) => Number.isInteger(n) && n >= 1,
      'a whole number, 1 or more',
    ),
    slowSeconds: numberFromEnv('BENCH_SLOW_SECONDS', 60, (n) => n > 0, 'a number of seconds above 0'),
    answerAfterMs: numberFromEnv('BENCH_SLOW_ANSWER_MS', 12_000, (n) => n > 0, 'a number of ms above 0'),
  };
}
type Settings = ReturnType<typeof settings>;

const MODES: { label: string; legacy?: StartOptions['legacy'] }[] = [
  { label: 'after: lanes' },
  { label: 'before: one shared queue', legacy: { sharedQueue: true } },
];

interface LanesResult {
  mode: string;
  idle: { card: LatencyStats; reply: LatencyStats };
  replay: { card: LatencyStats; reply: LatencyStats };
  accepted: number;
  acceptSeconds: number;
  processedSeconds: number;
  drainedSeconds: number;
  timedOut: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** The email tickets staff answer in the Reply probes, in turn: customer emails, delivered before timing. */
async function ticketsToAnswer(
  count: number,
  port: number,
  app: Awaited<ReturnType<typeof startBot>>['app'],
): Promise<string[]> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  const subjects = Array.from({ length: count }, (_, i) => `Waiting for an answer ${i + 1}`);
  try {
    for (const [i, subject] of subjects.entries()) {
      await transport.sendMail({
        from: `waiting${i}@customer.test`,
        to: `support@${DOMAIN}`,
        subject,
        text: 'Hello, any news?',
        messageId: `<waiting.${i}.${Date.now()}@customer.test>`,
      });
    }
  } finally {
    transport.close();
  }
  for (;;) {
    const tickets = await app.db.models.Ticket.find({ title: { $in: subjects } })
      .select({ ref: 1 })
      .lean();
    if (tickets.length === count && (await outboxDrained(app, 30_000))) return tickets.map((t) => t.ref);
    await sleep(100);
  }
}

async function lanesRun(
  s: Settings,
  mode: (typeof MODES)[number],
  serverUri: string,
  sender: Sender,
  log: ReturnType<typeof createLogger>,
): Promise<LanesResult> {
  const relay = await startRelay();
  const bot = await startBot({
    name: 'lanes',
    serverUri,
    log,
    processEveryMs: s.processEveryMs,
    smtpUrl: relay.url,
    ...(mode.legacy ? { legacy: mode.legacy } : {}),
  });
  try {
    if (s.slackLatencyMs > 0)
      for (const m of ['chat.postMessage', 'chat.update']) bot.slack.setLatency(m, s.slackLatencyMs);
    const replyRefs = await ticketsToAnswer(s.replyTickets, bot.app.smtpPort, bot.app);
    const timeoutMs = s.timeoutSeconds * 1000;
    const tag = mode.legacy ? 'before' : 'after';

    say(`${mode.label}: ${s.baselineProbes} probes with nothing else running`);
    const idleProber = createProber({ bot, relay, replyRefs, tag: `${tag}-idle`, timeoutMs });
    const idle: ProbeResult[] = [];
    for (let i = 0; i < s.baselineProbes; i += 1) {
      idle.push(await idleProber.probe());
      await sleep(250);
    }
    if (!(await outboxDrained(bot.app, 60_000))) say('the outbox did not drain after the idle probes');

    say(
      `${mode.label}: replaying ${s.emails} emails over ${s.connections} connections, probing every ${s.probeEveryMs} ms`,
    );
    const prober = createProber({ bot, relay, replyRefs, tag: `${tag}-replay`, timeoutMs });
    const probes: Promise<ProbeResult>[] = [];
    let replaying = true;
    const tick = () => {
      if (replaying) probes.push(prober.probe());
    };
    const ticker = setInterval(tick, s.probeEveryMs);
    const started = Date.now();
    const sending = sender.send({
      port: bot.app.smtpPort,
      connections: s.connections,
      from: 'replay@customer.test',
      recipients: MAILBOXES.map((m) => `${m}@${DOMAIN}`),
    });
    await sleep(Math.min(500, s.probeEveryMs));
    tick();
    const sent = await sending;
    say(
      `${mode.label}: accepted ${sent.accepted}/${sent.sent} in ${(sent.acceptMs / 1000).toFixed(1)} s; waiting for processing`,
    );
    const progress = setInterval(
      () =>
        say(
          `${mode.label}: ${bot.app.lanes.mail.depth()} emails waiting in the mail lane, ${probes.length} probes so far`,
        ),
      10_000,
    );
    const processed = await mailProcessed(bot.app, timeoutMs).finally(() => clearInterval(progress));
    const processedSeconds = (Date.now() - started) / 1000;
    replaying = false;
    clearInterval(ticker);
    const drained = await outboxDrained(bot.app, timeoutMs);
    const drainedSeconds = (Date.now() - started) / 1000;
    const results = await Promise.all(probes);
    return {
      mode: mode.label,
      idle: { card: latencyStats(idle.map((r) => r.cardMs)), reply: latencyStats(idle.map((r) => r.replyMs)) },
      replay: { card: latencyStats(results.map((r) => r.cardMs)), reply: latencyStats(results.map((r) => r.replyMs)) },
      accepted: sent.accepted,
      acceptSeconds: Number((sent.acceptMs / 1000).toFixed(1)),
      processedSeconds: Number(processedSeconds.toFixed(1)),
      drainedSeconds: Number(drainedSeconds.toFixed(1)),
      timedOut: !processed || !drained,
    };
  } finally {
    await bot.stop();
    await relay.close();
  }
}

const secs = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '-');
const pad = (v: string | number, n: number) => String(v).padStart(n);

function lanesTable(rows: LanesResult[]): string[] {
  const head = `${'app'.padEnd(26)} ${'phase'.padEnd(8)} ${pad('probes', 6)} ${pad('card p50 s', 10)} ${pad('card p99 s', 10)} ${pad('card max s', 10)} ${pad('reply p50 s', 11)} ${pad('reply p99 s', 11)} ${pad('reply max s', 11)}  missing`;
  const line = (r: LanesResult, phase: 'idle' | 'replay') => {
    const { card, reply } = r[phase];
    return `${r.mode.padEnd(26)} ${phase.padEnd(8)} ${pad(card.n + card.missing, 6)} ${pad(secs(card.p50Ms), 10)} ${pad(secs(card.p99Ms), 10)} ${pad(secs(card.maxMs), 10)} ${pad(secs(reply.p50Ms), 11)} ${pad(secs(reply.p99Ms), 11)} ${pad(secs(reply.maxMs), 11)}  ${card.missing + reply.missing}`;
  };
  const out = [head];
  for (const r of rows) out.push(line(r, 'idle'), line(r, 'replay'));
  out.push('');
  for (const r of rows) {
    const met =
      r.replay.card.p99Ms < GOAL_P99_MS &&
      r.replay.reply.p99Ms < GOAL_P99_MS &&
      r.replay.card.missing + r.replay.reply.missing === 0;
    out.push(
      `${r.mode}: ${r.accepted} emails accepted in ${r.acceptSeconds} s, all processed ${r.processedSeconds} s and the outbox empty ${r.drainedSeconds} s after the first; p99 under ${GOAL_P99_MS / 1000} s during the replay: ${met ? 'yes' : 'no'}${r.timedOut ? ' (timed out)' : ''}`,
    );
  }
  return out;
}

function duplicatesTable(rows: SlowSlackResult[], s: Settings): string[] {
  const head = `${'behaviour'.padEnd(40)} ${pad('emails', 6)} ${pad('tickets', 7)} ${pad('top-level posts', 15)} ${pad('duplicates', 10)} ${pad('reached by update', 17)} ${pad('settled s', 9)}`;
  return [
    `Slack answers posts after ${s.answerAfterMs / 1000} s for the first ${s.slowSeconds} s (client timeout ${SLACK_CALL_TIMEOUT_MS / 1000} s); each ticket is claimed at once (a card update)`,
    head,
    ...rows.map(
      (r) =>
        `${r.behaviour.padEnd(40)} ${pad(r.emails, 6)} ${pad(r.tickets, 7)} ${pad(r.posts, 15)} ${pad(r.duplicates, 10)} ${pad(r.updated, 17)} ${pad(r.settled ? r.settledSeconds : `>${r.settledSeconds}`, 9)}`,
    ),
  ];
}

async function main(cleanups: Cleanups): Promise<void> {
  const s = settings();
  const log = createLogger('warn', { write: (line: string) => void process.stderr.write(line) });
  const db = await startBenchDatabase(log);
  cleanups.push(db.stop);
  const lines = [
    `Issue 9, items 9 and 5: before and after in one run`,
    `machine:  ${os.cpus().length} cpus (${os.cpus()[0]?.model.trim() ?? '?'}), node ${process.version}; database ${db.engine}; JOBS_PROCESS_EVERY_MS=${s.processEveryMs}`,
  ];
  const json: Record<string, unknown> = { startedAt: new Date().toISOString(), database: db.engine, settings: s };

  if (s.sections.includes('duplicates')) {
    const rows: SlowSlackResult[] = [];
    for (const [behaviour, legacy] of [
      ['before: posts again blindly', { blindRepeats: true }],
      ['after: looks for its earlier post first', undefined],
    ] as const) {
      say(`duplicates, ${behaviour}`);
      rows.push(
        await slowSlackRun({
          behaviour,
          ...(legacy ? { legacy } : {}),
          serverUri: db.uri,
          log,
          processEveryMs: s.processEveryMs,
          emails: s.slowEmails,
          answerAfterMs: s.answerAfterMs,
          slowForMs: s.slowSeconds * 1000,
          timeoutMs: s.timeoutSeconds * 1000,
        }),
      );
    }
    lines.push('', ...duplicatesTable(rows, s));
    json.duplicates = rows;
  }

  if (s.sections.includes('lanes')) {
    const mails = await writeMails(s.emails, DOMAIN);
    cleanups.push(mails.remove);
    const sender = await startSender('worker', mails.files);
    cleanups.push(sender.stop);
    const rows: LanesResult[] = [];
    for (const mode of MODES.filter((m) => s.modes.includes(m.legacy ? 'before' : 'after')))
      rows.push(await lanesRun(s, mode, db.uri, sender, log));
    lines.push(
      '',
      `Probes: /ticket new (submission to card posted) and a staff Reply (submission to email at the relay), every ${s.probeEveryMs} ms during a replay of ${s.emails} generated emails (${(mails.bytes / 2 ** 20).toFixed(1)} MiB, ${s.connections} SMTP connections, mailboxes in turn); idle: ${s.baselineProbes} probes with nothing else running, same app. Fake Slack latency ${s.slackLatencyMs} ms.`,
      ...lanesTable(rows),
    );
    json.lanes = rows;
  }

  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.mkdir(path.dirname(RESULTS), { recursive: true });
  await fs.writeFile(RESULTS, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`written: ${path.relative(process.cwd(), RESULTS)}\n`);
}

await runBench(main);
