/**
 * Plan changes, how they are kept: the `plan_changes` row (its id is the request's key, so a retry is
 * the same change), the per-account slot that allows one pending change of a kind, the ticket each
 * change lives on, and the customer's emails. Exactly once: a change is applied or cancelled by
 * whoever first inserts its id into `plan_effects` (unique `_id`); see `claim`.
 */
import type { Mailbox } from '../config.js';
import { claimOnce, insertOnce } from '../db/claims.js';
import type { AccountDoc, PlanChangeDoc } from '../db/models/account.js';
import { changeAppliedMail, changeCancelledMail, changeScheduledMail } from '../domain/plan-emails.js';
import { formatInstant } from '../domain/dates.js';
import {
  CHANGE_LABELS,
  REQUESTED_CHANGES,
  type AccountState,
  type ChangeType,
  type SystemChange,
} from '../domain/plans.js';
import type { TicketKind } from '../domain/ticket.js';
import { AppError } from '../errors.js';
import type { BillingPort, PlanJobs } from './ports.js';
import { conversationIds, enqueueTicketEmail } from './email.js';
import { openTicket, type Ticket, type TicketDeps } from './tickets.js';

export interface PlanDeps extends TicketDeps {
  timeZone: string;
  domain: string;
  /** Signs the reply addresses of the customer's emails. */
  appKey: Buffer;
  billing: BillingPort;
  jobs: PlanJobs;
  /** This process's name, recorded on the guards it wins. */
  processName?: string | undefined;
}

export type PlanChange = PlanChangeDoc;
export type ApplyOutcome = 'applied' | 'already_done' | 'cancelled' | 'retry' | 'missing';

/** Changes that at most one may be pending of, per account. */
const SLOTTED: ReadonlySet<ChangeType> = new Set(['downgrade', 'pause_delete', 'trial_lock', 'trial_end']);
export const TICKET_KIND: Record<(typeof REQUESTED_CHANGES)[number], TicketKind> = {
  upgrade: 'upgrade',
  downgrade: 'downgrade',
  addon_add: 'addon',
  addon_remove: 'addon',
  pause: 'pause',
  reactivate: 'reactivation',
  cancel: 'cancellation',
  region: 'sales',
};

const slotKey = (accountId: string, type: ChangeType) => `${accountId}:${type}`;
export const nowOf = (deps: Pick<PlanDeps, 'now'>) => deps.now?.() ?? new Date();
export const isRequested = (type: string): type is (typeof REQUESTED_CHANGES)[number] =>
  (REQUESTED_CHANGES as readonly string[]).includes(type);

export function toState(doc: AccountDoc): AccountState {
  return {
    id: doc._id,
    name: doc.name,
    contactEmail: doc.contactEmail,
    plan: doc.plan as AccountState['plan'],
    tier: doc.tier,
    addons: [...(doc.addons ?? [])],
    billingPeriod: doc.billingPeriod as AccountState['billingPeriod'],
    billingAnchor: doc.billingAnchor,
    status: doc.status as AccountState['status'],
    signupDate: doc.signupDate,
    billingDetailsComplete: doc.billingDetailsComplete,
    region: doc.region,
    retentionYears: doc.retentionYears,
    pausedOn: doc.pausedOn ?? undefined,
    deletionDueAt: doc.deletionDueAt ?? undefined,
  };
}

export async function loadAccount(deps: Pick<PlanDeps, 'models'>, accountId: string): Promise<AccountDoc> {
  const doc = (await deps.models.Account.findById(accountId).lean()) as AccountDoc | null;
  if (!doc)
    throw new AppError('not_found', `There is no account ${accountId}. Check the ID (they look like R74-ZWR-R44Z).`, {
      field: 'account_id',
    });
  return doc;
}

/** The account's pending change of a slotted kind (scheduled downgrade, pause deletion…), if any. */
export async function pendingOf(
  deps: Pick<PlanDeps, 'models'>,
  accountId: string,
  type: ChangeType,
): Promise<PlanChange | null> {
  const slot = await deps.models.PlanSlot.findById(slotKey(accountId, type)).lean();
  if (!slot) return null;
  const change = (await deps.models.PlanChange.findById(slot.changeId).lean()) as PlanChange | null;
  return change?.status === 'scheduled' ? change : null;
}

// ---------------------------------------------------------------------------------------------
// Tickets and customer emails

/** The open ticket of this kind for the account (e.g. the customer's own email), else a new one. */
export async function ticketFor(
  deps: PlanDeps,
  account: AccountDoc,
  kind: TicketKind,
  requestKey: string,
  userId: string,
  description?: string,
): Promise<Ticket> {
  const open = (await deps.models.Ticket.findOne({ accountId: account._id, kind, status: { $ne: 'closed' } })
    .sort({ number: -1 })
    .lean()) as Ticket | null;
  if (open) return open;
  const { ticket } = await openTicket(deps, {
    kind,
    title: `${kind === 'sales' ? 'Enterprise lead' : CHANGE_LABEL_BY_KIND[kind]} for ${account.name} (${account._id})`,
    ...(description ? { description } : {}),
    accountId: account._id,
    source: { channel: 'slack', slackUserId: userId },
    idempotencyKey: `plan:${requestKey}`,
    actor: `slack:${userId}`,
  });
  return ticket;
}
const CHANGE_LABEL_BY_KIND: Partial<Record<TicketKind, string>> = {
  upgrade: 'MAU tier upgrade',
  downgrade: 'MAU tier downgrade',
  addon: 'Add-on change',
  pause: 'Pause',
  reactivation: 'Reactivation',
  cancellation: 'Cancellation',
};

/**
 * One history line per change and step: the line names the change, and a line already there (a
 * retry or takeover after a crash) is not added again. Only the guard's holder writes it.
 */
export async function noteOnTicket(
  deps: PlanDeps,
  ref: string | null | undefined,
  changeId: string,
  line: { at: Date; actor: string; action: string; note: string },
): Promise<void> {
  if (!ref) return;
  const tag = `(change ${changeId})`;
  const ticket = await deps.models.Ticket.findById(ref).select({ history: 1 }).lean();
  if (!ticket) return;
  if (ticket.history.some((h) => h.action === line.action && h.note?.endsWith(tag))) return;
  await deps.models.Ticket.updateOne({ _id: ref }, { $push: { history: { ...line, note: `${line.note} ${tag}` } } });
  await deps.outbox.enqueue({
    key: `ticket-card:${ref}:plan:${changeId}:${line.action}`,
    channel: 'slack',
    kind: 'update',
    payload: { type: 'ticket_card', ref },
    ticketRef: ref,
  });
}

type MailKind = 'scheduled' | 'cancelled' | 'applied';

export async function emailCustomer(
  deps: PlanDeps,
  change: PlanChange,
  account: AccountDoc,
  kind: MailKind,
  extra: { why?: string } = {},
): Promise<void> {
  if (!change.ticketRef) return;
  const ticket = (await deps.models.Ticket.findById(change.ticketRef).lean()) as Ticket | null;
  if (!ticket) return;
  const common = { ref: ticket.ref, subject: ticket.title, accountId: account._id, accountName: account.name };
  const rendered =
    kind === 'scheduled'
      ? changeScheduledMail({ ...common, summary: change.summary })
      : kind === 'cancelled'
        ? changeCancelledMail({ ...common, summary: change.summary, why: extra.why ?? 'cancelled by our team' })
        : changeAppliedMail({
            ...common,
            summary: change.summary,
            invoice:
              change.lines && change.amountCents !== undefined && change.amountCents !== null
                ? { lines: change.lines, totalCents: change.amountCents, periodEnd: change.periodEnd ?? '' }
                : undefined,
          });
  // A customer who wrote in is answered from the mailbox they wrote to; plan changes from Slack come from billing@.
  const mailbox = (
    ticket.source?.channel === 'email' && ticket.source.mailbox ? ticket.source.mailbox : 'billing'
  ) as Mailbox;
  const ids = ticket.source?.channel === 'email' ? await conversationIds(deps.models, ticket.ref) : [];
  await enqueueTicketEmail(deps, {
    key: `plan:${change._id}:${kind}`,
    ref: ticket.ref,
    mailbox,
    to: account.contactEmail,
    subject: rendered.subject,
    text: rendered.text,
    inReplyTo: ids.at(-1),
    references: ids,
    automatic: false,
  });
}

// ---------------------------------------------------------------------------------------------
// Creating, applying and cancelling changes

interface NewChange {
  _id: string;
  account: AccountDoc;
  type: ChangeType;
  dueAt: Date;
  effectiveDay: string;
  set: Record<string, unknown>;
  summary: string;
  requestedBy: string;
  ticketRef?: string | undefined;
  parentId?: string | undefined;
  reason?: string | undefined;
  proration?: { lines: { description: string; cents: number }[]; totalCents: number; periodEnd: string } | undefined;
  follows?: { type: SystemChange; dueAt: Date; day: string }[] | undefined;
}

/**
 * Stores a change (a slotted kind takes its account's slot first) and, when it is for later,
 * writes its due row. Returns the stored change; a repeat of the same id returns the first one.
 * Throws `conflict` when the slot is another change's (a second pending downgrade).
 */
export async function storeChange(
  deps: PlanDeps,
  c: NewChange,
  opts: { schedule: boolean },
): Promise<{ change: PlanChange; created: boolean }> {
  const now = nowOf(deps);
  if (SLOTTED.has(c.type)) {
    const took = await insertOnce(deps.models.PlanSlot, {
      _id: slotKey(c.account._id, c.type),
      changeId: c._id,
      at: now,
    });
    if (!took) {
      const slot = await deps.models.PlanSlot.findById(slotKey(c.account._id, c.type)).lean();
      if (slot && slot.changeId !== c._id) {
        const other = (await deps.models.PlanChange.findById(slot.changeId).lean()) as PlanChange | null;
        throw new AppError(
          'conflict',
          `A ${CHANGE_LABELS[c.type].toLowerCase()} is already pending for ${c.account._id}${other ? ` (${formatInstant(other.dueAt, deps.timeZone)})` : ''}; nothing was changed.`,
          { field: 'target_tier' },
        );
      }
    }
  }
  const doc = {
    _id: c._id,
    accountId: c.account._id,
    type: c.type,
    status: 'scheduled' as const,
    dueAt: c.dueAt,
    effectiveDay: c.effectiveDay,
    set: c.set,
    fromTier: c.account.tier,
    summary: c.summary,
    requestedBy: c.requestedBy,
    ...(c.ticketRef ? { ticketRef: c.ticketRef } : {}),
    ...(c.parentId ? { parentId: c.parentId } : {}),
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.proration
      ? { lines: c.proration.lines, amountCents: c.proration.totalCents, periodEnd: c.proration.periodEnd }
      : {}),
    ...(c.follows?.length ? { follows: c.follows.map((f) => ({ type: f.type, dueAt: f.dueAt, day: f.day })) } : {}),
  };
  const created = await insertOnce(deps.models.PlanChange, doc);
  const change = (await deps.models.PlanChange.findById(c._id).lean()) as PlanChange;
  // A repeat writes the due row again, so a crash between the insert and the row is repaired.
  if (opts.schedule && change.status === 'scheduled') await deps.jobs.schedule(c._id, change.dueAt);
  return { change, created };
}

/** Frees the account's slot of this change's kind, if this change holds it. */
export async function freeSlot(deps: PlanDeps, change: PlanChange): Promise<void> {
  if (SLOTTED.has(change.type as ChangeType))
    await deps.models.PlanSlot.deleteOne({
      _id: slotKey(change.accountId, change.type as ChangeType),
      changeId: change._id,
    });
}

/** Inserts the change's guard; returns the guard already there when another got it first. */
export async function claim(
  deps: PlanDeps,
  changeId: string,
  outcome: 'applied' | 'cancelled',
  at: Date,
): Promise<{ won: true } | { won: false; existing: { outcome: string; at: Date } | null }> {
  const got = await claimOnce(deps.models.PlanEffect, {
    _id: changeId,
    outcome,
    at,
    ...(deps.processName ? { by: deps.processName } : {}),
  });
  if (got.won) return got;
  return { won: false, existing: got.existing ? { outcome: got.existing.outcome, at: got.existing.at } : null };
}
