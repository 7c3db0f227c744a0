/**
 * Migration to Enterprise, first step: the sales rep hands the account off to billing. The guard
 * is a `migration_handoffs` row keyed by account ID (a unique `_id` insert), so two handoffs for
 * one account cannot both win and a retried submission (same view) repeats nothing.
 */
import { isDuplicateKey } from '../db/models.js';
import type { MigrationHandoffDoc } from '../db/models/migration.js';
import { dayIn, type IsoDate } from '../domain/migration.js';
import { AppError } from '../errors.js';
import { requireRole } from './roles.js';
import { findTicket, openTicket, type Ticket, type TicketDeps } from './tickets.js';

export interface MigrationDeps extends TicketDeps {
  /** TZ_BILLING: the zone in which billing days (start dates) fall. */
  timeZone: string;
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
}

export function billingToday(deps: Pick<MigrationDeps, 'timeZone' | 'now'>): IsoDate {
  return dayIn(deps.timeZone, deps.now?.() ?? new Date());
}

const isOpenMigration = (t: Ticket | null): t is Ticket => !!t && t.kind === 'migration' && t.status !== 'closed';

function alreadyHandedOff(ref: string): AppError {
  return new AppError('conflict', `This account's migration is already handed off on ${ref}; add to that ticket instead.`, { field: 'account_id' });
}

/**
 * The guard row for the account, unless it belongs to another view whose ticket is still an open
 * migration (then the handoff is refused). A row left by a closed ticket is removed here.
 */
async function currentGuard(deps: MigrationDeps, accountId: string, viewId: string): Promise<MigrationHandoffDoc | null> {
  const guard = await deps.models.MigrationHandoff.findById(accountId).lean();
  if (!guard || guard.viewId === viewId) return guard;
  const ticket = (await deps.models.Ticket.findById(guard.ref).lean()) as Ticket | null;
  if (isOpenMigration(ticket)) throw alreadyHandedOff(guard.ref);
  await deps.models.MigrationHandoff.deleteOne({ _id: accountId, viewId: guard.viewId });
  return null;
}

/** Runs before the modal is acknowledged, so refusals show inline: the role and one `_id` lookup. */
export async function checkHandoff(deps: MigrationDeps, input: { userId: string; accountId: string; viewId: string }): Promise<void> {
  await requireRole(deps.models, input.userId, ['sales'], 'hand off a migration');
  await currentGuard(deps, input.accountId, input.viewId);
}

/** The account's open migration ticket, oldest first (e.g. one the customer opened by email). */
async function openMigrationOf(deps: MigrationDeps, accountId: string): Promise<Ticket | null> {
  return (await deps.models.Ticket.findOne({ accountId, kind: 'migration', status: { $ne: 'closed' } }).sort({ number: 1 }).lean()) as Ticket | null;
}

/** Takes the account's guard for this view; `first` is false when this view already held it (a retry). */
async function takeGuard(deps: MigrationDeps, input: HandoffInput, ref: string): Promise<{ guard: MigrationHandoffDoc; first: boolean }> {
  const row = { _id: input.accountId, ref, viewId: input.viewId, at: deps.now?.() ?? new Date() };
  try {
    await deps.models.MigrationHandoff.create(row);
    return { guard: row, first: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const winner = await deps.models.MigrationHandoff.findById(input.accountId).lean();
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
  await deps.outbox.enqueue({ key: `handoff-card:${guard.ref}:${input.viewId}`, channel: 'slack', payload: { type: 'handoff_card', ref: guard.ref }, ticketRef: guard.ref });
  if (first) deps.log.info({ event: 'migration.handed_off', ref: guard.ref, accountId: input.accountId, actor: input.userId }, 'migration handed off');
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
    handedOffAt: guard.at,
    viewId: input.viewId,
  };
  const set = Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined).map(([k, v]) => [`migration.${k}`, v]));
  const line = { at: guard.at, actor: `slack:${input.userId}`, action: 'handed_off', note: `Handed off to billing: ${input.enterprisePlan} from ${input.enterpriseStartDate}` };
  const updated = (await deps.models.Ticket.findOneAndUpdate(
    { _id: guard.ref },
    { $set: { ...set, accountId: input.accountId }, $addToSet: { history: line } },
    { returnDocument: 'after' },
  ).lean()) as Ticket | null;
  if (!updated) throw new AppError('not_found', `There is no ticket ${guard.ref}.`);
  await deps.outbox.enqueue({ key: `ticket-card:${guard.ref}:handed_off:${input.viewId}`, channel: 'slack', payload: { type: 'ticket_card', ref: guard.ref }, ticketRef: guard.ref });
  return updated;
}

/**
 * Billing's buttons on the handoff card. Only billing may press them; what they do (scheduling the
 * C4S cancellation, withdrawing) is the next slice, so for now they say so and change nothing.
 * Returns what to tell the person.
 */
export async function billingAction(deps: MigrationDeps, refText: string, userId: string, verb: 'confirm' | 'withdraw'): Promise<string> {
  const ticket = await findTicket(deps.models, refText);
  await requireRole(deps.models, userId, ['billing'], verb === 'confirm' ? `confirm ${ticket.ref}` : `withdraw ${ticket.ref}`);
  const what = verb === 'confirm' ? 'Confirm & schedule' : 'Withdraw';
  return `${what} is not built yet: nothing was scheduled or changed on ${ticket.ref}.`;
}
