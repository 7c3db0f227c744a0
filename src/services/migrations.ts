/**
 * Migration to Enterprise, first step: the sales rep hands the account off to billing. The guard
 * is a `migration_handoffs` row keyed by account ID (a unique `_id` insert), so two handoffs for
 * one account cannot both win and a retried submission (same view) repeats nothing.
 */
import { claimOnce } from '../db/claims.js';
import type { MigrationHandoffDoc } from '../db/models/migration.js';
import { formatInstant } from '../domain/dates.js';
import { c4sCancellationAt, dayIn, STAGE_LABELS, type IsoDate } from '../domain/migration.js';
import { c4sCancellationText } from '../domain/migration-dates.js';
import { advance } from '../domain/migration-steps.js';
import { migrationScheduledMail } from '../domain/migration-emails.js';
import type { MigrationJobs } from './ports.js';
import { AppError } from '../errors.js';
import { requireRole } from './roles.js';
import { findTicket, openTicket, type Ticket, type TicketDeps } from './tickets.js';
import { emailMigrationCustomer, mailContext, recordBillingStep, type LinkIssuer } from './migration-record.js';

export interface MigrationDeps extends TicketDeps {
  /** MAIL_DOMAIN: the customer emails come from its mailboxes. */
  domain: string;
  /** Signs the reply addresses of the customer's emails. */
  appKey: Buffer;
  /** TZ_BILLING: the zone in which billing days (start dates) fall. */
  timeZone: string;
  /** The C4S cancellation's due work (absent where no scheduler runs: billing's buttons then refuse). */
  jobs?: MigrationJobs | undefined;
  /** The customer's page links in the emails (absent without PUBLIC_URL: the emails ask for replies). */
  links?: LinkIssuer | undefined;
  /**
   * Closes the customer's open card checkout when billing settles the payment another way, so it
   * cannot be paid twice: `paid` when the customer had paid it meanwhile. Absent without Stripe.
   */
  closeCheckout?: ((sessionId: string) => Promise<'closed' | 'paid'>) | undefined;
}

export interface HandoffInput {
  userId: string;
  /** The modal's view id: the idempotency key of the submission. */
  viewId: string;
  customerName: string;
  accountId: string;
  salespersonEmail: string;
  enterprisePlan: string;
  enterpriseStartDate: IsoDate;
  notes?: string | undefined;
  /** Where the migration emails go when the ticket did not come by email. */
  customerEmail?: string | undefined;
}

export function billingToday(deps: Pick<MigrationDeps, 'timeZone' | 'now'>): IsoDate {
  return dayIn(deps.timeZone, deps.now());
}

const isOpenMigration = (t: Ticket | null): t is Ticket => !!t && t.kind === 'migration' && t.status !== 'closed';

function alreadyHandedOff(ref: string): AppError {
  return new AppError(
    'conflict',
    `This account's migration is already handed off on ${ref}; add to that ticket instead.`,
    { field: 'account_id' },
  );
}

/**
 * The guard row for the account, unless it belongs to another view whose ticket is still an open
 * migration (then the handoff is refused). A row left by a closed ticket is removed here.
 */
async function currentGuard(
  deps: MigrationDeps,
  accountId: string,
  viewId: string,
): Promise<MigrationHandoffDoc | null> {
  const guard = await deps.models.MigrationHandoff.findById(accountId).lean();
  if (!guard || guard.viewId === viewId) return guard;
  const ticket = await deps.models.Ticket.findById(guard.ref).lean<Ticket>();
  if (isOpenMigration(ticket)) throw alreadyHandedOff(guard.ref);
  await deps.models.MigrationHandoff.deleteOne({ _id: accountId, viewId: guard.viewId });
  return null;
}

/** Runs before the modal is acknowledged, so refusals show inline: the role and one `_id` lookup. */
export async function checkHandoff(
  deps: MigrationDeps,
  input: { userId: string; accountId: string; viewId: string },
): Promise<void> {
  await requireRole(deps.models, input.userId, ['sales'], 'hand off a migration');
  await currentGuard(deps, input.accountId, input.viewId);
}

/** The account's open migration ticket, oldest first (e.g. one the customer opened by email). */
async function openMigrationOf(deps: MigrationDeps, accountId: string): Promise<Ticket | null> {
  return await deps.models.Ticket.findOne({ accountId, kind: 'migration', status: { $ne: 'closed' } })
    .sort({ number: 1 })
    .lean<Ticket>();
}

/** Takes the account's guard for this view; `first` is false when this view already held it (a retry). */
async function takeGuard(
  deps: MigrationDeps,
  input: HandoffInput,
  ref: string,
): Promise<{ guard: MigrationHandoffDoc; first: boolean }> {
  const row = { _id: input.accountId, ref, viewId: input.viewId, at: deps.now() };
  const got = await claimOnce(deps.models.MigrationHandoff, row);
  if (got.won) return { guard: row, first: true };
  const winner = got.existing;
  if (!winner || winner.viewId !== input.viewId) throw alreadyHandedOff(winner?.ref ?? ref);
  return { guard: winner, first: false };
}

/**
 * Attaches the handoff to the account's open migration ticket or opens one, records it, and posts
 * it to billing. Every write is keyed by the view, so a retry repairs what a crash left undone.
 */
export async function handOff(deps: MigrationDeps, input: HandoffInput): Promise<{ ticket: Ticket; first: boolean }> {
  await requireRole(deps.models, input.userId, ['sales'], 'hand off a migration');
  const held = await currentGuard(deps, input.accountId, input.viewId);
  let ref = held?.ref;
  if (!ref) {
    const existing = await openMigrationOf(deps, input.accountId);
    ref =
      existing?.ref ??
      (
        await openTicket(deps, {
          kind: 'migration',
          title: `Migration to Enterprise: ${input.customerName}`,
          accountId: input.accountId,
          source: { channel: 'slack', slackUserId: input.userId },
          idempotencyKey: `slack:view:${input.viewId}`,
          actor: `slack:${input.userId}`,
        })
      ).ticket.ref;
  }
  const { guard, first } = held ? { guard: held, first: false } : await takeGuard(deps, input, ref);
  const ticket = await recordHandoff(deps, guard, input);
  await deps.outbox.enqueue({
    key: `handoff-card:${guard.ref}:${input.viewId}`,
    channel: 'slack',
    kind: 'post',
    payload: { type: 'handoff_card', ref: guard.ref },
    ticketRef: guard.ref,
  });
  if (first)
    deps.log.info(
      { event: 'migration.handed_off', ref: guard.ref, accountId: input.accountId, actor: input.userId },
      'migration handed off',
    );
  return { ticket, first };
}

/**
 * Stores the handoff on the ticket. Paths are set one by one so the billing post's place survives a
 * retry, and the history line is built from the guard's time so `$addToSet` adds it only once.
 */
async function recordHandoff(deps: MigrationDeps, guard: MigrationHandoffDoc, input: HandoffInput): Promise<Ticket> {
  const m = {
    stage: 'handed_off',
    customerName: input.customerName,
    accountId: input.accountId,
    salespersonEmail: input.salespersonEmail,
    salesUserId: input.userId,
    enterprisePlan: input.enterprisePlan,
    enterpriseStartDate: input.enterpriseStartDate,
    notes: input.notes,
    customerEmail: input.customerEmail,
    handedOffAt: guard.at,
    viewId: input.viewId,
  };
  const set = Object.fromEntries(
    Object.entries(m)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [`migration.${k}`, v]),
  );
  const line = {
    at: guard.at,
    actor: `slack:${input.userId}`,
    action: 'handed_off',
    note: `Handed off to billing: ${input.enterprisePlan} from ${input.enterpriseStartDate}`,
  };
  const updated = await deps.models.Ticket.findOneAndUpdate(
    { _id: guard.ref },
    { $set: { ...set, accountId: input.accountId }, $addToSet: { history: line } },
    { returnDocument: 'after' },
  ).lean<Ticket>();
  if (!updated) throw new AppError('not_found', `There is no ticket ${guard.ref}.`);
  await deps.outbox.enqueue({
    key: `ticket-card:${guard.ref}:handed_off:${input.viewId}`,
    channel: 'slack',
    kind: 'update',
    payload: { type: 'ticket_card', ref: guard.ref },
    ticketRef: guard.ref,
  });
  return updated;
}

/** The migration as billing may act on it, or a refusal saying why not. */
function billable(ticket: Ticket): NonNullable<Ticket['migration']> & { enterpriseStartDate: string } {
  const m = ticket.migration;
  if (ticket.status === 'closed') throw new AppError('conflict', `${ticket.ref} is closed; nothing was changed.`);
  if (!m || m.stage === 'requested' || !m.enterpriseStartDate)
    throw new AppError('conflict', `${ticket.ref} has no handoff from sales yet; nothing was changed.`);
  if (m.c4sCancelledAt)
    throw new AppError('conflict', `The C4S plan on ${ticket.ref} was already cancelled; nothing was changed.`);
  if (m.stage === 'completed')
    throw new AppError('conflict', `The migration on ${ticket.ref} is completed; nothing was changed.`);
  return m as NonNullable<Ticket['migration']> & { enterpriseStartDate: string };
}

/**
 * Confirm & schedule: the C4S plan's cancellation at 00:00 TZ_BILLING on the day before the
 * Enterprise start, as a persistent due row (an earlier one for the ticket is replaced). The row is
 * written before the ticket, so a crash in between leaves a row the ticket does not name, which
 * its run skips; pressing again repairs it. A time already past is refused and changes nothing.
 */
async function confirm(deps: MigrationDeps, ticket: Ticket, userId: string): Promise<string> {
  const m = billable(ticket);
  const jobs = requireJobs(deps);
  const now = deps.now();
  const cancelAt = c4sCancellationAt(m.enterpriseStartDate, deps.timeZone);
  const when = c4sCancellationText(cancelAt, m.enterpriseStartDate, deps.timeZone);
  if (cancelAt.getTime() <= now.getTime()) {
    throw new AppError(
      'rule_refused',
      `Not scheduled: the C4S plan would be cancelled at ${when}, and that time has already passed. Ask sales to correct the start date on ${ticket.ref}; nothing was changed.`,
    );
  }
  await jobs.schedule(ticket.ref, cancelAt);
  const again = !!m.cancelAt;
  const updated = await recordBillingStep(
    deps,
    ticket.ref,
    { 'migration.stage': advance(m.stage, 'scheduled'), 'migration.cancelAt': cancelAt },
    {},
    {
      at: now,
      actor: `slack:${userId}`,
      action: 'scheduled',
      note: `C4S plan cancellation scheduled for ${when}${again ? ', replacing the earlier time' : ''}`,
    },
  );
  // One email per schedule: a re-confirmation with the same time does not write again.
  const mail = migrationScheduledMail({
    ...mailContext(updated, deps.links),
    c4sCancelAt: cancelAt,
    timeZone: deps.timeZone,
  });
  const sent = await emailMigrationCustomer(deps, updated, `scheduled:${cancelAt.getTime()}`, mail);
  deps.log.info(
    {
      event: 'migration.scheduled',
      ref: ticket.ref,
      cancelAt: cancelAt.toISOString(),
      actor: userId,
      emailed: sent.startsWith('emailed'),
    },
    'C4S cancellation scheduled',
  );
  return `Scheduled: ${ticket.ref}'s C4S plan is cancelled at ${when}.${again ? ' This replaces the earlier time.' : ''} The customer was ${sent.startsWith('emailed') ? 'emailed the dates' : `not emailed (${sent})`}.`;
}

/** Withdraw: removes the scheduled cancellation; the migration is back to handed off. */
async function withdraw(deps: MigrationDeps, ticket: Ticket, userId: string): Promise<string> {
  const m = billable(ticket);
  if (!m.cancelAt) throw new AppError('conflict', `Nothing is scheduled on ${ticket.ref}; nothing was changed.`);
  if (m.stage !== 'scheduled')
    throw new AppError(
      'conflict',
      `The customer's steps on ${ticket.ref} have begun (${STAGE_LABELS[m.stage]}); confirm again to change the time instead. Nothing was changed.`,
    );
  const jobs = requireJobs(deps);
  const now = deps.now();
  await jobs.unschedule(ticket.ref);
  const was = m.cancelAt ? ` (was ${formatInstant(m.cancelAt, deps.timeZone)})` : '';
  await recordBillingStep(
    deps,
    ticket.ref,
    { 'migration.stage': 'handed_off' },
    { 'migration.cancelAt': '' },
    { at: now, actor: `slack:${userId}`, action: 'withdrawn', note: `C4S plan cancellation withdrawn${was}` },
  );
  deps.log.info({ event: 'migration.withdrawn', ref: ticket.ref, actor: userId }, 'C4S cancellation withdrawn');
  return `Withdrawn: the C4S plan cancellation on ${ticket.ref} is no longer scheduled${was}.`;
}

function requireJobs(deps: MigrationDeps): MigrationJobs {
  if (!deps.jobs)
    throw new AppError('unavailable', 'Scheduling is not available in this process; nothing was changed.');
  return deps.jobs;
}

/** Billing's buttons on the handoff card: only billing (or an admin) may press them. Returns what to tell the person. */
export async function billingAction(
  deps: MigrationDeps,
  refText: string,
  userId: string,
  verb: 'confirm' | 'withdraw',
): Promise<string> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(
    deps.models,
    userId,
    ['billing'],
    verb === 'confirm' ? `confirm ${ticket.ref}` : `withdraw ${ticket.ref}`,
  );
  return verb === 'confirm' ? confirm(deps, ticket, userId) : withdraw(deps, ticket, userId);
}
