/**
 * The team's numbers, computed in the app: tickets are read in bounded pages (by AR number, the
 * unique index) and summed here, because FerretDB lacks most of the aggregation pipeline
 * (ARCHITECTURE.md). Also App Home's queues and the overdue gauge.
 */
import type { Team } from '../config.js';
import type { Models } from '../db/models.js';
import { dayIn, timeOfDay } from '../domain/dates.js';
import { currentTarget, metInTime, type SlaState } from '../domain/sla.js';
import type { Ticket } from './tickets.js';

const PAGE = 500;
/** A bound on one report's reading: 30 days of a busy helpdesk, far from the process's memory limits. */
const MAX_TICKETS = 100_000;

/** Open tickets past a running target (the gauge `tickets_sla_overdue`). */
export async function countOverdue(models: Models, now: Date): Promise<number> {
  return models.Ticket.countDocuments({
    status: { $ne: 'closed' },
    'sla.pausedAt': null,
    $or: [
      { 'sla.firstResponse.metAt': null, 'sla.firstResponse.dueAt': { $lt: now } },
      { 'sla.resolution.metAt': null, 'sla.resolution.dueAt': { $lt: now } },
    ],
  });
}

/** Every ticket opened since `since` (optionally of some teams), a page at a time, oldest first. */
export async function* ticketsSince(models: Models, since: Date, teams?: Team[]): AsyncGenerator<Ticket> {
  let after = 0;
  for (let read = 0; read < MAX_TICKETS;) {
    const page = (await models.Ticket.find({
      number: { $gt: after },
      createdAt: { $gte: since },
      ...(teams ? { team: { $in: teams } } : {}),
    })
      .sort({ number: 1 })
      .limit(PAGE)
      .select({ history: 0, description: 0 })
      .lean()) as Ticket[];
    for (const t of page) yield t;
    read += page.length;
    if (page.length < PAGE) return;
    after = page.at(-1)!.number;
  }
}

/** `yes` when every target was met in time, `no` when one was missed, `open` while undecided. */
export function slaOutcome(sla: SlaState | null | undefined, now: Date): 'yes' | 'no' | 'open' | 'none' {
  if (!sla) return 'none';
  const results = [metInTime(sla.firstResponse, now), metInTime(sla.resolution, now)];
  if (results.includes(false)) return 'no';
  return results.every((r) => r === true) ? 'yes' : 'open';
}

export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export interface TeamStats {
  since: Date;
  teams: Team[] | 'all';
  opened: number;
  answered: number;
  closed: number;
  reopened: number;
  /** Wall-clock minutes from opening. */
  firstResponse: { median?: number | undefined; p90?: number | undefined };
  resolution: { median?: number | undefined; p90?: number | undefined };
  /** Per kind: tickets whose targets are decided, and how many of them met every target. */
  attainment: { kind: string; decided: number; met: number }[];
  csat: { good: number; bad: number };
}

export async function teamStats(
  models: Models,
  opts: { since: Date; teams?: Team[] | undefined; now: Date },
): Promise<TeamStats> {
  const s: TeamStats = {
    since: opts.since,
    teams: opts.teams ?? 'all',
    opened: 0,
    answered: 0,
    closed: 0,
    reopened: 0,
    firstResponse: {},
    resolution: {},
    attainment: [],
    csat: { good: 0, bad: 0 },
  };
  const fr: number[] = [];
  const res: number[] = [];
  const byKind = new Map<string, { decided: number; met: number }>();
  for await (const t of ticketsSince(models, opts.since, opts.teams)) {
    s.opened += 1;
    const sla = t.sla as SlaState | null | undefined;
    if (sla?.firstResponse.metAt) {
      s.answered += 1;
      fr.push((sla.firstResponse.metAt.getTime() - t.createdAt.getTime()) / 60_000);
    }
    if (t.status === 'closed') {
      s.closed += 1;
      if (sla?.resolution.metAt) res.push((sla.resolution.metAt.getTime() - t.createdAt.getTime()) / 60_000);
    }
    if ((t.sla?.reopened ?? 0) > 0) s.reopened += 1;
    const outcome = slaOutcome(sla, opts.now);
    if (outcome === 'yes' || outcome === 'no') {
      const k = byKind.get(t.kind) ?? { decided: 0, met: 0 };
      k.decided += 1;
      if (outcome === 'yes') k.met += 1;
      byKind.set(t.kind, k);
    }
    const csat = (t as { csat?: { score?: string | null } | null }).csat?.score;
    if (csat === 'good') s.csat.good += 1;
    if (csat === 'bad') s.csat.bad += 1;
  }
  fr.sort((a, b) => a - b);
  res.sort((a, b) => a - b);
  s.firstResponse = { median: percentile(fr, 50), p90: percentile(fr, 90) };
  s.resolution = { median: percentile(res, 50), p90: percentile(res, 90) };
  s.attainment = [...byKind.entries()]
    .map(([kind, v]) => ({ kind, ...v }))
    .sort((a, b) => a.kind.localeCompare(b.kind));
  return s;
}

const csvCell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
/** Spreadsheets read a leading = + - @ as a formula: customer text must stay text. */
const safeText = (v: string) => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

/** One row per ticket opened since `since`: ref, kind, team, account, opened, first response, closed, SLA met (times in TZ_BILLING). */
export async function ticketsCsv(
  models: Models,
  opts: { since: Date; teams?: Team[] | undefined; now: Date; timeZone: string },
): Promise<{ csv: string; rows: number }> {
  const when = (d: Date | null | undefined) => (d ? `${dayIn(opts.timeZone, d)} ${timeOfDay(d, opts.timeZone)}` : '');
  const lines = [
    ['ref', 'kind', 'team', 'account', `opened (${opts.timeZone})`, 'first response', 'closed', 'sla met'].join(','),
  ];
  for await (const t of ticketsSince(models, opts.since, opts.teams)) {
    const sla = t.sla as SlaState | null | undefined;
    const closedAt = t.status === 'closed' ? (sla?.resolution.metAt ?? t.updatedAt) : undefined;
    lines.push(
      [
        t.ref,
        t.kind,
        t.team,
        safeText(t.accountId ?? ''),
        when(t.createdAt),
        when(sla?.firstResponse.metAt),
        when(closedAt),
        slaOutcome(sla, opts.now),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return { csv: `${lines.join('\r\n')}\r\n`, rows: lines.length - 1 };
}

export interface HomeQueues {
  overdue: Ticket[];
  dueSoon: Ticket[];
  waiting: Ticket[];
  /** Per team the viewer is in: one page of its unowned open tickets, oldest first. */
  queues: { team: Team; page: number; tickets: Ticket[]; more: boolean }[];
}

/** How far ahead "due soon" looks. */
const DUE_SOON_MS = 4 * 3_600_000;
export const QUEUE_PAGE = 15;
/** Unowned tickets read per team and status for the queue; a queue longer than this is a bigger problem than its last pages. */
const QUEUE_SCAN = 2000;
/** An owner's open tickets read for App Home; more are not listed one by one anyway. */
const MINE_LIMIT = 500;

export async function homeQueues(
  models: Models,
  opts: { userId: string; teams: Team[]; now: Date; page?: { team: Team; page: number } | undefined },
): Promise<HomeQueues> {
  const mine = (
    (await models.Ticket.find({ assignee: opts.userId })
      .sort({ number: -1 })
      .limit(MINE_LIMIT * 2)
      .select({ history: 0, description: 0 })
      .lean()) as Ticket[]
  )
    .filter((t) => t.status !== 'closed')
    .slice(0, MINE_LIMIT);
  const now = opts.now.getTime();
  const dueOf = (t: Ticket) => {
    const sla = t.sla as SlaState | null | undefined;
    const target = sla && !sla.pausedAt ? currentTarget(sla) : undefined;
    return target ? sla![target].dueAt.getTime() : undefined;
  };
  const byDue = (a: Ticket, b: Ticket) => (dueOf(a) ?? Infinity) - (dueOf(b) ?? Infinity);
  const waiting = mine.filter((t) => t.status === 'waiting_on_customer');
  const running = mine.filter((t) => t.status !== 'waiting_on_customer');
  const overdue = running.filter((t) => (dueOf(t) ?? Infinity) < now).sort(byDue);
  const dueSoon = running
    .filter((t) => {
      const due = dueOf(t);
      return due !== undefined && due >= now && due - now <= DUE_SOON_MS;
    })
    .sort(byDue);
  const queues = [];
  for (const team of opts.teams) {
    const page = opts.page?.team === team ? opts.page.page : 0;
    // Equality on top-level fields only (what FerretDB hands to its backend): unowned open tickets
    // are `new`, or waiting on a customer with nobody on them; the many owned ones are never read.
    const unowned = [
      ...((await models.Ticket.find({ team, status: 'new' })
        .select({ history: 0, description: 0 })
        .limit(QUEUE_SCAN)
        .lean()) as Ticket[]),
      ...((await models.Ticket.find({ team, status: 'waiting_on_customer' })
        .select({ history: 0, description: 0 })
        .limit(QUEUE_SCAN)
        .lean()) as Ticket[]),
    ]
      .filter((t) => !t.assignee)
      .sort((x, y) => x.createdAt.getTime() - y.createdAt.getTime() || x.number - y.number);
    const rows = unowned.slice(page * QUEUE_PAGE, (page + 1) * QUEUE_PAGE + 1);
    queues.push({ team, page, tickets: rows.slice(0, QUEUE_PAGE), more: rows.length > QUEUE_PAGE });
  }
  return { overdue, dueSoon, waiting, queues };
}
