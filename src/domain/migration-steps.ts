/**
 * The customer's steps of a migration after billing has scheduled it (billing summary, payment,
 * projects, migrating, completion) as pure rules: what may happen next, and why not.
 */
import { formatInstant } from './dates.js';
import { reached, STAGE_LABELS, MIGRATION_STAGES, type MigrationStage } from './migration.js';

export const BILLING_OUTCOMES = ['credits', 'dues'] as const;
export type BillingOutcome = (typeof BILLING_OUTCOMES)[number];
export const PAYMENT_METHODS = ['card', 'emandate'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export const CURRENCIES = ['EUR', 'USD', 'GBP'] as const;
export type Currency = (typeof CURRENCIES)[number];
/** `not_needed`: no overages, credits go to the next invoice. */
export const PAYMENT_STATUSES = ['not_needed', 'pending', 'failed', 'succeeded'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
/** What billing can record about a payment (not_needed follows from the summary). */
export const RECORDABLE_PAYMENTS = ['pending', 'failed', 'succeeded'] as const;
export type RecordablePayment = (typeof RECORDABLE_PAYMENTS)[number];

/** Why payments commonly fail, offered in billing's modal; `other` asks for the words. */
export const PAYMENT_FAILURE_REASONS = [
  'card_declined',
  'insufficient_funds',
  'card_expired',
  'emandate_returned',
  'other',
] as const;
export type PaymentFailureReason = (typeof PAYMENT_FAILURE_REASONS)[number];
export const PAYMENT_FAILURE_LABELS: Record<PaymentFailureReason, string> = {
  card_declined: 'Card declined',
  insufficient_funds: 'Insufficient funds',
  card_expired: 'Card expired',
  emandate_returned: 'Direct debit (eMandate) returned by the bank',
  other: 'Other',
};

/** The reason as stored and shown (card, App Home, the customer's email): the label, with billing's details. */
export function paymentFailureText(reason: PaymentFailureReason, detail: string | undefined): string {
  if (reason === 'other') return detail ?? '';
  return detail ? `${PAYMENT_FAILURE_LABELS[reason]}: ${detail}` : PAYMENT_FAILURE_LABELS[reason];
}

/** What the step rules read of a migration (the ticket's `migration` subdocument). */
export interface MigrationState {
  stage?: string | null | undefined;
  cancelAt?: Date | null | undefined;
  c4sCancelledAt?: Date | null | undefined;
  billing?: { outcome?: string | null | undefined; method?: string | null | undefined } | null | undefined;
  payment?: { status?: string | null | undefined; reason?: string | null | undefined } | null | undefined;
  projects?: { live?: string[] | null | undefined; test?: string[] | null | undefined } | null | undefined;
}

/** The steps billing (or the customer, for projects) takes after scheduling. */
export type Step = 'summary' | 'payment' | 'projects' | 'start' | 'complete';

const settled = (m: MigrationState) => m.payment?.status === 'not_needed' || m.payment?.status === 'succeeded';

/**
 * Why `step` cannot be taken now, in words for the person who tried (times in `timeZone`,
 * TZ_BILLING); undefined when it can. A failed payment blocks everything after it until a success
 * is recorded.
 */
export function blockedReason(m: MigrationState, step: Step, ref: string, timeZone: string): string | undefined {
  const stage = (m.stage ?? 'requested') as MigrationStage;
  if (stage === 'completed') return `The migration on ${ref} is already completed.`;
  if (!reached(stage, 'scheduled'))
    return `Billing has not confirmed the schedule on ${ref} yet (it is ${STAGE_LABELS[stage] ?? stage}).`;
  const failed = m.payment?.status === 'failed';
  const why = m.payment?.reason ? ` (${m.payment.reason})` : '';
  if (failed && step !== 'payment')
    return `Blocked: the payment on ${ref} failed${why}. Record a successful payment first.`;
  switch (step) {
    case 'summary':
      if (m.payment?.status === 'succeeded')
        return `The payment on ${ref} has succeeded; the billing summary can no longer change.`;
      if (reached(stage, 'migrating')) return `${ref} is already migrating; the billing summary can no longer change.`;
      return undefined;
    case 'payment':
      if (!m.billing?.outcome) return `Record the billing summary on ${ref} first.`;
      if (m.billing.outcome === 'credits')
        return `${ref} has no dues (credits go to the next invoice), so there is no payment to record.`;
      if (reached(stage, 'migrating')) return `${ref} is already migrating; its payment was settled.`;
      return undefined;
    case 'projects':
      if (!m.billing?.outcome) return `Record the billing summary on ${ref} first.`;
      if (reached(stage, 'migrating')) return `${ref} is already migrating; its projects are fixed.`;
      return undefined;
    case 'start':
      if (!settled(m)) return `Waiting for the payment on ${ref}: it is ${m.payment?.status ?? 'not recorded'}.`;
      if (!m.projects?.live?.length) return `Confirm the live and test projects on ${ref} first.`;
      if (reached(stage, 'migrating')) return `${ref} is already migrating.`;
      return undefined;
    case 'complete':
      if (stage !== 'migrating') return `Start the migration on ${ref} first (it is ${STAGE_LABELS[stage] ?? stage}).`;
      if (!m.c4sCancelledAt)
        return `The C4S plan on ${ref} is not cancelled yet${m.cancelAt ? ` (due ${formatInstant(m.cancelAt, timeZone)})` : ''}; complete the migration after that.`;
      return undefined;
  }
}

/** The later of two stages: a step never moves a migration backwards. */
export function advance(stage: string | null | undefined, to: MigrationStage): MigrationStage {
  const current = (stage ?? 'requested') as MigrationStage;
  return MIGRATION_STAGES.indexOf(current) >= MIGRATION_STAGES.indexOf(to) ? current : to;
}

/** Who has the next move, and what it is, for App Home and the cards. */
export function nextAction(m: MigrationState): { who: 'sales' | 'billing' | 'customer' | 'nobody'; what: string } {
  const stage = (m.stage ?? 'requested') as MigrationStage;
  if (stage === 'requested') return { who: 'sales', what: 'hand off to billing' };
  if (stage === 'handed_off') return { who: 'billing', what: 'confirm & schedule' };
  if (stage === 'completed') return { who: 'nobody', what: 'completed' };
  if (m.payment?.status === 'failed') return { who: 'billing', what: 'payment failed: record a successful payment' };
  if (!m.billing?.outcome) return { who: 'billing', what: 'record the billing summary' };
  if (m.payment?.status === 'pending') return { who: 'billing', what: 'record the payment' };
  if (!m.projects?.live?.length) return { who: 'customer', what: 'choose the live and test projects' };
  if (stage !== 'migrating') return { who: 'billing', what: 'start the migration' };
  return {
    who: 'billing',
    what: m.c4sCancelledAt ? 'complete the migration' : 'wait for the C4S cancellation, then complete',
  };
}

/** `1,234.5`, `1234.50`, `1 234` → cents; undefined for anything else (negative, 3 decimals, text). */
export function parseAmount(text: string): number | undefined {
  const flat = text.trim().replace(/[\s,]/g, '');
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(flat)) return undefined;
  const [whole, frac = ''] = flat.split('.') as [string, string?];
  return Number(whole) * 100 + Number(frac.padEnd(2, '0'));
}

/** 123450, EUR → `EUR 1,234.50`. */
export function formatAmount(cents: number, currency: string): string {
  const whole = Math.floor(cents / 100).toLocaleString('en-US');
  return `${currency} ${whole}.${String(cents % 100).padStart(2, '0')}`;
}

/** A project name or ID as the dashboard shows it. */
const PROJECT = /^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u;

export const isProjectName = (name: string): boolean => PROJECT.test(name);

/** `a, b; c` or one per line → `['a', 'b', 'c']`; invalid names are returned in `bad`. */
export function splitProjects(text: string): { names: string[]; bad: string[] } {
  const parts = text
    .split(/[,;\n]+/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const names = [...new Set(parts.filter((p) => PROJECT.test(p)))];
  return { names, bad: parts.filter((p) => !PROJECT.test(p)) };
}

/**
 * The projects a customer names in a reply: lines like `Live: shop-prod, api` and
 * `Test projects: shop-staging`. Undefined unless at least one live project is named.
 */
export function projectsInReply(text: string): { live: string[]; test: string[] } | undefined {
  const found = { live: [] as string[], test: [] as string[] };
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*[-*]?\s*(live|production|test|testing|staging)(?:\s+projects?)?\s*[:=-]\s*(.+)$/i.exec(line);
    if (!m) continue;
    const which = /^(live|production)$/i.test(m[1]!) ? 'live' : 'test';
    found[which].push(...splitProjects(m[2]!).names);
  }
  if (found.live.length === 0) return undefined;
  return { live: [...new Set(found.live)], test: [...new Set(found.test)] };
}
