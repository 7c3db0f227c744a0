/**
 * Slack ack latency for `/ticket` and `/account` over HTTP: our app (startApp, real database, fake Slack) beside a
 * bare Bolt app answering the same command, measured in one run under the same conditions.
 * See bench/README.md for what it prints. Settings: BENCH_SECONDS, BENCH_CONNECTIONS,
 * BENCH_WARMUP_SECONDS, BENCH_CASES (usage,mine,new,account), BENCH_LOAD_THREAD (worker | main), MONGODB_URI,
 * EMBEDDED_DB.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/logger.js';
import { startFakeSlack, type FakeSlack, type RecordedCall } from '../../test/support/fake-slack.js';
import { sign, slashCommand } from '../../test/support/slack-requests.js';
import { accountOverview } from '../../views/account-overview.js';
import { ticketList } from '../../views/ticket-list.js';
import { ticketNewModal } from '../../views/ticket-new-modal.js';
import { TICKET_USAGE } from '../../views/usage.js';
import { startBareBolt } from './bare-bolt.js';
import { startBenchDatabase } from './database.js';
import { abortLoad, runLoadIn, type LoadThread } from './load-runner.js';
import { BENCH_ACCOUNT, startOurApp } from './our-app.js';
import { ratio, summarize, table, type CaseReport, type FollowUps, type Summary } from './report.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';

const SIGNING_SECRET = 'bench-signing-secret';
const BOT_TOKEN = 'xoxb-bench-token';
const USER = 'U0BENCH';
const CHANNEL = 'C0BENCH';
const SEED_TICKETS = 5;
/** Slack signatures are good for five minutes; each run is signed once, at its start. */
const MAX_RUN_SECONDS = 240;
const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results', 'ack.json');

interface Case {
  id: string;
  label: string;
  command: '/ticket' | '/account';
  text: string;
  /** What the ack's body must contain ('' for an empty ack). */
  expectBody: string;
  /** The Slack call each ack promises, made after the ack. */
  followUp?: 'response_url' | 'views.open';
}

const CASES: Case[] = [
  { id: 'usage', label: 'a  bogus words', command: '/ticket', text: 'bogus words', expectBody: 'Usage:' },
  { id: 'mine', label: 'b  mine', command: '/ticket', text: 'mine', expectBody: '', followUp: 'response_url' },
  { id: 'new', label: 'c  new', command: '/ticket', text: 'new', expectBody: '', followUp: 'views.open' },
  {
    id: 'account',
    label: 'd  /account',
    command: '/account',
    text: BENCH_ACCOUNT,
    expectBody: '',
    followUp: 'response_url',
  },
];

function settings() {
  const seconds = numberFromEnv('BENCH_SECONDS', 10, (n) => n > 0, 'a number of seconds above 0');
  const warmupSeconds = numberFromEnv('BENCH_WARMUP_SECONDS', 2, (n) => n >= 0, 'a number of seconds, 0 or more');
  const connections = numberFromEnv(
    'BENCH_CONNECTIONS',
    16,
    (n) => Number.isInteger(n) && n >= 1 && n <= 1024,
    'a whole number from 1 to 1024',
  );
  const thread = process.env.BENCH_LOAD_THREAD ?? 'worker';
  if (thread !== 'worker' && thread !== 'main')
    throw new Error(`BENCH_LOAD_THREAD must be worker or main (got "${thread}")`);
  const ids = (process.env.BENCH_CASES ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !CASES.some((c) => c.id === id));
  if (unknown.length > 0)
    throw new Error(`BENCH_CASES: unknown case ${unknown.join(', ')} (cases: ${CASES.map((c) => c.id).join(', ')})`);
  const cases = ids.length > 0 ? CASES.filter((c) => ids.includes(c.id)) : CASES;
  if (seconds + warmupSeconds > MAX_RUN_SECONDS)
    throw new Error(
      `BENCH_SECONDS + BENCH_WARMUP_SECONDS must stay within ${MAX_RUN_SECONDS} s: a signature is valid for five minutes`,
    );
  return { seconds, warmupSeconds, connections, cases, thread: thread as LoadThread, drainTimeoutMs: 60_000 };
}
type Settings = ReturnType<typeof settings>;

/** Log lines go to stderr, so stdout holds only the report; the count shows up in it. */
function stderrCounting() {
  const sink = {
    lines: 0,
    write(line: string) {
      sink.lines += 1;
      process.stderr.write(line);
    },
  };
  return sink;
}

function followUpCalls(slack: FakeSlack, c: Case, tag: string): RecordedCall[] {
  if (c.followUp === 'response_url')
    return slack.calls.filter((call) => call.method === 'response_url' && call.responseUrlId === tag);
  return slack.calls.filter((call) => call.method === 'views.open' && call.args.trigger_id === `bench-${tag}`);
}

/** Waits for the Slack calls the acks promised, so one run's backlog does not load the next. */
async function drain(slack: FakeSlack, c: Case, tag: string, expected: number, timeoutMs: number): Promise<FollowUps> {
  const started = Date.now();
  for (;;) {
    const calls = followUpCalls(slack, c, tag);
    const done = calls.filter((call) => call.ok).length;
    const failed = calls.length - done;
    if (calls.length >= expected || Date.now() - started > timeoutMs)
      return { expected, done, failed, drainMs: Date.now() - started };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function measure(
  s: Settings,
  slack: FakeSlack,
  c: Case,
  app: 'ours' | 'bare',
  eventsUrl: string,
): Promise<Summary> {
  slack.reset();
  const tag = `${app}-${c.id}`;
  const req = slashCommand({
    command: c.command,
    text: c.text,
    userId: USER,
    channelId: CHANNEL,
    responseUrl: slack.responseUrl(tag),
    triggerId: `bench-${tag}`,
  });
  const result = await runLoadIn(s.thread, {
    url: eventsUrl,
    body: req.body,
    headers: { 'content-type': req.contentType, ...sign(req.body, SIGNING_SECRET) },
    connections: s.connections,
    warmupMs: s.warmupSeconds * 1000,
    durationMs: s.seconds * 1000,
    expectBody: c.expectBody,
  });
  const followUps = c.followUp ? await drain(slack, c, tag, result.acked, s.drainTimeoutMs) : undefined;
  return summarize(result, followUps);
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

async function main(cleanups: Cleanups): Promise<void> {
  const s = settings();
  const logSink = stderrCounting();
  const db = await startBenchDatabase(createLogger('warn', logSink));
  cleanups.push(db.stop);
  const slack = await startFakeSlack();
  cleanups.push(() => slack.close());
  const ours = await startOurApp({
    serverUri: db.uri,
    slack,
    signingSecret: SIGNING_SECRET,
    token: BOT_TOKEN,
    userId: USER,
    seedTickets: SEED_TICKETS,
    log: createLogger('error', logSink),
  });
  cleanups.push(ours.stop);
  const bare = await startBareBolt({
    signingSecret: SIGNING_SECRET,
    token: BOT_TOKEN,
    slackApiUrl: slack.apiUrl,
    usage: TICKET_USAGE,
    modal: ticketNewModal({ privateMetadata: JSON.stringify({ channel: CHANNEL }) }),
    list: ticketList(ours.tickets, 'Your tickets'),
    account: accountOverview(await ours.app.services.accounts.overview(BENCH_ACCOUNT, USER)),
  });
  cleanups.push(bare.stop);
  const logLinesBeforeLoad = logSink.lines;

  const info = machine();
  const runs = s.cases.length * 2;
  process.stderr.write(`bench: ${runs} runs of ${s.warmupSeconds} s warm-up + ${s.seconds} s, database ${db.engine}\n`);
  const reports: CaseReport[] = [];
  for (const [i, c] of s.cases.entries()) {
    // Alternate who goes first, so neither app always runs on the warmer (or more tired) process.
    const order = i % 2 === 0 ? (['ours', 'bare'] as const) : (['bare', 'ours'] as const);
    const summaries: Partial<Record<'ours' | 'bare', Summary>> = {};
    for (const app of order) {
      process.stderr.write(`bench: ${c.label.replace(/\s+/g, ' ')} / ${app}\n`);
      summaries[app] = await measure(s, slack, c, app, app === 'ours' ? ours.eventsUrl : bare.eventsUrl);
    }
    const oursSummary = summaries.ours!;
    const bareSummary = summaries.bare!;
    reports.push({
      id: c.id,
      label: c.label,
      text: c.text,
      ours: oursSummary,
      bare: bareSummary,
      ratio: ratio(oursSummary, bareSummary),
    });
  }
  const appLogLines = logSink.lines - logLinesBeforeLoad;

  const lines = [
    `Slack ack latency, /ticket and /account over HTTP: our app vs bare Bolt, same process, same run`,
    `machine:     ${info.cpus} cpus (${info.cpuModel}), ${info.memoryGiB} GiB, ${info.platform}, node ${info.node}`,
    `database:    ${db.engine}`,
    `load:        ${s.connections} connections, closed loop, ${s.seconds} s measured per run after ${s.warmupSeconds} s warm-up, generator in ${s.thread === 'worker' ? 'a worker thread' : 'the main thread'}`,
    '',
    table(reports),
    '',
    `latency: write to response end, 200s only; errors: non-200s, socket errors and acks with the wrong body.`,
    `follow-ups: Slack calls made after the ack (response_url post, views.open) / acks sent, and how long after the load they finished.`,
  ];
  for (const r of reports) {
    for (const [app, sum] of [
      ['ours', r.ours],
      ['bare', r.bare],
    ] as const) {
      if (sum.errors > 0) lines.push(`note: ${r.label.trim()} / ${app}: failures ${JSON.stringify(sum.failures)}`);
      if (sum.unexpectedBodies > 0)
        lines.push(`note: ${r.label.trim()} / ${app}: ${sum.unexpectedBodies} acks with an unexpected body`);
    }
  }
  if (appLogLines > 0)
    lines.push(`note: the apps logged ${appLogLines} lines at error level during the load (on stderr)`);
  process.stdout.write(`${lines.join('\n')}\n`);

  const json = {
    startedAt: new Date().toISOString(),
    machine: info,
    database: db.engine,
    connections: s.connections,
    secondsPerRun: s.seconds,
    warmupSeconds: s.warmupSeconds,
    loadGenerator: s.thread,
    appErrorLogLines: appLogLines,
    cases: reports,
  };
  await fs.mkdir(path.dirname(RESULTS), { recursive: true });
  await fs.writeFile(RESULTS, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`written: ${path.relative(process.cwd(), RESULTS)}\n`);
}

await runBench(main, { onInterrupt: abortLoad });
