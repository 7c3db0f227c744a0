/** Turns load results into the numbers the bench prints and saves. */
import type { LoadResult } from './load.js';

export interface FollowUps {
  /** Slack calls the acks promised (one per 200, warm-up included). */
  expected: number;
  /** Calls the fake Slack answered with ok. */
  done: number;
  /** Calls the fake Slack answered with an error. */
  failed: number;
  /** From the end of the load until the last expected call arrived (or the wait gave up). */
  drainMs: number;
}

export interface Summary {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  unexpectedBodies: number;
  failures: Record<string, number>;
  followUps?: FollowUps;
}

export interface CaseReport {
  id: string;
  label: string;
  text: string;
  ours: Summary;
  bare: Summary;
  /** ours / bare. */
  ratio: { p99: number; throughput: number };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(result: LoadResult, followUps?: FollowUps): Summary {
  const sorted = Float64Array.from(result.latenciesMs).sort();
  const round = (n: number, digits: number) => Number(n.toFixed(digits));
  return {
    requests: sorted.length,
    requestsPerSecond: round(result.elapsedMs > 0 ? (sorted.length * 1000) / result.elapsedMs : 0, 1),
    p50Ms: round(percentile(sorted, 0.5), 3),
    p90Ms: round(percentile(sorted, 0.9), 3),
    p99Ms: round(percentile(sorted, 0.99), 3),
    maxMs: round(sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN, 3),
    errors: result.errors,
    unexpectedBodies: result.unexpectedBodies,
    failures: result.failures,
    ...(followUps ? { followUps } : {}),
  };
}

export function ratio(ours: Summary, bare: Summary): CaseReport['ratio'] {
  const r = (a: number, b: number) => (b > 0 ? Number((a / b).toFixed(2)) : Number.NaN);
  return { p99: r(ours.p99Ms, bare.p99Ms), throughput: r(ours.requestsPerSecond, bare.requestsPerSecond) };
}

function followUpCell(f: FollowUps | undefined): string {
  if (!f) return '-';
  const failed = f.failed > 0 ? ` ${f.failed} failed` : '';
  return `${f.done}/${f.expected}${failed} in +${(f.drainMs / 1000).toFixed(1)} s`;
}

export function table(cases: CaseReport[]): string {
  const header = ['case', 'app', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'errors', 'follow-ups'];
  const rows: string[][] = [];
  for (const c of cases) {
    for (const [app, s] of [
      ['ours', c.ours],
      ['bare', c.bare],
    ] as const) {
      rows.push([
        app === 'ours' ? c.label : '',
        app,
        s.requestsPerSecond.toFixed(1),
        s.p50Ms.toFixed(2),
        s.p90Ms.toFixed(2),
        s.p99Ms.toFixed(2),
        s.maxMs.toFixed(2),
        String(s.errors + s.unexpectedBodies),
        followUpCell(s.followUps),
      ]);
    }
    rows.push(['', 'ours/bare', `${c.ratio.throughput.toFixed(2)}x`, '', '', `${c.ratio.p99.toFixed(2)}x`, '', '', '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const left = new Set([0, 1, 8]);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (left.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
