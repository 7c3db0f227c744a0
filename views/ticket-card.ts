import type { KnownBlock } from '@slack/types';
import { KIND_LABELS, TICKET_KINDS, type TicketKind } from '../src/domain/ticket.js';
import { REACTIVATION_CARD, TICKET_CARD } from './ids.js';
import { escapeText, plain, slackDate, truncate } from './format.js';
import type { MigrationState } from '../src/domain/migration-steps.js';
import { customerLine, progressLine } from './migration-progress.js';
import { KindChoice, StartHandoffValue } from './values.js';
import { formatInstant } from '../src/domain/dates.js';
import { timerLine, type SlaState } from '../src/domain/sla.js';

/** What a card needs to know of a ticket (a plain shape, so views stay free of the database). */
export interface TicketView {
  ref: string;
  kind: string;
  status: string;
  title: string;
  description?: string | null | undefined;
  accountId?: string | null | undefined;
  assignee?: string | null | undefined;
  rule?: string | null | undefined;
  citesRef?: string | null | undefined;
  source?: {
    channel: string;
    mailbox?: string | null | undefined;
    slackUserId?: string | null | undefined;
    email?: string | null | undefined;
    replyTo?: string | null | undefined;
  } | null;
  migration?:
    (MigrationState & { lastCustomerAction?: { at: Date; text: string } | null | undefined }) | null | undefined;
  sla?: SlaState | null | undefined;
  createdAt: Date;
}

const STATUS_LABELS: Record<string, string> = {
  new: ':new: New',
  claimed: ':raising_hand: Claimed',
  waiting_on_customer: ':hourglass: Waiting on customer',
  closed: ':white_check_mark: Closed',
};

function from(t: TicketView): string {
  const source = t.source;
  if (!source) return 'unknown';
  if (source.channel === 'slack' && source.slackUserId) return `<@${source.slackUserId}> in Slack`;
  const replyTo = source.replyTo && source.replyTo !== source.email ? ` (Reply-To: ${escapeText(source.replyTo)})` : '';
  return `${escapeText(source.email ?? 'unknown sender')}${replyTo} to ${source.mailbox ?? '?'}@`;
}

/** One line naming the ticket, already escaped (the title is the customer's subject). */
export function ticketSummaryText(t: TicketView): string {
  return `${t.ref} · ${KIND_LABELS[t.kind as TicketKind] ?? t.kind} · ${escapeText(truncate(t.title, 150))}`;
}

/**
 * The card posted to a team channel; it is re-rendered and updated in place as the ticket moves.
 * With `timeZone` (TZ_BILLING) the C4S cancellation reads as billing's card and the customer's
 * email name it; without, in the viewer's own zone.
 */
export function ticketCard(
  t: TicketView,
  opts: { timeZone?: string | undefined; now?: Date | undefined } = {},
): { text: string; blocks: KnownBlock[] } {
  const fields = [
    { type: 'mrkdwn' as const, text: `*Status*\n${STATUS_LABELS[t.status] ?? t.status}` },
    { type: 'mrkdwn' as const, text: `*Kind*\n${KIND_LABELS[t.kind as TicketKind] ?? t.kind}` },
    { type: 'mrkdwn' as const, text: `*From*\n${from(t)}` },
    { type: 'mrkdwn' as const, text: `*Account*\n${t.accountId ? escapeText(t.accountId) : '—'}` },
    { type: 'mrkdwn' as const, text: `*Owner*\n${t.assignee ? `<@${t.assignee}>` : 'nobody yet'}` },
    { type: 'mrkdwn' as const, text: `*Opened*\n${slackDate(t.createdAt)}` },
  ];
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      block_id: TICKET_CARD.blockId(t.ref),
      text: plain(`${t.ref}: ${escapeText(truncate(t.title, 140))}`, 150),
    },
    { type: 'section', fields },
  ];
  if (t.description) {
    // A card shows an excerpt; the whole message stays on the ticket.
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(escapeText(t.description), t.source?.channel === 'email' ? 600 : 2900) },
    });
  }
  const notes = [
    t.rule ? `kind chosen by rule \`${t.rule}\`` : undefined,
    t.citesRef ? `cites ${t.citesRef} from an address not on that ticket` : undefined,
    t.migration?.cancelAt && !t.migration.c4sCancelledAt
      ? `C4S plan cancellation scheduled for ${opts.timeZone ? formatInstant(t.migration.cancelAt, opts.timeZone) : slackDate(t.migration.cancelAt)}`
      : undefined,
    t.migration?.c4sCancelledAt ? 'C4S plan cancellation recorded' : undefined,
  ].filter(Boolean);
  if (notes.length > 0) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: notes.join(' · ') }] });
  // The SLA line as of rendering (the card is rendered again at each step of the ladder).
  const timer = t.sla && opts.now && t.status !== 'closed' ? timerLine(t.sla, opts.now) : undefined;
  if (timer) {
    const dueAt = t.sla?.[t.sla.firstResponse.metAt ? 'resolution' : 'firstResponse'].dueAt;
    const at = dueAt && opts.timeZone && !t.sla?.pausedAt ? ` (${formatInstant(dueAt, opts.timeZone)})` : '';
    blocks.push({
      type: 'context',
      block_id: TICKET_CARD.slaBlock,
      elements: [
        {
          type: 'mrkdwn',
          text: timer.overdue ? `:red_circle: *${timer.text}*${at}` : `:large_green_circle: ${timer.text}${at}`,
        },
      ],
    });
  }
  if (t.kind === 'migration')
    blocks.push({
      type: 'context',
      block_id: TICKET_CARD.progressBlock,
      elements: [{ type: 'mrkdwn', text: progressLine(t.migration ?? {}) }],
    });
  if (t.kind === 'migration' && t.migration?.lastCustomerAction)
    blocks.push(customerLine(TICKET_CARD.customerBlock, t.migration.lastCustomerAction, opts.timeZone ?? 'UTC'));
  if (t.status !== 'closed') {
    const kindOption = (kind: TicketKind) => ({
      text: plain(KIND_LABELS[kind]),
      value: KindChoice.encode(t.ref, kind),
    });
    const current = TICKET_KINDS.includes(t.kind as TicketKind) ? kindOption(t.kind as TicketKind) : undefined;
    blocks.push({
      type: 'actions',
      block_id: TICKET_CARD.actionsBlock,
      elements: [
        ...(t.assignee
          ? []
          : [
              {
                type: 'button' as const,
                action_id: TICKET_CARD.actions.claim,
                text: plain('Claim'),
                value: t.ref,
                style: 'primary' as const,
              },
            ]),
        ...(t.source?.channel === 'email'
          ? [{ type: 'button' as const, action_id: TICKET_CARD.actions.reply, text: plain('Reply'), value: t.ref }]
          : []),
        // Once handed off, a second handoff would only be refused, so the button goes away.
        ...(t.kind === 'migration' && (!t.migration?.stage || t.migration.stage === 'requested')
          ? [
              {
                type: 'button' as const,
                action_id: TICKET_CARD.actions.startHandoff,
                text: plain('Start handoff'),
                value: StartHandoffValue.encode(t.ref, t.accountId ?? ''),
              },
            ]
          : []),
        // Support approves a paused account's reactivation here (the service checks role and day 60).
        ...(t.kind === 'reactivation' && t.accountId
          ? [
              {
                type: 'button' as const,
                action_id: REACTIVATION_CARD.actions.approve,
                text: plain('Approve reactivation'),
                value: t.ref,
                style: 'primary' as const,
              },
            ]
          : []),
        {
          type: 'static_select',
          action_id: TICKET_CARD.actions.changeKind,
          placeholder: plain('Change kind'),
          options: TICKET_KINDS.map(kindOption),
          ...(current ? { initial_option: current } : {}),
        },
        { type: 'button', action_id: TICKET_CARD.actions.close, text: plain('Close'), value: t.ref },
      ],
    });
    blocks.push({
      type: 'actions',
      block_id: TICKET_CARD.ownerActionsBlock,
      elements: [
        { type: 'button', action_id: TICKET_CARD.actions.reassign, text: plain('Reassign'), value: t.ref },
        ...(t.status === 'waiting_on_customer'
          ? []
          : [
              {
                type: 'button' as const,
                action_id: TICKET_CARD.actions.waitOnCustomer,
                text: plain('Waiting on customer'),
                value: t.ref,
              },
            ]),
      ],
    });
  }
  return { text: ticketSummaryText(t), blocks };
}
