/** The numbers the ingest bench prints and saves, and the tables that print them. */

export interface TargetReport {
  sent: number;
  accepted: number;
  rejected: number;
  /** Rejections by SMTP reply code (or client error code). */
  failures: Record<string, number>;
  /** First message handed to the pool to the last 250. */
  acceptSeconds: number;
  acceptedPerSecond: number;
  /** First message handed to the pool until every accepted message was processed. */
  endToEndSeconds: number;
  /** Accepted messages / endToEndSeconds. */
  endToEndPerSecond: number;
}

export interface PhaseMemory {
  phase: string;
  seconds: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  /** Peak during the phase minus RSS at its start. */
  deltaMiB: number;
  samples: number;
  /** CPU seconds used by this process (all threads) during the phase. */
  cpuSeconds: number;
  /** CPU seconds used by the database server (our child process); NaN when unknown. */
  databaseCpuSeconds: number;
}

export const MiB = (bytes: number) => Number((bytes / 2 ** 20).toFixed(1));
export const round = (n: number, digits: number) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : Number.NaN);
export const perSecond = (count: number, seconds: number) => (seconds > 0 ? round(count / seconds, 1) : Number.NaN);
export const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? round(a / b, 2) : Number.NaN);

/** Columns padded to their widest cell; `left` columns are left-aligned, the rest right-aligned. */
export function formatTable(header: string[], rows: string[][], left: number[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const leftSet = new Set(left);
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (leftSet.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const num = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const times = (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : '-');

export function throughputTable(
  sink: TargetReport & { parsed: number },
  bot: TargetReport & { rows: number; processed: number },
  r: { accepted: number; endToEnd: number },
): string {
  const header = [
    'target',
    'sent',
    'accepted',
    'rejected',
    'accept s',
    'accepted/s',
    'rows',
    'processed',
    'e2e s',
    'e2e msg/s',
  ];
  const rows = [
    [
      'sink',
      String(sink.sent),
      String(sink.accepted),
      String(sink.rejected),
      num(sink.acceptSeconds, 2),
      num(sink.acceptedPerSecond, 1),
      '-',
      String(sink.parsed),
      num(sink.endToEndSeconds, 2),
      num(sink.endToEndPerSecond, 1),
    ],
    [
      'bot',
      String(bot.sent),
      String(bot.accepted),
      String(bot.rejected),
      num(bot.acceptSeconds, 2),
      num(bot.acceptedPerSecond, 1),
      String(bot.rows),
      String(bot.processed),
      num(bot.endToEndSeconds, 2),
      num(bot.endToEndPerSecond, 1),
    ],
    ['bot/sink', '', '', '', '', times(r.accepted), '', '', '', times(r.endToEnd)],
  ];
  return formatTable(header, rows, [0]);
}

export function phaseTable(phases: PhaseMemory[]): string {
  const header = ['phase', 'seconds', 'rss start MiB', 'peak MiB', 'delta MiB', 'cpu s', 'db cpu s'];
  const rows = phases.map((p) => [
    p.phase,
    num(p.seconds, 2),
    num(p.rssStartMiB, 1),
    num(p.rssPeakMiB, 1),
    `${p.deltaMiB >= 0 ? '+' : ''}${num(p.deltaMiB, 1)}`,
    num(p.cpuSeconds, 1),
    num(p.databaseCpuSeconds, 1),
  ]);
  return formatTable(header, rows, [0]);
}
