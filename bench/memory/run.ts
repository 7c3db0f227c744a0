/**
 * Memory under large mail: the bot in a process of its own receives BENCH_MESSAGES messages of
 * about BENCH_MESSAGE_BYTES at once over SMTP, plus a trickle of small mail, and processes them;
 * its RSS is read from /proc before (idle) and during (peak). With BENCH_BASELINE=<git ref> the
 * same run first measures that commit, so old and new are compared under the same conditions.
 * See bench/README.md.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import nodemailer from 'nodemailer';
import { createLogger } from '../../src/logger.js';
import { databaseUri, startBenchDatabase } from '../ack/database.js';
import { numberFromEnv, runBench, type Cleanups } from '../common/run.js';
import { checkoutOf, labelOf } from './baseline.js';
import { buildBot, rssOf, startBot } from './bot-process.js';
import { largeMessages, smallMessage } from './messages.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, '..', '..');
const RESULTS = path.join(ROOT, 'bench', 'results', 'memory.json');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const FROM = 'bench@customer.test';
const TO = 'support@example.com';
const RSS_INTERVAL_MS = 20;
const GOAL_BYTES = 600e6;

function settings() {
  const messages = numberFromEnv(
    'BENCH_MESSAGES',
    16,
    (n) => Number.isInteger(n) && n >= 1 && n <= 256,
    'a whole number from 1 to 256',
  );
  const messageBytes = numberFromEnv(
    'BENCH_MESSAGE_BYTES',
    24_000_000,
    (n) => Number.isInteger(n) && n >= 10_000,
    'a whole number of bytes, 10000 or more',
  );
  const small = numberFromEnv('BENCH_SMALL', 8, (n) => Number.isInteger(n) && n >= 0, 'a whole number, 0 or more');
  const idleSeconds = numberFromEnv('BENCH_IDLE_SECONDS', 10, (n) => n > 0, 'a number of seconds above 0');
  const timeoutSeconds = numberFromEnv('BENCH_TIMEOUT_SECONDS', 600, (n) => n > 0, 'a number of seconds above 0');
  const baseline = process.env.BENCH_BASELINE?.trim() || undefined;
  return { messages, messageBytes, small, idleSeconds, timeoutSeconds, baseline };
}
type Settings = ReturnType<typeof settings>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = (bytes: number) => bytes / 2 ** 20;

interface Sent {
  accepted: number;
  rejected: Record<string, number>;
  /** Date.now() of each accepted message's send, by Message-ID. */
  sentAt: Map<string, number>;
}

async function send(port: number, raws: { id: string; raw: Buffer }[], sent: Sent): Promise<void> {
  await Promise.all(
    raws.map(async ({ id, raw }) => {
      // One connection per message, as separate senders would open.
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port,
        secure: false,
        ignoreTLS: true,
        socketTimeout: 600_000,
      });
      const at = Date.now();
      try {
        await transport.sendMail({ envelope: { from: FROM, to: [TO] }, raw });
        sent.accepted += 1;
        sent.sentAt.set(id, at);
      } catch (err) {
        const e = err as { responseCode?: number; code?: string };
        const key = e.responseCode ? String(e.responseCode) : (e.code ?? 'error');
        sent.rejected[key] = (sent.rejected[key] ?? 0) + 1;
      } finally {
        transport.close();
      }
    }),
  );
}

interface Row {
  messageId?: string;
  status: string;
  processedAt?: Date;
}

/** Waits until every accepted message has its row and none is still `received`. */
async function waitProcessed(
  uri: string,
  expected: number,
  timeoutMs: number,
): Promise<{ rows: Row[]; timedOut: boolean }> {
  const client = await MongoClient.connect(uri);
  try {
    const collection = client.db().collection<Row>('inbound_mail');
    const deadline = Date.now() + timeoutMs;
    let lastProgress = Date.now();
    for (;;) {
      const rows = await collection.find({}, { projection: { messageId: 1, status: 1, processedAt: 1 } }).toArray();
      const done = rows.filter((r) => r.status !== 'received').length;
      if ((rows.length >= expected && done === rows.length) || Date.now() > deadline)
        return { rows, timedOut: done < expected };
      if (Date.now() - lastProgress > 5000) {
        lastProgress = Date.now();
        process.stderr.write(`bench: ${done}/${expected} processed\n`);
      }
      await sleep(250);
    }
  } finally {
    await client.close();
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function measure(target: { dir: string; label: string }, s: Settings, serverUri: string, cleanups: Cleanups) {
  process.stderr.write(`bench: building ${target.label}\n`);
  await buildBot(target.dir, TSC);
  const uri = databaseUri(serverUri, `bench_memory_${randomUUID().replace(/-/g, '').slice(0, 12)}`);
  const bot = await startBot({ dir: target.dir, mongodbUri: uri, env: { JOBS_PROCESS_EVERY_MS: '1000' } });
  const stopBot = async () => {
    await bot.stop();
    const client = await MongoClient.connect(uri);
    await client
      .db()
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
  };
  cleanups.push(stopBot);
  const rss = rssOf(bot.pid, RSS_INTERVAL_MS);
  try {
    process.stderr.write(`bench: ${target.label} started (pid ${bot.pid}); ${s.idleSeconds} s idle\n`);
    await sleep(s.idleSeconds * 1000);
    const idle = rss.resting(Math.round(2000 / RSS_INTERVAL_MS));

    const tag = randomUUID().slice(0, 8);
    const large = largeMessages({ totalBytes: s.messageBytes, domain: 'example.com', from: FROM, to: TO, tag });
    const raws = Array.from({ length: s.messages }, (_, i) => ({
      id: `${tag}.large.${i}@customer.test`,
      raw: large.message(i),
    }));
    const sent: Sent = { accepted: 0, rejected: {}, sentAt: new Map() };
    await rss.reset();
    process.stderr.write(
      `bench: sending ${s.messages} x ${(large.bytes / 1e6).toFixed(1)} MB and ${s.small} small messages\n`,
    );
    const started = Date.now();
    const bulk = send(bot.smtpPort, raws, sent);
    // Small mail keeps arriving while the large messages are received and processed.
    const trickle = (async () => {
      for (let i = 0; i < s.small; i += 1) {
        await sleep(500);
        await send(
          bot.smtpPort,
          [{ id: `${tag}.small.${i}@customer.test`, raw: smallMessage({ i, from: FROM, to: TO, tag }) }],
          sent,
        );
      }
    })();
    await Promise.all([bulk, trickle]);
    const acceptedMs = Date.now() - started;
    process.stderr.write(
      `bench: ${sent.accepted} accepted in ${(acceptedMs / 1000).toFixed(1)} s; waiting for processing\n`,
    );
    const { rows, timedOut } = await waitProcessed(uri, sent.accepted, s.timeoutSeconds * 1000);
    const peak = await rss.window();

    const processedAt = (id: string) => rows.find((r) => r.messageId === id)?.processedAt?.getTime();
    const largeDone = raws.map((r) => processedAt(r.id)).filter((t): t is number => t !== undefined);
    const smallLatency = [...sent.sentAt]
      .filter(([id]) => id.includes('.small.'))
      .map(([id, at]) => (processedAt(id) ?? Number.NaN) - at)
      .filter((ms) => Number.isFinite(ms));
    const statuses: Record<string, number> = {};
    for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    return {
      target: target.label,
      idleRssMiB: Number(MiB(idle).toFixed(1)),
      peakRssMiB: Number(MiB(Math.max(peak.kernelPeak, peak.sampledPeak)).toFixed(1)),
      sampledPeakRssMiB: Number(MiB(peak.sampledPeak).toFixed(1)),
      samples: peak.samples,
      accepted: sent.accepted,
      rejected: sent.rejected,
      acceptSeconds: Number((acceptedMs / 1000).toFixed(1)),
      allProcessedSeconds:
        largeDone.length === 0 ? Number.NaN : Number(((Math.max(...largeDone) - started) / 1000).toFixed(1)),
      largeProcessed: largeDone.length,
      smallP50Seconds: Number((percentile(smallLatency, 50) / 1000).toFixed(2)),
      smallMaxSeconds: Number((percentile(smallLatency, 100) / 1000).toFixed(2)),
      statuses,
      timedOut,
      logged: { ...bot.logged },
    };
  } finally {
    rss.stop();
    cleanups.splice(cleanups.indexOf(stopBot), 1);
    await stopBot();
  }
}

async function main(cleanups: Cleanups): Promise<void> {
  const s = settings();
  const db = await startBenchDatabase(createLogger('warn'));
  cleanups.push(db.stop);
  const targets: { dir: string; label: string }[] = [];
  if (s.baseline) {
    const baseline = await checkoutOf(ROOT, s.baseline);
    cleanups.push(baseline.remove);
    targets.push(baseline);
  }
  targets.push({ dir: ROOT, label: await labelOf(ROOT) });

  const results = [];
  for (const target of targets) results.push(await measure(target, s, db.uri, cleanups));

  const cpus = os.cpus();
  const cell = (v: string | number, w: number) => String(v).padStart(w);
  const width = Math.max(...results.map((r) => r.target.length), 6);
  const lines = [
    `Memory under large mail: ${s.messages} concurrent messages of ${(s.messageBytes / 1e6).toFixed(1)} MB over SMTP (one base64 attachment each), ${s.small} small messages during them`,
    `machine:  ${cpus.length} cpus (${cpus[0]?.model.trim() ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`,
    `database: ${db.engine} (another process, not counted); bot: node dist/src/main.js in its own process, RSS from /proc every ${RSS_INTERVAL_MS} ms and VmHWM`,
    '',
    `${'target'.padEnd(width)}  idle MiB  peak MiB  peak-idle  accepted  rejected  accept s  all processed s  small p50 s  small max s`,
    ...results.map((r) =>
      [
        r.target.padEnd(width),
        cell(r.idleRssMiB.toFixed(1), 8),
        cell(r.peakRssMiB.toFixed(1), 8),
        cell((r.peakRssMiB - r.idleRssMiB).toFixed(1), 9),
        cell(r.accepted, 8),
        cell(
          Object.values(r.rejected).reduce((a, b) => a + b, 0),
          8,
        ),
        cell(r.acceptSeconds.toFixed(1), 8),
        cell(Number.isFinite(r.allProcessedSeconds) ? r.allProcessedSeconds.toFixed(1) : '-', 15),
        cell(Number.isFinite(r.smallP50Seconds) ? r.smallP50Seconds.toFixed(2) : '-', 11),
        cell(Number.isFinite(r.smallMaxSeconds) ? r.smallMaxSeconds.toFixed(2) : '-', 11),
      ].join('  '),
    ),
    '',
    ...results.map(
      (r) =>
        `${r.target}: peak ${r.peakRssMiB.toFixed(1)} MiB = ${((r.peakRssMiB * 2 ** 20) / 1e6).toFixed(0)} MB, goal under ${GOAL_BYTES / 1e6} MB: ${r.peakRssMiB * 2 ** 20 < GOAL_BYTES ? 'met' : 'NOT met'}; outcomes ${JSON.stringify(r.statuses)}` +
        `${Object.keys(r.rejected).length > 0 ? `; rejected by code ${JSON.stringify(r.rejected)}` : ''}${r.timedOut ? '; TIMED OUT waiting for processing' : ''}` +
        `${
          Object.keys(r.logged).length > 0
            ? `; logged ${Object.entries(r.logged)
                .map(([k, n]) => `${k} x${n}`)
                .join(', ')}`
            : ''
        }`,
    ),
    `all processed s: from the first message sent to the last large one processed. small: from sending a small message to its row being processed.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.mkdir(path.dirname(RESULTS), { recursive: true });
  await fs.writeFile(
    RESULTS,
    `${JSON.stringify({ startedAt: new Date().toISOString(), settings: s, database: db.engine, results }, null, 2)}\n`,
  );
  process.stdout.write(`written: ${path.relative(process.cwd(), RESULTS)}\n`);
}

await runBench(main);
