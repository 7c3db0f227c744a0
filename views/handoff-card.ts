import type { KnownBlock } from '@slack/types';
import { HANDOFF_CARD } from './ids.js';
import { escapeText, plain, truncate } from './format.js';
import { formatInstant } from '../src/domain/dates.js';
import { reached } from '../src/domain/migration.js';
import { c4sCancellationText } from '../src/domain/migration-dates.js';
import { RECORDABLE_PAYMENTS } from '../src/domain/migration-steps.js';
import { customerLine, progressLine, stepLines } from './migration-progress.js';
import { PaymentChoice } from './values.js';

/** What the billing channel is told of a handoff (a plain shape, so views stay free of the database). */
export interface HandoffView {
  ref: string;
  /** TZ_BILLING: the C4S cancellation is shown as the customer's email names it, not in the viewer's zone. */
  timeZone: string;
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
    proposedProjects?:
      | { live?: string[] | null; test?: string[] | null; by?: string | null; trusted?: boolean | null }
      | null
      | undefined;
    accountTeam?:
      | { csm?: string | null | undefined; tam?: string | null | undefined; kam?: string | null | undefined }
      | null
      | undefined;
    /** The customer's last action on their page, already in words ("customer (email) paid …"). */
    lastCustomerAction?: { at: Date; text: string } | null | undefined;
  } & Parameters<typeof stepLines>[0];
}

const SLACK_USER = /^[UW][A-Z0-9]+$/;

/** The account team as recorded at completion, as mentions (only well-formed user IDs become one). */
function teamLines(team: NonNullable<HandoffView['migration']['accountTeam']>): string[] {
  const who = (id: string | null | undefined) => (id ? (SLACK_USER.test(id) ? `<@${id}>` : escapeText(id)) : undefined);
  return [
    ['Customer Success Manager', who(team.csm)],
    ['Technical Account Manager', who(team.tam)],
    ['Key Account Manager', who(team.kam)],
  ].flatMap(([role, person]) => (person ? [`${role}: ${person}`] : []));
}

/** Where the C4S plan's cancellation stands, for billing; undefined before billing has acted. */
function cancellationLine(m: HandoffView['migration'], timeZone: string): string | undefined {
  if (m.c4sCancelledAt)
    return `:white_check_mark: C4S plan cancellation recorded ${formatInstant(m.c4sCancelledAt, timeZone)}`;
  if (m.cancelAt)
    return `:calendar: C4S plan cancellation scheduled for ${c4sCancellationText(m.cancelAt, m.enterpriseStartDate, timeZone)}`;
  return undefined;
}

const text = (v: string | null | undefined) => (v ? escapeText(v) : '—');

/** Posted to the billing channel when sales hands a migration off; the buttons are billing's. */
export function handoffCard(t: HandoffView): { text: string; blocks: KnownBlock[] } {
  const m = t.migration;
  const rep = m.salesUserId ? ` (<@${m.salesUserId}>)` : '';
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      block_id: HANDOFF_CARD.blockId(t.ref),
      text: plain(
        `${t.ref}: Enterprise handoff for ${m.customerName ? escapeText(truncate(m.customerName, 100)) : 'a customer'}`,
        150,
      ),
    },
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
  if (m.notes)
    blocks.push({
      type: 'section',
      block_id: HANDOFF_CARD.notesBlock,
      text: { type: 'mrkdwn', text: `*Notes*\n${truncate(escapeText(m.notes), 2900)}` },
    });
  const cancellation = cancellationLine(m, t.timeZone);
  if (cancellation)
    blocks.push({
      type: 'section',
      block_id: HANDOFF_CARD.scheduleBlock,
      text: { type: 'mrkdwn', text: cancellation },
    });
  blocks.push({
    type: 'context',
    block_id: HANDOFF_CARD.progressBlock,
    elements: [{ type: 'mrkdwn', text: progressLine(m) }],
  });
  const steps = stepLines(m);
  if (steps.length > 0)
    blocks.push({
      type: 'section',
      block_id: HANDOFF_CARD.stepsBlock,
      text: { type: 'mrkdwn', text: truncate(steps.join('\n'), 2900) },
    });
  if (m.lastCustomerAction) blocks.push(customerLine(HANDOFF_CARD.customerBlock, m.lastCustomerAction, t.timeZone));
  const team = m.accountTeam ? teamLines(m.accountTeam) : [];
  if (team.length > 0)
    blocks.push({
      type: 'section',
      block_id: HANDOFF_CARD.teamBlock,
      text: { type: 'mrkdwn', text: `*Account team*\n${team.join('\n')}` },
    });
  const buttons = billingButtons(t.ref, m);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: HANDOFF_CARD.actionsBlock, elements: buttons });
  const summary = `${t.ref}: ${text(m.customerName ? truncate(m.customerName, 100) : 'a customer')} (${text(m.accountId ?? 'no account')}) moves to Enterprise, handed off by ${text(m.salespersonEmail ?? 'sales')}`;
  return { text: summary, blocks };
}

/**
 * Billing's controls for the stage the migration is at. A control stays while its step may come up
 * even when it is blocked for now: pressing it says why (a failed payment, say).
 */
function billingButtons(ref: string, m: HandoffView['migration']) {
  const A = HANDOFF_CARD.actions;
  const button = (action_id: string, label: string, style?: 'primary' | 'danger') => ({
    type: 'button' as const,
    action_id,
    text: plain(label),
    value: ref,
    ...(style ? { style } : {}),
  });
  if (m.stage === 'completed') return [];
  const scheduled = reached(m.stage, 'scheduled');
  const migrating = reached(m.stage, 'migrating');
  return [
    // Until the C4S plan is cancelled, billing may (re)schedule; withdrawing only before the customer's steps.
    ...(!m.c4sCancelledAt
      ? [button(A.confirm, scheduled ? 'Change schedule' : 'Confirm & schedule', scheduled ? undefined : 'primary')]
      : []),
    ...(!m.c4sCancelledAt && m.stage === 'scheduled' ? [button(A.withdraw, 'Withdraw', 'danger')] : []),
    ...(scheduled && !migrating && m.payment?.status !== 'succeeded'
      ? [button(A.summary, m.billing?.outcome ? 'Change billing summary' : 'Billing summary')]
      : []),
    // Once a payment succeeded there is nothing left to record; after a failure only a success lifts the block.
    ...(m.billing?.outcome === 'dues' && !migrating && m.payment?.status !== 'succeeded'
      ? [
          {
            type: 'static_select' as const,
            action_id: A.payment,
            placeholder: plain('Record payment'),
            options: RECORDABLE_PAYMENTS.filter(
              (status) => status !== m.payment?.status && !(m.payment?.status === 'failed' && status === 'pending'),
            ).map((status) => ({
              text: plain(`Payment ${status}`),
              value: PaymentChoice.encode(ref, status),
            })),
          },
        ]
      : []),
    ...(m.billing?.outcome && !migrating
      ? [button(A.projects, m.projects?.live?.length ? 'Change projects' : 'Projects')]
      : []),
    ...(m.proposedProjects?.trusted === false && m.proposedProjects.by?.startsWith('email:') && !migrating
      ? [button(A.trustSender, 'Trust the sender')]
      : []),
    ...(m.projects?.live?.length && !migrating ? [button(A.start, 'Start migration', 'primary')] : []),
    ...(m.stage === 'migrating' ? [button(A.complete, 'Complete migration', 'primary')] : []),
    // The customer's page exists from scheduling on; a new link revokes every earlier one.
    ...(scheduled ? [button(A.newLink, 'Send a new link')] : []),
  ];
}
