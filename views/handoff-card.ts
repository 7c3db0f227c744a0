import type { KnownBlock } from '@slack/types';
import { HANDOFF_CARD } from './ids.js';
import { escapeText, plain, slackDate, truncate } from './format.js';

/** What the billing channel is told of a handoff (a plain shape, so views stay free of the database). */
export interface HandoffView {
  ref: string;
  migration: {
    customerName?: string | null | undefined;
    accountId?: string | null | undefined;
    salespersonEmail?: string | null | undefined;
    salesUserId?: string | null | undefined;
    enterprisePlan?: string | null | undefined;
    enterpriseStartDate?: string | null | undefined;
    notes?: string | null | undefined;
    stage?: string | null | undefined;
    cancelAt?: Date | null | undefined;
    c4sCancelledAt?: Date | null | undefined;
  };
}

/** Where the C4S plan's cancellation stands, for billing; undefined before billing has acted. */
function cancellationLine(m: HandoffView['migration']): string | undefined {
  if (m.stage === 'scheduled' && m.cancelAt) return `:calendar: C4S plan cancellation scheduled for ${slackDate(m.cancelAt)}`;
  if (m.stage === 'c4s_cancelled') return `:white_check_mark: C4S plan cancellation recorded${m.c4sCancelledAt ? ` ${slackDate(m.c4sCancelledAt)}` : ''}`;
  return undefined;
}

const text = (v: string | null | undefined) => (v ? escapeText(v) : '—');

/** Posted to the billing channel when sales hands a migration off; the buttons are billing's. */
export function handoffCard(t: HandoffView): { text: string; blocks: KnownBlock[] } {
  const m = t.migration;
  const rep = m.salesUserId ? ` (<@${m.salesUserId}>)` : '';
  const blocks: KnownBlock[] = [
    { type: 'header', block_id: HANDOFF_CARD.blockId(t.ref), text: plain(`${t.ref}: Enterprise handoff for ${m.customerName ?? 'a customer'}`, 150) },
    {
      type: 'section',
      block_id: HANDOFF_CARD.fieldsBlock,
      fields: [
        { type: 'mrkdwn', text: `*Customer*\n${text(m.customerName)}` },
        { type: 'mrkdwn', text: `*Account ID*\n${text(m.accountId)}` },
        { type: 'mrkdwn', text: `*Salesperson*\n${text(m.salespersonEmail)}${rep}` },
        { type: 'mrkdwn', text: `*Enterprise plan*\n${text(m.enterprisePlan)}` },
        { type: 'mrkdwn', text: `*Enterprise start*\n${text(m.enterpriseStartDate)}` },
      ],
    },
  ];
  if (m.notes) blocks.push({ type: 'section', block_id: HANDOFF_CARD.notesBlock, text: { type: 'mrkdwn', text: `*Notes*\n${truncate(escapeText(m.notes), 2900)}` } });
  const cancellation = cancellationLine(m);
  if (cancellation) blocks.push({ type: 'section', block_id: HANDOFF_CARD.scheduleBlock, text: { type: 'mrkdwn', text: cancellation } });
  // Once the C4S plan is cancelled there is nothing left to confirm or withdraw.
  if (m.stage !== 'c4s_cancelled') blocks.push({
    type: 'actions',
    block_id: HANDOFF_CARD.actionsBlock,
    elements: [
      { type: 'button', action_id: HANDOFF_CARD.actions.confirm, text: plain('Confirm & schedule'), value: t.ref, style: 'primary' },
      { type: 'button', action_id: HANDOFF_CARD.actions.withdraw, text: plain('Withdraw'), value: t.ref, style: 'danger' },
    ],
  });
  const summary = `${t.ref}: ${m.customerName ?? 'a customer'} (${m.accountId ?? 'no account'}) moves to Enterprise, handed off by ${m.salespersonEmail ?? 'sales'}`;
  return { text: truncate(summary, 300), blocks };
}
