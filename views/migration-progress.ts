import { MIGRATION_STAGES, STAGE_LABELS, type MigrationStage } from '../src/domain/migration.js';
import { formatAmount, type MigrationState } from '../src/domain/migration-steps.js';
import type { KnownBlock } from '@slack/types';
import { escapeText, truncate } from './format.js';
import { formatInstant } from '../src/domain/dates.js';

/**
 * The migration's stages in one line, done ones ticked: `✓ requested → ✓ handed off → … → completed`.
 * The payment stage says how the payment stands, and a failed one is marked as the block it is.
 */
export function progressLine(m: MigrationState): string {
  const at = MIGRATION_STAGES.indexOf((m.stage ?? 'requested') as MigrationStage);
  return MIGRATION_STAGES.map((stage, i) => {
    let label = STAGE_LABELS[stage];
    if (stage === 'payment' && m.payment?.status) label = `payment ${m.payment.status.replace('_', ' ')}`;
    if (stage === 'payment' && m.payment?.status === 'failed') return `:no_entry: *${label}*`;
    if (i < at || (i === at && stage === 'completed')) return `:white_check_mark: ${label}`;
    return i === at ? `:arrow_right: *${label}*` : `:white_small_square: ${label}`;
  }).join('  ');
}

/** What billing recorded, in short lines, for the handoff card. */
export function stepLines(
  m: MigrationState & {
    billing?:
      | {
          outcome?: string | null;
          amountCents?: number | null;
          currency?: string | null;
          method?: string | null;
          payNowByCard?: boolean | null;
        }
      | null
      | undefined;
    projects?: { live?: string[] | null; test?: string[] | null } | null | undefined;
    proposedProjects?:
      | { live?: string[] | null; test?: string[] | null; by?: string | null; trusted?: boolean | null }
      | null
      | undefined;
  },
): string[] {
  const lines: string[] = [];
  const b = m.billing;
  if (b?.outcome) {
    const amount = b.amountCents != null ? formatAmount(b.amountCents, b.currency ?? 'EUR') : undefined;
    lines.push(
      b.outcome === 'credits'
        ? `*Billing summary:* no overages; credits${amount ? ` of ${amount}` : ''} to the next invoice`
        : `*Billing summary:* ${amount ?? 'amount'} due by ${b.method === 'emandate' ? `eMandate${b.payNowByCard ? ' (may pay now by card)' : ''}` : 'card'}`,
    );
  }
  if (m.payment?.status && m.payment.status !== 'not_needed')
    lines.push(`*Payment:* ${m.payment.status}${m.payment.reason ? ` (${escapeText(m.payment.reason)})` : ''}`);
  // Project names may come from the customer's email.
  const names = (list: string[] | null | undefined) => (list?.length ? list.map(escapeText).join(', ') : 'none');
  const list = (p: { live?: string[] | null; test?: string[] | null }) =>
    `live ${names(p.live)}; test ${names(p.test)}`;
  if (m.projects?.live?.length) lines.push(`*Projects:* ${list(m.projects)}`);
  const proposed = m.proposedProjects;
  if (proposed?.live?.length) {
    const sender = proposed.by?.startsWith('email:') ? escapeText(proposed.by.slice('email:'.length)) : 'the customer';
    const trust = proposed.trusted === false ? ' (not an address this ticket trusts)' : '';
    lines.push(`*Projects named by ${sender}${trust}, not confirmed:* ${list(proposed)}`);
  }
  return lines;
}

/** The customer's last action on their page, with its time in TZ_BILLING; the words hold the customer's address, so they are escaped. */
export function customerLine(blockId: string, action: { at: Date; text: string }, timeZone: string): KnownBlock {
  return {
    type: 'context',
    block_id: blockId,
    elements: [
      {
        type: 'mrkdwn',
        text: truncate(`:bust_in_silhouette: ${escapeText(action.text)} · ${formatInstant(action.at, timeZone)}`, 2900),
      },
    ],
  };
}
