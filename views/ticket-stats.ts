import type { KnownBlock } from '@slack/types';
import { formatSpan } from '../src/domain/business-hours.js';
import { KIND_LABELS, type TicketKind } from '../src/domain/ticket.js';

/** What `/ticket stats` shows (a plain shape; services/sla-stats.ts computes it). */
export interface StatsView {
  opened: number;
  answered: number;
  closed: number;
  reopened: number;
  firstResponse: { median?: number | undefined; p90?: number | undefined };
  resolution: { median?: number | undefined; p90?: number | undefined };
  attainment: { kind: string; decided: number; met: number }[];
  csat: { good: number; bad: number };
}

const span = (minutes: number | undefined) => (minutes === undefined ? '—' : formatSpan(minutes * 60_000));
const pct = (n: number, d: number) => (d === 0 ? '—' : `${Math.round((100 * n) / d)} %`);

export function ticketStats(s: StatsView, heading: string): { text: string; blocks: KnownBlock[] } {
  const attainment = s.attainment.length
    ? s.attainment
        .map(
          (a) =>
            `• ${KIND_LABELS[a.kind as TicketKind] ?? a.kind}: ${pct(a.met, a.decided)} (${a.met} of ${a.decided})`,
        )
        .join('\n')
    : '_No ticket has reached or met its targets yet._';
  const csatTotal = s.csat.good + s.csat.bad;
  const lines = [
    `*${heading}*`,
    `Opened ${s.opened} · answered ${s.answered} · closed ${s.closed} · reopened ${s.reopened}`,
    `Time to first response: median ${span(s.firstResponse.median)}, p90 ${span(s.firstResponse.p90)}`,
    `Time to resolution: median ${span(s.resolution.median)}, p90 ${span(s.resolution.p90)}`,
    ...(csatTotal > 0
      ? [`Customer satisfaction: ${pct(s.csat.good, csatTotal)} good (${s.csat.good} of ${csatTotal} answers)`]
      : []),
  ];
  return {
    text: `${heading}: opened ${s.opened}, answered ${s.answered}, closed ${s.closed}`,
    blocks: [
      { type: 'section', block_id: 'ticket_stats', text: { type: 'mrkdwn', text: lines.join('\n') } },
      {
        type: 'section',
        block_id: 'ticket_stats_attainment',
        text: { type: 'mrkdwn', text: `*SLA attainment by kind*\n${attainment}`.slice(0, 2990) },
      },
    ],
  };
}
