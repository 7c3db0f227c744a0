/**
 * A migration after billing has scheduled it: the billing summary, the payment, the projects, the
 * migration itself and its completion. Each step checks the role and the step rules
 * (domain/migration-steps.ts: a failed payment blocks what follows), claims its effect under a
 * unique `_id` in `migration_effects` (so the same submission retried changes nothing), writes the
 * ticket once, updates both cards, and emails the customer the next step.
 */
import { insertOnce } from '../db/claims.js';
import type { RenderedMail } from '../domain/email-templates.js';
import { reached, type MigrationStage } from '../domain/migration.js';
import {
  billingSummaryMail,
  migrationCompletedMail,
  paymentFailedMail,
  paymentSucceededMail,
  projectsConfirmedMail,
  type SummaryFacts,
} from '../domain/migration-emails.js';
import {
  advance,
  blockedReason,
  formatAmount,
  projectsInReply,
  type RecordablePayment,
  type Step,
} from '../domain/migration-steps.js';
import { AppError } from '../errors.js';
import { customerEmailOf, emailMigrationCustomer, mailContext, recordBillingStep } from './migration-record.js';
import { isTrustedSender } from '../domain/trust.js';
import { escapeText } from '../domain/slack-text.js';
import type { MigrationDeps } from './migrations.js';
import { requireRole } from './roles.js';
import { findTicket, type Ticket } from './tickets.js';

type Migration = NonNullable<Ticket['migration']>;

const STEP_WHAT: Record<Step, string> = {
  summary: 'record the billing summary',
  payment: 'record payments',
  projects: 'confirm the projects',
  start: 'start the migration',
  complete: 'complete the migration',
};

/** The migration as `userId` may take `step` on it now, or a refusal saying why not. */
export async function checkStep(
  deps: MigrationDeps,
  refText: string,
  userId: string,
  step: Step,
): Promise<{ ticket: Ticket; m: Migration }> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, ['billing'], `${STEP_WHAT[step]} on ${ticket.ref}`);
  return { ticket, m: stepAllowed(ticket, step, deps.timeZone) };
}

function stepAllowed(ticket: Ticket, step: Step, timeZone: string): Migration {
  const m = ticket.migration;
  if (ticket.kind !== 'migration' || !m)
    throw new AppError('conflict', `${ticket.ref} is not a migration with a handoff.`);
  if (ticket.status === 'closed') throw new AppError('conflict', `${ticket.ref} is closed; nothing was changed.`);
  const why = blockedReason(m, step, ticket.ref, timeZone);
  if (why) throw new AppError('rule_refused', `${why} Nothing was changed.`);
  return m;
}

/** Claims a step's effect; false when this key was taken already (the same request again). */
async function claimStepEffect(deps: MigrationDeps, key: string, ref: string): Promise<boolean> {
  return insertOnce(deps.models.MigrationEffect, { _id: key, ref, at: deps.now() });
}

/**
 * Writes the step (one ticket update, both cards refreshed), then emails the customer. Without a
 * customer address the history line says no email went out; `emailed` is the address or undefined.
 */
async function applyStep(
  deps: MigrationDeps,
  ticket: Ticket,
  step: {
    action: string;
    actor: string;
    note: string;
    set: Record<string, unknown>;
    unset?: Record<string, ''>;
    email?: { key: string; mail: RenderedMail };
  },
): Promise<{ updated: Ticket; emailed: string | undefined }> {
  const at = deps.now();
  const to = step.email ? customerEmailOf(ticket) : undefined;
  const note = step.email && !to ? `${step.note}; no email sent: no customer email on file` : step.note;
  const updated = await recordBillingStep(deps, ticket.ref, step.set, step.unset ?? {}, {
    at,
    actor: step.actor,
    action: step.action,
    note,
  });
  if (step.email && to) await emailMigrationCustomer(deps, updated, step.email.key, step.email.mail);
  deps.log.info(
    { event: `migration.${step.action}`, ref: ticket.ref, actor: step.actor, ...(step.email ? { emailed: !!to } : {}) },
    `migration ${step.action}`,
  );
  return { updated, emailed: to };
}

/** What the person is told about the customer's email: `what` was sent, or why nothing was. */
function toldCustomer(emailed: string | undefined, what: string): string {
  return emailed
    ? `The customer (${escapeText(emailed)}) was ${what}.`
    : 'No email went out: there is no customer email on file.';
}

const already = (ref: string) => `That was already recorded on ${ref}; nothing changed.`;

export interface SummaryInput extends SummaryFacts {
  ref: string;
  userId: string;
  /** The modal's view id: the same submission retried is recorded once. */
  requestKey: string;
  note?: string | undefined;
}

/** Billing records the billing summary: credits (nothing to pay) or dues and how they are paid. */
export async function recordSummary(deps: MigrationDeps, input: SummaryInput): Promise<string> {
  const { ticket, m } = await checkStep(deps, input.ref, input.userId, 'summary');
  if (!(await claimStepEffect(deps, `summary:${ticket.ref}:${input.requestKey}`, ticket.ref)))
    return already(ticket.ref);
  const at = deps.now();
  const dues = input.outcome === 'dues';
  const billing = {
    outcome: input.outcome,
    ...(input.amountCents !== undefined ? { amountCents: input.amountCents, currency: input.currency ?? 'EUR' } : {}),
    ...(dues
      ? { method: input.method ?? 'card', payNowByCard: input.method === 'emandate' && !!input.payNowByCard }
      : {}),
    ...(input.note ? { note: input.note } : {}),
    at,
    by: `slack:${input.userId}`,
  };
  const amount = input.amountCents !== undefined ? formatAmount(input.amountCents, input.currency ?? 'EUR') : undefined;
  const words = dues
    ? `Billing summary: ${amount} due, ${input.method === 'emandate' ? `eMandate${billing.payNowByCard ? ' (may pay now by card)' : ''}` : 'card'}; payment pending`
    : `Billing summary: no overages, credits${amount ? ` of ${amount}` : ''} go to the next invoice`;
  const { emailed } = await applyStep(deps, ticket, {
    action: 'billing_summary',
    actor: `slack:${input.userId}`,
    note: words,
    set: {
      'migration.stage': advance(m.stage, 'payment'),
      'migration.billing': billing,
      'migration.payment': { status: dues ? 'pending' : 'not_needed', at, by: `slack:${input.userId}` },
    },
    email: { key: `summary:${input.requestKey}`, mail: billingSummaryMail(mailContext(ticket, deps.links), input) },
  });
  return `${words} on ${ticket.ref}. ${toldCustomer(emailed, dues ? 'sent the summary and how to pay' : 'sent the summary and asked for the projects')}`;
}

/** Pending after a failure would hide the failure: only a success lifts the block. */
function refusePendingOverFailure(ref: string, was: string | null | undefined, status: RecordablePayment): void {
  if (was === 'failed' && status === 'pending')
    throw new AppError(
      'rule_refused',
      `The payment on ${ref} failed; only a successful payment lifts the block. Nothing was changed.`,
    );
}

/**
 * Before billing's "Payment failed" modal opens: the role, the step rules, and that the payment is
 * not failed already, so the form is never one that could only be refused.
 */
export async function checkPaymentFailure(deps: MigrationDeps, refText: string, userId: string): Promise<Ticket> {
  const { ticket, m } = await checkStep(deps, refText, userId, 'payment');
  if (m.payment?.status === 'failed')
    throw new AppError(
      'conflict',
      `The payment on ${ticket.ref} is already recorded as failed${m.payment.reason ? ` (${m.payment.reason})` : ''}; record a successful payment once it goes through.`,
    );
  return ticket;
}

/**
 * Billing records a payment: pending, failed (blocks every later step; the reason is required,
 * shown on the card and App Home and given to the customer) or succeeded (unblocks).
 */
export async function recordPayment(
  deps: MigrationDeps,
  input: { ref: string; userId: string; requestKey: string; status: RecordablePayment; reason?: string | undefined },
): Promise<string> {
  const { ticket, m } = await checkStep(deps, input.ref, input.userId, 'payment');
  return applyPayment(deps, ticket, m, {
    actor: `slack:${input.userId}`,
    requestKey: input.requestKey,
    status: input.status,
    reason: input.reason,
  });
}

/** A payment result that did not come from billing's select: the customer's card, through the payment provider. */
export interface CustomerPayment {
  /** `customer (cto@bigco.example)`: how Slack and the history name who acted. */
  who: string;
  /** `EUR 480.00`, when known. */
  amount?: string | undefined;
}

/**
 * Records a payment however it was learnt: billing's select in Slack, or the provider's webhook for
 * the customer's card (then the history line and both cards say "customer (email) paid …" and the
 * billing thread hears of it). One claim per status and request, one history line, one email.
 */
export async function applyPayment(
  deps: MigrationDeps,
  ticket: Ticket,
  m: Migration,
  input: {
    actor: string;
    requestKey: string;
    status: RecordablePayment;
    reason?: string | undefined;
    customer?: CustomerPayment | undefined;
  },
): Promise<string> {
  const was = m.payment?.status;
  refusePendingOverFailure(ticket.ref, was, input.status);
  if (input.status === 'failed' && !input.reason?.trim())
    throw new AppError('invalid_input', 'Say why the payment failed: the card shows it and the customer is told.', {
      field: 'payment_failure_detail',
    });
  // A customer's retry declined again is news (a new attempt, a new reason); billing's repeat is not.
  const newDecline = input.status === 'failed' && input.customer !== undefined;
  if (was === input.status && !newDecline) return `The payment on ${ticket.ref} is already ${was}; nothing changed.`;
  if (!(await claimStepEffect(deps, `payment:${ticket.ref}:${input.status}:${input.requestKey}`, ticket.ref)))
    return already(ticket.ref);
  const at = deps.now();
  const ctx = mailContext(ticket, deps.links);
  const projectsKnown = !!m.projects?.live?.length;
  const email =
    input.status === 'failed'
      ? { key: `payment-failed:${input.requestKey}`, mail: paymentFailedMail(ctx, input.reason) }
      : input.status === 'succeeded'
        ? { key: `payment-succeeded:${input.requestKey}`, mail: paymentSucceededMail(ctx, projectsKnown) }
        : undefined;
  const c = input.customer;
  const customerWords = c
    ? input.status === 'succeeded'
      ? `${c.who} paid ${c.amount ?? 'the dues'} by card`
      : `${c.who}'s card payment${c.amount ? ` of ${c.amount}` : ''} failed: ${input.reason}`
    : undefined;
  const { emailed } = await applyStep(deps, ticket, {
    action: `payment_${input.status}`,
    actor: input.actor,
    note:
      customerWords ?? `Payment ${input.status}${input.reason ? `: ${input.reason}` : ''}${was ? ` (was ${was})` : ''}`,
    set: {
      'migration.payment': {
        status: input.status,
        at,
        by: input.actor,
        ...(input.reason ? { reason: input.reason } : {}),
      },
      ...(customerWords ? { 'migration.lastCustomerAction': { at, text: customerWords } } : {}),
    },
    ...(email ? { email } : {}),
  });
  if (customerWords) {
    const icon = input.status === 'succeeded' ? ':credit_card:' : ':no_entry:';
    await tellThreads(
      deps,
      ticket.ref,
      `payment:${input.status}:${input.requestKey}`,
      `${icon} ${escapeText(customerWords)}.${input.status === 'failed' ? ' Every later step waits for a successful payment.' : ''}`,
    );
  }
  const billingSettled = !c && input.status === 'succeeded';
  if (billingSettled) await closeOpenCheckout(deps, ticket.ref, m);
  if (input.status === 'failed')
    return `Recorded: the payment on ${ticket.ref} failed. Every later step is blocked until a successful payment is recorded. ${toldCustomer(emailed, 'told')}`;
  if (input.status === 'succeeded')
    return `Recorded: the payment on ${ticket.ref} succeeded${was === 'failed' ? '; the block is lifted' : ''}. ${toldCustomer(emailed, projectsKnown ? 'told' : 'told and asked for the projects')}`;
  return `Recorded: the payment on ${ticket.ref} is pending.`;
}

/**
 * Billing recorded the payment in Slack while the customer's card checkout may still be open: close
 * it so the customer cannot pay twice. Had they paid it meanwhile, both threads say so (refund one).
 */
async function closeOpenCheckout(deps: MigrationDeps, ref: string, m: Migration): Promise<void> {
  const sessionId = m.checkout?.sessionId;
  if (!sessionId || !deps.closeCheckout) return;
  try {
    if ((await deps.closeCheckout(sessionId)) === 'paid') {
      await tellThreads(
        deps,
        ref,
        `checkout-paid:${sessionId}`,
        `:warning: The customer had also paid by card on the migration page (attempt ${m.checkout?.attempt ?? '?'}): one of the two payments needs a refund.`,
      );
    }
  } catch (err) {
    deps.log.warn(
      { event: 'migration.checkout_close_failed', ref, err: (err as Error).message },
      'could not close the customer’s open checkout',
    );
  }
}

/** A line in the thread of both cards: the billing channel's handoff and the team's ticket card. */
export async function tellThreads(deps: MigrationDeps, ref: string, key: string, text: string): Promise<void> {
  await deps.outbox.enqueue({
    key: `thread:${ref}:${key}`,
    channel: 'slack',
    kind: 'thread_reply',
    payload: { type: 'thread_reply', ref, text },
    ticketRef: ref,
  });
  await deps.outbox.enqueue({
    key: `handoff-thread:${ref}:${key}`,
    channel: 'slack',
    kind: 'thread_reply',
    payload: { type: 'thread_reply', ref, text, post: 'handoff' },
    ticketRef: ref,
  });
}

/** Billing confirms the live and test projects to migrate. */
export async function confirmProjects(
  deps: MigrationDeps,
  input: { ref: string; userId: string; requestKey: string; live: string[]; test: string[] },
): Promise<string> {
  const { ticket, m } = await checkStep(deps, input.ref, input.userId, 'projects');
  return applyProjects(deps, ticket, m, {
    actor: `slack:${input.userId}`,
    requestKey: input.requestKey,
    live: input.live,
    test: input.test,
  });
}

/**
 * Confirms the projects, from billing's modal, a trusted reply, or the customer's page (`customerWho`:
 * the cards and both threads then say "customer (email) confirmed the projects"). The history line,
 * the card update and the email are the same whichever way they came.
 */
export async function applyProjects(
  deps: MigrationDeps,
  ticket: Ticket,
  m: Migration,
  input: { actor: string; requestKey: string; live: string[]; test: string[]; customerWho?: string | undefined },
): Promise<string> {
  if (input.live.length === 0)
    throw new AppError('invalid_input', 'Name at least one live project.', { field: 'live_projects' });
  if (!(await claimStepEffect(deps, `projects:${ticket.ref}:${input.requestKey}`, ticket.ref)))
    return already(ticket.ref);
  const at = deps.now();
  const projects = { live: input.live, test: input.test, at, by: input.actor };
  const words = `Projects confirmed: live ${input.live.join(', ')}; test ${input.test.length ? input.test.join(', ') : 'none'}`;
  const customerWords = input.customerWho
    ? `${input.customerWho} confirmed the projects on the migration page`
    : undefined;
  const { emailed } = await applyStep(deps, ticket, {
    action: 'projects_confirmed',
    actor: input.actor,
    note: words,
    set: {
      'migration.stage': advance(m.stage, 'projects_confirmed'),
      'migration.projects': projects,
      ...(customerWords ? { 'migration.lastCustomerAction': { at, text: customerWords } } : {}),
    },
    unset: { 'migration.proposedProjects': '' },
    email: { key: `projects:${input.requestKey}`, mail: projectsConfirmedMail(mailContext(ticket, deps.links), input) },
  });
  if (customerWords)
    await tellThreads(
      deps,
      ticket.ref,
      `projects:${input.requestKey}`,
      `:card_index_dividers: ${escapeText(customerWords)}: ${escapeText(words.replace(/^Projects confirmed: /, ''))}.`,
    );
  // Said back in Slack: the names may have come from the customer's email.
  return `${escapeText(words)} on ${ticket.ref}. ${toldCustomer(emailed, 'sent the list')}`;
}

/**
 * A customer's reply on a migration ticket that names projects (`Live: a, b` / `Test: c`): they
 * are confirmed at once when a trusted sender wrote (domain/trust.ts) and nothing blocks it;
 * otherwise they are kept as proposed for billing, named with the sender, and the card's thread
 * says why.
 */
export async function projectsFromReply(
  deps: MigrationDeps,
  ref: string,
  reply: { from: string; text: string; messageId: string },
): Promise<'confirmed' | 'proposed' | 'none'> {
  const named = projectsInReply(reply.text);
  if (!named) return 'none';
  const ticket = await deps.models.Ticket.findById(ref).lean<Ticket>();
  if (!ticket?.migration || ticket.kind !== 'migration' || !reached(ticket.migration.stage, 'handed_off'))
    return 'none';
  const trusted = isTrustedSender(ticket, reply.from);
  const why = !trusted
    ? `${reply.from} is not an address this ticket trusts (the customer's own, or one billing added)`
    : ticket.status === 'closed'
      ? `${ref} is closed`
      : blockedReason(ticket.migration, 'projects', ref, deps.timeZone);
  if (!why) {
    await applyProjects(deps, ticket, ticket.migration, {
      actor: `email:${reply.from}`,
      requestKey: `mail:${reply.messageId}`,
      ...named,
    });
    return 'confirmed';
  }
  if (!(await claimStepEffect(deps, `proposed:${ref}:${reply.messageId}`, ref))) return 'proposed';
  await applyStep(deps, ticket, {
    action: 'projects_proposed',
    actor: `email:${reply.from}`,
    note: `${reply.from} named projects (live ${named.live.join(', ')}; test ${named.test.join(', ') || 'none'}); not confirmed: ${why}`,
    set: { 'migration.proposedProjects': { ...named, at: deps.now(), by: `email:${reply.from}`, trusted } },
  });
  await deps.outbox.enqueue({
    key: `thread:${ref}:proposed:${reply.messageId}`,
    channel: 'slack',
    kind: 'thread_reply',
    payload: {
      type: 'thread_reply',
      ref,
      text: `:card_index_dividers: ${escapeText(reply.from)} named projects, but they are not confirmed: ${escapeText(why)}`,
    },
    ticketRef: ref,
  });
  return 'proposed';
}

/** Billing trusts the address that proposed the projects: its later replies may confirm them. */
export async function trustProposer(deps: MigrationDeps, input: { ref: string; userId: string }): Promise<string> {
  const ticket = await findTicket(deps.models, input.ref);
  await requireRole(deps.models, input.userId, ['billing'], `trust an address on ${ticket.ref}`);
  const by = ticket.migration?.proposedProjects?.by;
  const address = by?.startsWith('email:') ? by.slice('email:'.length) : undefined;
  if (!address) throw new AppError('conflict', `No projects proposed by email are waiting on ${ticket.ref}.`);
  if (isTrustedSender(ticket, address)) return `${address} is already trusted on ${ticket.ref}.`;
  await recordBillingStep(
    deps,
    ticket.ref,
    { 'migration.proposedProjects.trusted': true },
    {},
    {
      at: deps.now(),
      actor: `slack:${input.userId}`,
      action: 'address_trusted',
      note: `${address} may now confirm projects by email`,
    },
    { addTrusted: address },
  );
  return `${address} is now trusted on ${ticket.ref}: their emails may confirm projects. The projects they named are still waiting: confirm them with Projects.`;
}

/** Billing starts the migration: payment settled and projects confirmed. */
export async function startMigration(deps: MigrationDeps, input: { ref: string; userId: string }): Promise<string> {
  const { ticket } = await checkStep(deps, input.ref, input.userId, 'start');
  if (!(await claimStepEffect(deps, `start:${ticket.ref}`, ticket.ref))) return already(ticket.ref);
  const at = deps.now();
  await applyStep(deps, ticket, {
    action: 'migrating',
    actor: `slack:${input.userId}`,
    note: 'Migration started',
    set: { 'migration.stage': 'migrating' satisfies MigrationStage, 'migration.migratingAt': at },
  });
  return `Started: ${ticket.ref} is migrating. Complete it once the projects are on Enterprise.`;
}

export interface AccountTeam {
  csm: string;
  tam?: string | undefined;
  kam?: string | undefined;
  /** Their names as Slack has them, for the customer's page (which cannot show Slack IDs). */
  names?: { csm?: string | undefined; tam?: string | undefined; kam?: string | undefined } | undefined;
}

/** Introductions the salesperson is asked to make, with the roles spelled out. */
export function introductionText(ticket: Ticket, team: AccountTeam): string {
  const m = ticket.migration;
  const who = [
    `Customer Success Manager <@${team.csm}>`,
    ...(team.tam ? [`Technical Account Manager <@${team.tam}>`] : []),
    ...(team.kam ? [`Key Account Manager <@${team.kam}>`] : []),
  ];
  const contact = customerEmailOf(ticket);
  const name = m?.customerName ? escapeText(m.customerName) : 'The customer';
  const plan = m?.enterprisePlan ? ` (${escapeText(m.enterprisePlan)})` : '';
  return `:tada: ${ticket.ref}: ${name} (${escapeText(m?.accountId ?? 'no account')}) is now on Enterprise${plan}. Please introduce their account team${contact ? ` to ${escapeText(contact)}` : ''}: ${who.join(', ')}.`;
}

/** Billing completes the migration: the customer gets the confirmation, the salesperson the introductions to make. */
export async function completeMigration(
  deps: MigrationDeps,
  input: { ref: string; userId: string; team: AccountTeam },
): Promise<string> {
  const { ticket, m } = await checkStep(deps, input.ref, input.userId, 'complete');
  if (!(await claimStepEffect(deps, `complete:${ticket.ref}`, ticket.ref))) return already(ticket.ref);
  const at = deps.now();
  const n = input.team.names ?? {};
  const team = {
    csm: input.team.csm,
    ...(input.team.tam ? { tam: input.team.tam } : {}),
    ...(input.team.kam ? { kam: input.team.kam } : {}),
    ...(n.csm ? { csmName: n.csm } : {}),
    ...(input.team.tam && n.tam ? { tamName: n.tam } : {}),
    ...(input.team.kam && n.kam ? { kamName: n.kam } : {}),
  };
  const projects = { live: m.projects?.live ?? [], test: m.projects?.test ?? [] };
  const { updated, emailed } = await applyStep(deps, ticket, {
    action: 'completed',
    actor: `slack:${input.userId}`,
    note: `Migration completed; account team: CSM ${team.csm}${team.tam ? `, TAM ${team.tam}` : ''}${team.kam ? `, KAM ${team.kam}` : ''}`,
    set: {
      'migration.stage': 'completed' satisfies MigrationStage,
      'migration.completedAt': at,
      'migration.accountTeam': team,
    },
    email: { key: 'completed', mail: migrationCompletedMail(mailContext(ticket, deps.links), projects) },
  });
  const text = introductionText(updated, team);
  if (m.salesUserId)
    await deps.outbox.enqueue({
      key: `dm:${ticket.ref}:introduce`,
      channel: 'slack',
      kind: 'dm',
      payload: { type: 'direct_message', user: m.salesUserId, text },
      ticketRef: ticket.ref,
    });
  await deps.outbox.enqueue({
    key: `thread:${ticket.ref}:completed`,
    channel: 'slack',
    kind: 'thread_reply',
    payload: { type: 'thread_reply', ref: ticket.ref, text },
    ticketRef: ticket.ref,
  });
  return `Completed: ${ticket.ref} is on Enterprise. ${toldCustomer(emailed, 'sent the confirmation')}${m.salesUserId ? ` <@${m.salesUserId}> was asked to introduce the account team.` : ''}`;
}
