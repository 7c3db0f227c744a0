/**
 * The customer's migration page under load: time to first byte of the page (and of its live-refresh
 * poll) for N concurrent customers, each on their own link, beside a static "hello" route on the
 * same server and under the same plugins (headers, CSRF cookie parsing, error pages), so the
 * difference is what the page itself costs. Also the page's weight (HTML + CSS + JS bytes) and
 * axe-core's violations in Debian's Chromium for each state a customer sees.
 * Settings: BENCH_SECONDS, BENCH_WARMUP_SECONDS, BENCH_CONNECTIONS, BENCH_ROUNDS, MONGODB_URI, EMBEDDED_DB.
 * See bench/README.md.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dayIn } from '../../src/domain/migration.js';
import { createLogger } from '../../src/logger.js';
import type { RunningApp } from '../../src/app.js';
import { axeViolations, hasChromium, launchChromium, type AxeViolation } from '../../test/support/browser.js';
import { startBenchDatabase } from '../ack/database.js';
import { startBenchApp } from '../common/app.js';
import { numberFromEnv, runBench } from '../common/run.js';
import { runGetLoadInWorker } from './load-runner.js';
import type { GetLoadResult } from './load.js';

const TZ = 'Europe/Berlin';
const SALES = 'U0BENCHSALES';
const BILLING = 'U0BENCHBILL';
const HELLO = '/migrate/hello';
const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results', 'page.json');

function settings() {
  return {
    seconds: numberFromEnv('BENCH_SECONDS', 10, (n) => n > 0, 'a number of seconds above 0'),
    warmupSeconds: numberFromEnv('BENCH_WARMUP_SECONDS', 2, (n) => n >= 0, 'a number of seconds, 0 or more'),
    connections: numberFromEnv(
      'BENCH_CONNECTIONS',
      20,
      (n) => Number.isInteger(n) && n >= 1 && n <= 500,
      'a whole number from 1 to 500',
    ),
    rounds: numberFromEnv(
      'BENCH_ROUNDS',
      5,
      (n) => Number.isInteger(n) && n >= 1 && n <= 50,
      'a whole number from 1 to 50',
    ),
  };
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;

function summarize(name: string, r: GetLoadResult) {
  const ttfb = Float64Array.from(r.ttfbMs).sort();
  const total = Float64Array.from(r.totalMs).sort();
  const errors = Object.values(r.failures).reduce((a, b) => a + b, 0);
  return {
    case: name,
    requests: ttfb.length,
    perSecond: Math.round((ttfb.length / r.elapsedMs) * 1000),
    ttfbP50: percentile(ttfb, 50),
    ttfbP99: percentile(ttfb, 99),
    ttfbMax: ttfb.length ? ttfb[ttfb.length - 1]! : NaN,
    totalP50: percentile(total, 50),
    totalP99: percentile(total, 99),
    bytesPerAnswer: ttfb.length ? Math.round(r.bodyBytes / ttfb.length) : 0,
    errors,
    failures: r.failures,
  };
}

function combine(parts: GetLoadResult[]): GetLoadResult {
  const failures: Record<string, number> = {};
  for (const p of parts) for (const [k, n] of Object.entries(p.failures)) failures[k] = (failures[k] ?? 0) + n;
  const cat = (pick: (p: GetLoadResult) => Float64Array) => Float64Array.from(parts.flatMap((p) => [...pick(p)]));
  return {
    ttfbMs: cat((p) => p.ttfbMs),
    totalMs: cat((p) => p.totalMs),
    elapsedMs: parts.reduce((n, p) => n + p.elapsedMs, 0),
    failures,
    bodyBytes: parts.reduce((n, p) => n + p.bodyBytes, 0),
  };
}

/** N customers with a scheduled migration and a billing summary with dues by card: the page's heaviest state before paying. */
async function seedCustomers(app: RunningApp, n: number, base: string): Promise<{ refs: string[]; links: string[] }> {
  const m = app.services.migrations;
  const start = dayIn(TZ, new Date(Date.now() + 20 * 86_400_000));
  const refs: string[] = [];
  const links: string[] = [];
  for (let i = 1; i <= n; i += 1) {
    const accountId = `BEN-PGE-${String(i).padStart(4, '0')}`;
    const { ticket } = await m.handOff({
      userId: SALES,
      viewId: `Vbench${i}`,
      customerName: `Bench Customer ${i}`,
      accountId,
      salespersonEmail: 'rep@sales.example.com',
      enterprisePlan: 'Enterprise 250k MAU',
      enterpriseStartDate: start,
      customerEmail: `buyer${i}@customer.example`,
    });
    await m.billingAction(ticket.ref, BILLING, 'confirm');
    await m.recordSummary({
      ref: ticket.ref,
      userId: BILLING,
      requestKey: `Vsum${i}`,
      outcome: 'dues',
      amountCents: 48_000,
      currency: 'EUR',
      method: 'card',
    });
    const fresh = (await app.db.models.Ticket.findById(ticket.ref).lean())!;
    const link = m.linkFor(fresh as never);
    if (!link) throw new Error('no link issued: is PUBLIC_URL set?');
    refs.push(ticket.ref);
    links.push(base + new URL(link).pathname);
  }
  return { refs, links };
}

/** HTML + the CSS and JS it links (same origin), raw and gzipped. */
async function pageWeight(link: string) {
  const htmlText = await (await fetch(link)).text();
  const origin = new URL(link).origin;
  const assets = [...htmlText.matchAll(/(?:href|src)="(\/migrate\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  const parts = [{ what: 'html', body: htmlText }];
  for (const a of assets)
    parts.push({ what: a.endsWith('.css') ? 'css' : 'js', body: await (await fetch(origin + a)).text() });
  const bytes = (what: string) =>
    parts.filter((p) => p.what === what).reduce((n, p) => n + Buffer.byteLength(p.body), 0);
  const gz = (what: string) => parts.filter((p) => p.what === what).reduce((n, p) => n + gzipSync(p.body).length, 0);
  return {
    html: bytes('html'),
    css: bytes('css'),
    js: bytes('js'),
    total: bytes('html') + bytes('css') + bytes('js'),
    gzipped: gz('html') + gz('css') + gz('js'),
  };
}

/** axe-core's violations for each state a customer sees that billing alone can bring about. */
async function accessibility(
  app: RunningApp,
  ref: string,
  link: string,
): Promise<{ state: string; violations: AxeViolation[] }[] | string> {
  if (!hasChromium()) return 'skipped: /usr/bin/chromium is not installed';
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const m = app.services.migrations;
    const out: { state: string; violations: AxeViolation[] }[] = [];
    const check = async (state: string) => {
      await page.goto(link);
      out.push({ state, violations: await axeViolations(page) });
    };
    await check('summary, dues by card');
    await m.recordPayment({ ref, userId: BILLING, requestKey: 'Vpayfail', status: 'failed', reason: 'Card declined' });
    await check('payment failed');
    await m.recordPayment({ ref, userId: BILLING, requestKey: 'Vpayok', status: 'succeeded' });
    await check('projects form');
    await m.confirmProjects({ ref, userId: BILLING, requestKey: 'Vproj', live: ['shop-prod'], test: ['shop-staging'] });
    await check('projects confirmed');
    await page.goto(link.replace(/\/migrate\/.*/, '/migrate/not-a-token'));
    out.push({ state: 'refused link', violations: await axeViolations(page) });
    return out;
  } finally {
    await browser.close();
  }
}

await runBench(async (cleanups) => {
  const s = settings();
  const log = createLogger('warn', { write: (line: string) => void process.stderr.write(line) });
  const db = await startBenchDatabase(log);
  cleanups.push(() => db.stop());
  const bench = await startBenchApp({
    name: 'page',
    serverUri: db.uri,
    log,
    env: {
      LOG_LEVEL: 'error',
      ROLE_SALES: SALES,
      ROLE_BILLING: BILLING,
      TZ_BILLING: TZ,
      // Links are read from the service and sent to the real port; nothing follows PUBLIC_URL itself.
      PUBLIC_URL: 'http://127.0.0.1:9',
      // Every customer comes from 127.0.0.1 here: the per-address limit would stop the bench, not a customer.
      WEB_RATE_LIMIT_PER_MINUTE: '100000000',
    },
    start: {
      webRoutes: (web) =>
        void web.get(HELLO, async (_req, reply) => reply.type('text/plain; charset=utf-8').send('hello')),
    },
  });
  cleanups.push(() => bench.stop());
  const origin = `http://127.0.0.1:${bench.app.port}`;
  process.stderr.write(`bench:page: seeding ${s.connections} customers\n`);
  const { refs, links } = await seedCustomers(bench.app, s.connections, origin);

  const plan = [
    { name: 'hello (static, same server)', urls: links.map(() => origin + HELLO) },
    { name: 'page /migrate/<token>', urls: links },
    { name: 'live-refresh poll /status', urls: links.map((l) => `${l}/status`) },
  ];
  // The machine is shared: the cases take turns in short rounds (each round in another order), so a
  // burst of someone else's work lands on all of them rather than on whichever ran at that moment.
  const merged = new Map<string, GetLoadResult[]>(plan.map((c) => [c.name, []]));
  for (let round = 0; round < s.rounds; round += 1) {
    for (let i = 0; i < plan.length; i += 1) {
      const c = plan[(i + round) % plan.length]!;
      process.stderr.write(`bench:page: round ${round + 1}/${s.rounds}, ${c.name}\n`);
      const warmupMs = (round === 0 ? s.warmupSeconds : Math.min(s.warmupSeconds, 0.5)) * 1000;
      merged
        .get(c.name)!
        .push(await runGetLoadInWorker({ urls: c.urls, warmupMs, durationMs: (s.seconds * 1000) / s.rounds }));
    }
  }
  const cases = plan.map((c) => summarize(c.name, combine(merged.get(c.name)!)));
  const weight = await pageWeight(links[0]!);
  const axe = await accessibility(bench.app, refs[0]!, links[0]!);

  const report = {
    at: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    engine: db.engine,
    connections: s.connections,
    seconds: s.seconds,
    rounds: s.rounds,
    cases,
    weight,
    axe,
  };
  const ms = (n: number) => n.toFixed(2).padStart(8);
  const lines = [
    `bench:page  ${report.machine.cpus} cpus, ${report.machine.memoryGiB} GiB, node ${report.machine.node}, db ${report.engine}, ${s.connections} concurrent customers, ${s.seconds} s per case in ${s.rounds} rounds`,
    '',
    'case                           req/s   TTFB p50   TTFB p99   TTFB max  total p99   bytes  errors',
    ...cases.map(
      (c) =>
        `${c.case.padEnd(29)} ${String(c.perSecond).padStart(6)} ${ms(c.ttfbP50)}ms ${ms(c.ttfbP99)}ms ${ms(c.ttfbMax)}ms ${ms(c.totalP99)}ms ${String(c.bytesPerAnswer).padStart(7)} ${String(c.errors).padStart(6)}`,
    ),
    '',
    `page weight (summary with dues): html ${weight.html} B + css ${weight.css} B + js ${weight.js} B = ${weight.total} B (${weight.gzipped} B gzipped)`,
    typeof axe === 'string'
      ? `axe-core: ${axe}`
      : `axe-core violations: ${axe.map((a) => `${a.state} ${a.violations.length}`).join(', ')}`,
    ...(typeof axe === 'string'
      ? []
      : axe.flatMap((a) =>
          a.violations.map((v) => `  ${a.state}: ${v.id} (${v.impact}) ${v.help} at ${v.targets.join(' ')}`),
        )),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await fs.mkdir(path.dirname(RESULTS), { recursive: true });
  await fs.writeFile(RESULTS, JSON.stringify(report, null, 2));
  const failed = cases.filter((c) => c.errors > 0);
  if (failed.length > 0)
    throw new Error(
      `answers other than 200: ${failed.map((c) => `${c.case} ${JSON.stringify(c.failures)}`).join('; ')}`,
    );
});
