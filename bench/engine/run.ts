/**
 * npm run bench:engine: the embedded engines side by side, in one run. For each engine (FerretDB
 * on PostgreSQL, FerretDB on SQLite) a collection like the bot's tickets (unique `number`, an
 * indexed `accountId`) grows to each size in BENCH_SIZES; at each size it times find and update
 * by `_id` and by the indexed field, BENCH_SAMPLES times each on random documents. Prints
 * medians and p90 in ms, the insert rate, the engine's memory (launcher and postgres, PSS) and
 * its disk use. Settings: BENCH_SIZES (default 2000,50000), BENCH_SAMPLES (20), BENCH_ENGINES
 * (ferretdb-postgres,ferretdb-sqlite).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient, type Collection } from 'mongodb';
import { embeddedChoice, type EmbeddedEngine } from '../../src/config.js';
import { startEmbedded } from '../../src/db/embedded.js';
import { createLogger } from '../../src/logger.js';
import { runBench, numberFromEnv } from '../common/run.js';
import { diskUse, treeMemory } from '../common/proc.js';

const SIZES = (process.env.BENCH_SIZES ?? '2000,50000').split(',').map((s) => Number(s.trim()));
const SAMPLES = numberFromEnv('BENCH_SAMPLES', 20, (n) => Number.isInteger(n) && n > 0, 'a positive integer');
const ENGINES = (process.env.BENCH_ENGINES ?? 'ferretdb-postgres,ferretdb-sqlite').split(',').map((e) => {
  const engine = embeddedChoice(e.trim());
  if (!engine || engine === 'auto' || engine === 'mongodb')
    throw new Error(`BENCH_ENGINES: ${e} is not a FerretDB engine`);
  return engine;
});
if (SIZES.some((n, i) => !Number.isInteger(n) || n <= 0 || (i > 0 && n <= SIZES[i - 1]!)))
  throw new Error('BENCH_SIZES must be increasing positive integers');

const OPS = ['find _id', 'find indexed', 'update _id', 'update indexed'] as const;
type Op = (typeof OPS)[number];
interface Row {
  engine: EmbeddedEngine;
  docs: number;
  insertPerSec: number;
  ms: Record<Op, { p50: number; p90: number }>;
  memoryMiB: number;
  diskMiB: number;
}

const ACCOUNTS_PER_DOC = 10; // ten documents share an accountId, so "find indexed" returns ten
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

function doc(i: number) {
  return {
    _id: `AR-${1001 + i}`,
    number: 1001 + i,
    accountId: `ACC-${Math.floor(i / ACCOUNTS_PER_DOC)}`,
    status: 'open',
    title: `Ticket ${i}`,
    history: [{ at: new Date(), what: 'opened' }],
  };
}

async function grow(col: Collection, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let i = from; i < to; i += 1000) {
    await col.insertMany(Array.from({ length: Math.min(1000, to - i) }, (_, k) => doc(i + k)) as never[], {
      ordered: false,
    });
  }
  return (to - from) / ((performance.now() - started) / 1000);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function time(run: (i: number) => Promise<unknown>, docs: number): Promise<{ p50: number; p90: number }> {
  const ms: number[] = [];
  for (let s = 0; s < SAMPLES; s += 1) {
    const i = Math.floor(Math.random() * docs);
    const started = performance.now();
    await run(i);
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p90: quantile(ms, 0.9) };
}

async function measure(col: Collection, docs: number): Promise<Record<Op, { p50: number; p90: number }>> {
  const account = (i: number) => `ACC-${Math.floor(i / ACCOUNTS_PER_DOC)}`;
  return {
    'find _id': await time((i) => col.findOne({ _id: `AR-${1001 + i}` as never }), docs),
    'find indexed': await time((i) => col.find({ accountId: account(i) }).toArray(), docs),
    'update _id': await time(
      (i) => col.updateOne({ _id: `AR-${1001 + i}` as never }, { $set: { status: 'claimed' } }),
      docs,
    ),
    'update indexed': await time(
      (i) => col.updateOne({ accountId: account(i) }, { $set: { status: 'waiting' } }),
      docs,
    ),
  };
}

async function benchEngine(engine: EmbeddedEngine, rows: Row[]): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-engine-'));
  const server = await startEmbedded(dir, engine, createLogger('warn', process.stderr));
  const client = await MongoClient.connect(server.uri);
  try {
    const col = client.db('bench_engine').collection('tickets');
    await col.createIndex({ number: 1 }, { unique: true });
    await col.createIndex({ accountId: 1 });
    let docs = 0;
    for (const size of SIZES) {
      say(`${engine}: growing to ${size} documents`);
      const insertPerSec = await grow(col, docs, size);
      docs = size;
      say(`${engine}: timing at ${size}`);
      const ms = await measure(col, docs);
      const pid = server.pid?.();
      rows.push({
        engine,
        docs,
        insertPerSec,
        ms,
        memoryMiB: pid ? (await treeMemory(pid)) / 2 ** 20 : Number.NaN,
        diskMiB: (await diskUse(path.join(dir, 'db'))) / 2 ** 20,
      });
    }
  } finally {
    await client.close();
    await server.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function report(rows: Row[]): string {
  const fmt = (n: number) => (Number.isNaN(n) ? '-' : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
  const header = ['engine', 'docs', 'insert/s', ...OPS.map((o) => `${o} p50/p90 ms`), 'memory MiB', 'disk MiB'];
  const lines = rows.map((r) => [
    r.engine,
    String(r.docs),
    fmt(r.insertPerSec),
    ...OPS.map((o) => `${fmt(r.ms[o].p50)} / ${fmt(r.ms[o].p90)}`),
    fmt(r.memoryMiB),
    fmt(r.diskMiB),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const pad = (cells: string[]) =>
    cells.map((c, i) => (i < 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [
    `bench:engine  samples=${SAMPLES}  node=${process.version}  cpus=${os.cpus().length}`,
    pad(header),
    ...lines.map(pad),
    'memory: the engine process tree (launcher, postgres and its workers), PSS; disk: DATA_DIR/db.',
  ].join('\n');
}

await runBench(async () => {
  const rows: Row[] = [];
  for (const engine of ENGINES) await benchEngine(engine, rows);
  const text = report(rows);
  process.stdout.write(`${text}\n`);
  await fs.mkdir('bench/results', { recursive: true });
  await fs.writeFile('bench/results/engine.json', JSON.stringify({ samples: SAMPLES, rows }, null, 2));
});
