import type { HomeView, KnownBlock } from '@slack/types';
import { HOME } from './ids.js';
import { ticketList } from './ticket-list.js';
import type { TicketView } from './ticket-card.js';
import { escapeText, truncate } from './format.js';
import { formatInstant } from '../src/domain/dates.js';
import { STAGE_LABELS, type MigrationStage } from '../src/domain/migration.js';
import { slaHomeBlocks, type SlaHomeData } from './sla-home.js';

/** One migration as App Home lists it (a plain shape; the service fills it). */
export interface HomeMigration {
  ref: string;
  customerName: string;
  accountId: string;
  stage: string;
  next: { who: string; what: string };
  paymentReason?: string | undefined;
  cancelAt?: Date | undefined;
}

export interface HomeMigrations {
  billing?:
    { awaiting: HomeMigration[]; paymentsBlocked: HomeMigration[]; cancellationsThisWeek: HomeMigration[] } | undefined;
  sales?: { handoffs: HomeMigration[] } | undefined;
}

/** Slack allows 3,000 characters in a section: long lists say how many more there are. */
function section(
  blockId: string,
  title: string,
  items: HomeMigration[],
  line: (m: HomeMigration) => string,
  empty: string,
): KnownBlock {
  const lines: string[] = [];
  let used = title.length + 40;
  for (const [i, m] of items.entries()) {
    const text = `• *${m.ref}* ${escapeText(truncate(m.customerName, 60))} (${escapeText(m.accountId)}): ${line(m)}`;
    if (used + text.length > 2800) {
      lines.push(`…and ${items.length - i} more`);
      break;
    }
    lines.push(text);
    used += text.length + 1;
  }
  return {
    type: 'section',
    block_id: blockId,
    text: { type: 'mrkdwn', text: `*${title}*\n${lines.length ? lines.join('\n') : `_${empty}_`}` },
  };
}

const stage = (m: HomeMigration) => STAGE_LABELS[m.stage as MigrationStage] ?? m.stage;

/** App Home for someone without a team role: the one line saying whom to ask, nothing else. */
export function refusedHomeView(line: string): HomeView {
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Account requests' } },
      { type: 'section', block_id: HOME.refusedBlock, text: { type: 'mrkdwn', text: line } },
    ],
  };
}

/** `timeZone` (TZ_BILLING): C4S cancellations are listed as the cards and the customer's email name them. */
export function homeView(opts: {
  tickets: TicketView[];
  migrations?: HomeMigrations;
  timeZone: string;
  sla?: { data: SlaHomeData; now: Date } | undefined;
}): HomeView {
  const list = ticketList(opts.tickets, 'Your tickets');
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Account requests' } }];
  if (opts.sla) blocks.push(...slaHomeBlocks(opts.sla.data, opts.sla.now));
  const b = opts.migrations?.billing;
  if (b) {
    blocks.push(
      { type: 'header', text: { type: 'plain_text', text: 'Billing: migrations to Enterprise' } },
      section(
        HOME.billingAwaitingBlock,
        'Handoffs awaiting action',
        b.awaiting,
        (m) => `${m.next.what} (${stage(m)})`,
        'Nothing is waiting for billing.',
      ),
      section(
        HOME.billingBlockedBlock,
        'Payments blocked',
        b.paymentsBlocked,
        (m) => `payment failed${m.paymentReason ? `: ${escapeText(truncate(m.paymentReason, 80))}` : ''}`,
        'No failed payments.',
      ),
      section(
        HOME.billingCancellationsBlock,
        'C4S cancellations due this week',
        b.cancellationsThisWeek,
        (m) => (m.cancelAt ? formatInstant(m.cancelAt, opts.timeZone) : 'not scheduled'),
        'None due in the next 7 days.',
      ),
      { type: 'divider' },
    );
  }
  const s = opts.migrations?.sales;
  if (s) {
    blocks.push(
      section(
        HOME.salesHandoffsBlock,
        'Your handoffs',
        s.handoffs,
        (m) => `${stage(m)}; next: ${m.next.what}${m.next.who !== 'nobody' ? ` (${m.next.who})` : ''}`,
        'You have no open handoffs.',
      ),
      { type: 'divider' },
    );
  }
  blocks.push(...list.blocks.map((blk) => ({ ...blk, block_id: HOME.ticketsBlock })));
  return { type: 'home', blocks };
}
