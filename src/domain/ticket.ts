/** Ticket vocabulary and the rules that need no database. */
import type { Mailbox, Team } from '../config.js';

export const TICKET_KINDS = [
  'migration',
  'upgrade',
  'downgrade',
  'addon',
  'pause',
  'reactivation',
  'cancellation',
  'billing',
  'sales',
  'support',
] as const;
export type TicketKind = (typeof TICKET_KINDS)[number];

export const TICKET_STATUSES = ['new', 'claimed', 'waiting_on_customer', 'closed'] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];
/** Every status but closed: the working set, which stays small however long the history grows. */
export const OPEN_STATUSES = TICKET_STATUSES.filter((s) => s !== 'closed');

/** Whose open work a ticket is (its `openFor`): who opened it in Slack and who claimed it; nobody's once closed. */
export function openForOf(t: {
  status: string;
  openedBy?: string | null | undefined;
  assignee?: string | null | undefined;
}): string[] {
  if (t.status === 'closed') return [];
  return [...new Set([t.openedBy, t.assignee].filter((u): u is string => Boolean(u)))];
}

export const FIRST_TICKET_NUMBER = 1001;

export function formatRef(n: number): string {
  return `AR-${n}`;
}

/**
 * What a ticket reference looks like: `AR-` and its number, in any case (as people type it). Every
 * Slack value and argument that names a ticket is checked against this; parseRef reads it.
 */
export const REF_PATTERN = /^AR-(\d{1,9})$/i;

/** Accepts `AR-1001` or `ar-1001` (as people type it); returns the number or undefined. */
export function parseRef(text: string): number | undefined {
  const match = REF_PATTERN.exec(text.trim());
  if (!match?.[1]) return undefined;
  const n = Number(match[1]);
  return n >= FIRST_TICKET_NUMBER ? n : undefined;
}

const KIND_TEAM: Record<TicketKind, Team> = {
  migration: 'sales',
  upgrade: 'billing',
  downgrade: 'billing',
  addon: 'billing',
  pause: 'billing',
  reactivation: 'support',
  cancellation: 'billing',
  billing: 'billing',
  sales: 'sales',
  support: 'support',
};

const MAILBOX_TEAM: Record<Mailbox, Team> = {
  billing: 'billing',
  sales: 'sales',
  support: 'support',
  selfserve: 'support',
};

/**
 * The team whose channel gets the ticket. Mail goes to its mailbox's team, except migrations,
 * which always start with sales (they own the handoff); Slack tickets go by kind.
 */
export function teamFor(kind: TicketKind, mailbox?: Mailbox): Team {
  if (kind === 'migration') return 'sales';
  return mailbox ? MAILBOX_TEAM[mailbox] : KIND_TEAM[kind];
}

export const KIND_LABELS: Record<TicketKind, string> = {
  migration: 'Migration to Enterprise',
  upgrade: 'MAU tier upgrade',
  downgrade: 'MAU tier downgrade',
  addon: 'Add-on',
  pause: 'Pause',
  reactivation: 'Reactivation',
  cancellation: 'Cancellation',
  billing: 'Billing question',
  sales: 'Sales question',
  support: 'Support request',
};
