import type { KnownBlock } from '@slack/types';
import { HOME } from './ids.js';
import { escapeText, plain, truncate } from './format.js';
import { timerLine, type SlaState } from '../src/domain/sla.js';
import { KIND_LABELS, type TicketKind } from '../src/domain/ticket.js';

/** A ticket as App Home's SLA lists show it (a plain shape; the service fills it). */
export interface HomeTicket {
  ref: string;
  kind: string;
  title: string;
  status: string;
  createdAt: Date;
  sla?: SlaState | null | undefined;
}

export interface SlaHomeData {
  overdue: HomeTicket[];
  dueSoon: HomeTicket[];
  waiting: HomeTicket[];
  queues: { team: string; page: number; tickets: HomeTicket[]; more: boolean }[];
  away: boolean;
}

/** Lines per list: each list is one section (3,000 characters), so App Home stays far inside 100 blocks. */
const MAX_LINES = 15;

function line(t: HomeTicket, now: Date): string {
  const timer = t.sla ? timerLine(t.sla, now) : undefined;
  const when = timer ? (timer.overdue ? ` — :red_circle: *${timer.text}*` : ` — ${timer.text}`) : '';
  return `• *${t.ref}* ${KIND_LABELS[t.kind as TicketKind] ?? t.kind} · ${escapeText(truncate(t.title, 80))}${when}`;
}

function list(blockId: string, title: string, tickets: HomeTicket[], now: Date, empty: string): KnownBlock {
  const shown = tickets.slice(0, MAX_LINES).map((t) => line(t, now));
  if (tickets.length > MAX_LINES) shown.push(`…and ${tickets.length - MAX_LINES} more`);
  return {
    type: 'section',
    block_id: blockId,
    text: { type: 'mrkdwn', text: truncate(`*${title}*\n${shown.length ? shown.join('\n') : `_${empty}_`}`, 2990) },
  };
}

/** "Mine: overdue / due soon / waiting on customer" and each of the viewer's teams' unowned queue, one page each. */
export function slaHomeBlocks(data: SlaHomeData, now: Date): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain('Service levels') },
    list(
      HOME.mineOverdueBlock,
      `Mine: overdue (${data.overdue.length})`,
      data.overdue,
      now,
      'Nothing of yours is overdue.',
    ),
    list(
      HOME.mineDueSoonBlock,
      `Mine: due soon (${data.dueSoon.length})`,
      data.dueSoon,
      now,
      'Nothing of yours is due in the next 4 hours.',
    ),
    list(
      HOME.mineWaitingBlock,
      `Mine: waiting on customer (${data.waiting.length})`,
      data.waiting,
      now,
      'None of yours is waiting on a customer.',
    ),
  ];
  for (const q of data.queues) {
    const from = q.page * MAX_LINES + 1;
    const title = q.tickets.length
      ? `Unowned ${q.team} tickets, oldest first (${from}–${from + q.tickets.length - 1})`
      : `Unowned ${q.team} tickets`;
    blocks.push(list(HOME.queueBlock(q.team), title, q.tickets, now, 'Every open ticket has an owner.'));
    const pager = [
      ...(q.page > 0
        ? [
            {
              type: 'button' as const,
              action_id: `${HOME.actions.queuePage}_prev_${q.team}`,
              text: plain('◀ Previous page'),
              value: `${q.team}|${q.page - 1}`,
            },
          ]
        : []),
      ...(q.more
        ? [
            {
              type: 'button' as const,
              action_id: `${HOME.actions.queuePage}_next_${q.team}`,
              text: plain('Next page ▶'),
              value: `${q.team}|${q.page + 1}`,
            },
          ]
        : []),
    ];
    if (pager.length) blocks.push({ type: 'actions', block_id: HOME.queuePagerBlock(q.team), elements: pager });
  }
  blocks.push({
    type: 'actions',
    block_id: HOME.awayBlock,
    elements: [
      data.away
        ? {
            type: 'button',
            action_id: HOME.actions.away,
            text: plain("I'm back: assign me tickets again"),
            value: 'back',
            style: 'primary',
          }
        : {
            type: 'button',
            action_id: HOME.actions.away,
            text: plain("I'm away: skip me in round-robin"),
            value: 'away',
          },
    ],
  });
  blocks.push({ type: 'divider' });
  return blocks;
}
