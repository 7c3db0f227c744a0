/**
 * The migration as the customer follows it on their page: seven steps in one bar, which are done,
 * which is current, and a failed payment as the block it is. Also what the customer may do now,
 * decided here once so the page shows it and the server enforces it from the same rule.
 */
import { reached } from './migration.js';
import { blockedReason, type MigrationState } from './migration-steps.js';

export const JOURNEY_STEPS = [
  'handed_off',
  'scheduled',
  'summary',
  'payment',
  'projects',
  'migrating',
  'completed',
] as const;
export type JourneyStep = (typeof JOURNEY_STEPS)[number];

export const JOURNEY_LABELS: Record<JourneyStep, string> = {
  handed_off: 'Handed off',
  scheduled: 'Scheduled',
  summary: 'Billing summary',
  payment: 'Payment',
  projects: 'Projects',
  migrating: 'Migrating',
  completed: 'Completed',
};

export type StepState = 'done' | 'current' | 'blocked' | 'todo';

export interface JourneyState extends MigrationState {
  billing?: (MigrationState['billing'] & { payNowByCard?: boolean | null | undefined }) | null | undefined;
  payment?: (MigrationState['payment'] & { at?: Date | null | undefined }) | null | undefined;
  /** The customer's card payment attempts on the page (absent until one starts). */
  checkout?: { attempt?: number | null | undefined; at?: Date | null | undefined } | null | undefined;
}

/**
 * A failed payment the customer is trying again: a card payment started after the failure was
 * recorded. Still no payment (every later step stays refused), but no longer the block to show.
 */
export function retrying(m: JourneyState): boolean {
  if (m.payment?.status !== 'failed' || !m.checkout?.at) return false;
  return !m.payment.at || m.checkout.at.getTime() > m.payment.at.getTime();
}

const settled = (m: MigrationState) => m.payment?.status === 'not_needed' || m.payment?.status === 'succeeded';

/** Whether the summary asks the customer to pay by card (required), may (eMandate with the option), or not at all. */
export function cardPayment(m: JourneyState): 'required' | 'optional' | 'none' {
  if (m.billing?.outcome !== 'dues' || settled(m)) return 'none';
  if (m.billing.method === 'emandate') return m.billing.payNowByCard ? 'optional' : 'none';
  return 'required';
}

function stateOf(m: JourneyState, step: JourneyStep): StepState {
  const stage = m.stage ?? 'requested';
  const paying = m.payment?.status === 'failed' || !!m.checkout?.attempt;
  switch (step) {
    case 'handed_off':
      return reached(stage, 'handed_off') ? 'done' : 'todo';
    case 'scheduled':
      return reached(stage, 'scheduled') ? 'done' : reached(stage, 'handed_off') ? 'current' : 'todo';
    case 'summary':
      if (!reached(stage, 'scheduled')) return 'todo';
      if (!m.billing?.outcome) return 'current';
      // The summary is where the customer reads what is due and chooses to pay, until a payment starts.
      return m.billing.outcome === 'dues' && !settled(m) && !paying ? 'current' : 'done';
    case 'payment':
      if (settled(m)) return 'done';
      if (m.payment?.status === 'failed' && !retrying(m)) return 'blocked';
      return m.billing?.outcome && paying ? 'current' : 'todo';
    case 'projects':
      if (m.projects?.live?.length) return 'done';
      return settled(m) && reached(stage, 'payment') ? 'current' : 'todo';
    case 'migrating':
      if (stage === 'completed') return 'done';
      return reached(stage, 'projects_confirmed') ? 'current' : 'todo';
    case 'completed':
      return stage === 'completed' ? 'done' : 'todo';
  }
}

export function journey(m: JourneyState): { step: JourneyStep; label: string; state: StepState }[] {
  return JOURNEY_STEPS.map((step) => ({ step, label: JOURNEY_LABELS[step], state: stateOf(m, step) }));
}

/** The step to name as "where you are": the blocked one, else the current one, else the last done. */
export function currentStep(m: JourneyState): JourneyStep {
  const steps = journey(m);
  return (
    steps.find((s) => s.state === 'blocked') ??
    steps.find((s) => s.state === 'current') ??
    steps.filter((s) => s.state === 'done').at(-1) ??
    steps[0]!
  ).step;
}

/**
 * Why the customer may not pay by card now, in words for them; undefined when they may. Only a
 * summary with dues payable by card, not yet paid, on a migration not yet moving.
 */
export function customerPayRefusal(m: JourneyState, ref: string, timeZone: string): string | undefined {
  if (m.stage === 'completed') return 'Your migration is completed; there is nothing to pay.';
  if (!m.billing?.outcome) return 'Billing has not sent your summary yet.';
  if (m.payment?.status === 'succeeded') return 'Your payment has already gone through.';
  if (cardPayment(m) === 'none')
    return m.billing.outcome === 'credits'
      ? 'Nothing is due: your credit goes to your next invoice.'
      : 'This amount is collected by your eMandate; there is nothing to pay here.';
  return blockedReason(m, 'payment', ref, timeZone) ? 'Payment is not open on this migration any more.' : undefined;
}

/**
 * Why the customer may not confirm projects now; undefined when they may. Stricter than billing's
 * rule: the customer chooses projects only once the payment is settled, and once confirmed the
 * choice is locked (billing may still change it in Slack).
 */
export function customerProjectsRefusal(m: JourneyState): string | undefined {
  if (m.stage === 'completed' || reached(m.stage, 'migrating'))
    return 'Your projects are fixed: the migration has started.';
  if (m.payment?.status === 'failed') return 'The payment did not go through: pay first, then choose your projects.';
  if (!settled(m)) return 'Choose your projects once the payment has gone through.';
  if (m.projects?.live?.length)
    return 'Your projects are already confirmed. Reply to our email if anything must change.';
  return undefined;
}
