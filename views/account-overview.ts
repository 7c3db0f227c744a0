import type { KnownBlock } from '@slack/types';
import { CHANGE_LABELS, type AccountState, type ChangeType } from '../src/domain/plans.js';
import { addonLabel, PRICE_BOOK, reasonLabel, tierLabel } from '../src/domain/price-book.js';
import { ACCOUNT_VIEW } from './ids.js';
import { escapeText, plain, slackDate, truncate } from './format.js';

export interface AccountOverviewView {
  account: AccountState;
  pending: { _id: string; type: string; dueAt: Date; summary: string }[];
  tickets: { ref: string; kind: string; status: string; title: string }[];
  projects?: { name: string; kind: 'live' | 'test' }[] | undefined;
}

/** Which scheduled changes people may cancel from here (the rules keep the others). */
export const CANCELLABLE: ReadonlySet<string> = new Set<ChangeType>(['downgrade']);

const STATUS: Record<string, string> = {
  trial: ':hatching_chick: Trial',
  active: ':large_green_circle: Active',
  paused: ':double_vertical_bar: Paused',
  locked: ':lock: Locked',
  cancelled: ':x: Cancelled',
  migrated: ':arrow_right: Migrated to Enterprise',
};

/** `/account <id>`, answered ephemerally. */
export function accountOverview(o: AccountOverviewView): { text: string; blocks: KnownBlock[] } {
  const a = o.account;
  const fields = [
    `*Plan*\n${escapeText(tierLabel(a.tier))}`,
    `*Status*\n${STATUS[a.status] ?? a.status}${a.status === 'paused' && a.deletionDueAt ? ` (deleted ${slackDate(a.deletionDueAt)} unless reactivated)` : ''}`,
    `*Add-ons*\n${a.addons.length ? a.addons.map((x) => escapeText(addonLabel(x))).join(', ') : 'none'}`,
    `*Billing*\n${a.billingPeriod}, renews on the anchor ${a.billingAnchor}${a.status === 'trial' || a.status === 'locked' ? `; billing details ${a.billingDetailsComplete ? 'complete' : 'missing'}` : ''}`,
    `*Data*\n${escapeText(reasonLabel(PRICE_BOOK.regions, a.region))}, kept ${a.retentionYears} years`,
    `*Contact*\n${escapeText(a.contactEmail)}`,
  ].map((text) => ({ type: 'mrkdwn' as const, text }));
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      block_id: ACCOUNT_VIEW.headerBlock,
      text: plain(`${a.id}: ${escapeText(truncate(a.name, 130))}`, 150),
    },
    { type: 'section', block_id: ACCOUNT_VIEW.fieldsBlock, fields },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: o.pending.length ? '*Scheduled changes*' : '*Scheduled changes*: none' },
    },
  ];
  for (const c of o.pending.slice(0, 20)) {
    blocks.push({
      type: 'section',
      block_id: ACCOUNT_VIEW.pendingBlock(c._id),
      text: {
        type: 'mrkdwn',
        text: truncate(
          `*${escapeText(CHANGE_LABELS[c.type as ChangeType] ?? c.type)}* on ${slackDate(c.dueAt)}\n${escapeText(c.summary)}`,
          2900,
        ),
      },
      ...(CANCELLABLE.has(c.type)
        ? {
            accessory: {
              type: 'button' as const,
              action_id: ACCOUNT_VIEW.actions.cancelChange,
              text: plain('Cancel'),
              value: c._id,
              style: 'danger' as const,
              confirm: {
                title: plain('Cancel this change?'),
                text: plain(escapeText(truncate(c.summary, 250)), 300),
                confirm: plain('Cancel it'),
                deny: plain('Keep it'),
              },
            },
          }
        : {}),
    });
  }
  const tickets = o.tickets.length
    ? o.tickets.map((t) => `• *${t.ref}* ${escapeText(truncate(t.title, 80))} (${t.kind}, ${t.status})`).join('\n')
    : 'none';
  blocks.push({
    type: 'section',
    block_id: ACCOUNT_VIEW.ticketsBlock,
    text: { type: 'mrkdwn', text: truncate(`*Open tickets*\n${tickets}`, 2900) },
  });
  const projects = o.projects ?? [];
  const names = (kind: 'live' | 'test') =>
    projects
      .filter((p) => p.kind === kind)
      .map((p) => escapeText(p.name))
      .join(', ') || 'none';
  blocks.push({
    type: 'section',
    block_id: ACCOUNT_VIEW.projectsBlock,
    text: { type: 'mrkdwn', text: truncate(`*Projects*\nlive: ${names('live')}\ntest: ${names('test')}`, 2900) },
  });
  blocks.push({
    type: 'actions',
    block_id: ACCOUNT_VIEW.actionsBlock,
    elements: [
      ...((a.status === 'trial' || a.status === 'locked') && !a.billingDetailsComplete
        ? [
            {
              type: 'button' as const,
              action_id: ACCOUNT_VIEW.actions.billingDetailsComplete,
              text: plain('Billing details complete'),
              value: a.id,
            },
          ]
        : []),
      // Billing edits them (the modal checks the role); the migration page offers them to the customer.
      { type: 'button' as const, action_id: ACCOUNT_VIEW.actions.editProjects, text: plain('Projects'), value: a.id },
    ],
  });
  return {
    text: `${escapeText(a.id)}: ${escapeText(tierLabel(a.tier))}, ${a.status}, ${o.pending.length} scheduled change(s)`,
    blocks,
  };
}
