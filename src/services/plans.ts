/**
 * Plan changes: what people ask for in `/plan` (upgrade, downgrade, add-ons, pause, reactivation,
 * cancellation, region) and what the rules schedule by themselves (deletion on day 60 of a pause,
 * trial lock and end, backup purge). The rules are in domain/plans.ts; this file stores changes,
 * applies them through the billing port, keeps tickets and customers informed.
 *
 * Exactly once: a change is applied or cancelled by whoever first inserts its id into
 * `plan_effects` (unique `_id`). Every later step is idempotent (billing by key, `$set`, outbox
 * rows by key, history lines by value), so a takeover after a crash repeats nothing visible.
 */
import type { Mailbox } from '../config.js';
import { insertIfAbsent, isDuplicateKey } from '../db/models.js';
import type { AccountDoc, PlanChangeDoc } from '../db/models/account.js';
import { BillingUnavailable, type BillingEventType, type BillingPort } from '../billing/port.js';
import { addDays, dayIn, localMidnight } from '../domain/dates.js';
import { changeAppliedMail, changeCancelledMail, changeScheduledMail } from '../domain/plan-emails.js';
import {
  CHANGE_LABELS,
  decide,
  describeDay,
  PRICE_BOOK,
  REQUESTED_CHANGES,
  tierLabel,
  type AccountState,
  type ChangeType,
  type Decision,
  type PlanField,
  type PlanRequest,
  type SystemChange,
} from '../domain/plans.js';
import type { TicketKind } from '../domain/ticket.js';
import { AppError } from '../errors.js';
import { formatDuration } from '../jobs/migration-cancel.js';
import type { PlanJobs } from '../jobs/plan-changes.js';
import { conversationIds, enqueueTicketEmail } from './email.js';
import { requireRole, rolesOf } from './roles.js';
import { openTicket, type Ticket, type TicketDeps } from './tickets.js';

export interface PlanDeps extends TicketDeps {
  timeZone: string;
  domain: string;
  billing: BillingPort;
  jobs: PlanJobs;
  /** This process's name, recorded on the guards it wins. */
  processName?: string | undefined;
}

export type PlanChange = PlanChangeDoc;
export type ApplyOutcome = 'applied' | 'already_done' | 'cancelled' | 'retry' | 'missing';

/** A claim older than this whose change is still not applied belongs to a process that died mid-way. */
const STALE_CLAIM_MS = 2 * 60_000;
/** Changes that at most one may be pending of, per account. */
const SLOTTED: ReadonlySet<ChangeType> = new Set(['downgrade', 'pause_delete', 'trial_lock', 'trial_end']);
const TICKET_KIND: Record<(typeof REQUESTED_CHANGES)[number], TicketKind> = {
  upgrade: 'upgrade',
  downgrade: 'downgrade',
  addon_add: 'addon',
  addon_remove: 'addon',
  pause: 'pause',
  reactivate: 'reactivation',
  cancel: 'cancellation',
  region: 'sales',
};
const BILLING_TYPE: Record<ChangeType, BillingEventType | undefined> = {
  upgrade: 'upgrade',
  downgrade: 'downgrade',
  addon_add: 'addon_add',
  addon_remove: 'addon_remove',
  pause: 'pause',
  reactivate: 'reactivate',
  cancel: 'delete_account',
  region: undefined,
  pause_delete: 'delete_account',
  trial_lock: 'trial_lock',
  trial_end: 'trial_end',
  backup_purge: 'backup_purge',
};

const slotKey = (accountId: string, type: ChangeType) => `${accountId}:${type}`;
const nowOf = (deps: Pick<PlanDeps, 'now'>) => deps.now?.() ?? new Date();
const isRequested = (type: string): type is (typeof REQUESTED_CHANGES)[number] => (REQUESTED_CHANGES as readonly string[]).includes(type);

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
  if (!doc) throw new AppError('not_found', `There is no account ${accountId}. Check the ID (they look like R74-ZWR-R44Z).`, { field: 'account_id' });
  return doc;
}

/** The account's pending change of a slotted kind (scheduled downgrade, pause deletion…), if any. */
export async function pendingOf(deps: Pick<PlanDeps, 'models'>, accountId: string, type: ChangeType): Promise<PlanChange | null> {
  const slot = await deps.models.PlanSlot.findById(slotKey(accountId, type)).lean();
  if (!slot) return null;
  const change = (await deps.models.PlanChange.findById(slot.changeId).lean()) as PlanChange | null;
  return change?.status === 'scheduled' ? change : null;
}

// ---------------------------------------------------------------------------------------------
// Tickets and customer emails

/** The open ticket of this kind for the account (e.g. the customer's own email), else a new one. */
async function ticketFor(deps: PlanDeps, account: AccountDoc, kind: TicketKind, requestKey: string, userId: string): Promise<Ticket> {
  const open = (await deps.models.Ticket.findOne({ accountId: account._id, kind, status: { $ne: 'closed' } }).sort({ number: -1 }).lean()) as Ticket | null;
  if (open) return open;
  const { ticket } = await openTicket(deps, {
    kind,
    title: `${kind === 'sales' ? 'Enterprise lead' : CHANGE_LABEL_BY_KIND[kind]} for ${account.name} (${account._id})`,
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
async function noteOnTicket(deps: PlanDeps, ref: string | null | undefined, changeId: string, line: { at: Date; actor: string; action: string; note: string }): Promise<void> {
  if (!ref) return;
  const tag = `(change ${changeId})`;
  const ticket = await deps.models.Ticket.findById(ref).select({ history: 1 }).lean();
  if (!ticket) return;
  if (ticket.history.some((h) => h.action === line.action && h.note?.endsWith(tag))) return;
  await deps.models.Ticket.updateOne({ _id: ref }, { $push: { history: { ...line, note: `${line.note} ${tag}` } } });
  await deps.outbox.enqueue({ key: `ticket-card:${ref}:plan:${changeId}:${line.action}`, channel: 'slack', payload: { type: 'ticket_card', ref }, ticketRef: ref });
}

type MailKind = 'scheduled' | 'cancelled' | 'applied';

async function emailCustomer(deps: PlanDeps, change: PlanChange, account: AccountDoc, kind: MailKind, extra: { why?: string } = {}): Promise<void> {
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
            invoice: change.lines && change.amountCents !== undefined && change.amountCents !== null ? { lines: change.lines, totalCents: change.amountCents, periodEnd: change.periodEnd ?? '' } : undefined,
          });
  // A customer who wrote in is answered from the mailbox they wrote to; plan changes from Slack come from billing@.
  const mailbox = (ticket.source?.channel === 'email' && ticket.source.mailbox ? ticket.source.mailbox : 'billing') as Mailbox;
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
 * schedules its job. Returns the stored change; a repeat of the same id returns the first one.
 * Throws `conflict` when the slot is another change's (a second pending downgrade).
 */
async function storeChange(deps: PlanDeps, c: NewChange, opts: { schedule: boolean }): Promise<{ change: PlanChange; created: boolean }> {
  const now = nowOf(deps);
  if (SLOTTED.has(c.type)) {
    const took = await insertIfAbsent(() => deps.models.PlanSlot.create({ _id: slotKey(c.account._id, c.type), changeId: c._id, at: now }));
    if (!took) {
      const slot = await deps.models.PlanSlot.findById(slotKey(c.account._id, c.type)).lean();
      if (slot && slot.changeId !== c._id) {
        const other = (await deps.models.PlanChange.findById(slot.changeId).lean()) as PlanChange | null;
        throw new AppError('conflict', `A ${CHANGE_LABELS[c.type].toLowerCase()} is already pending for ${c.account._id}${other ? ` (${describeDay(other.dueAt, deps.timeZone)})` : ''}; nothing was changed.`, { field: 'target_tier' });
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
    ...(c.proration ? { lines: c.proration.lines, amountCents: c.proration.totalCents, periodEnd: c.proration.periodEnd } : {}),
    ...(c.follows?.length ? { follows: c.follows.map((f) => ({ type: f.type, dueAt: f.dueAt, day: f.day })) } : {}),
  };
  const created = await insertIfAbsent(() => deps.models.PlanChange.create(doc));
  const change = (await deps.models.PlanChange.findById(c._id).lean()) as PlanChange;
  // A repeat re-schedules (replacing), so a crash between the insert and the job is repaired.
  if (opts.schedule && change.status === 'scheduled') await deps.jobs.schedule(c._id, c.dueAt, { replace: !created });
  return { change, created };
}

/** Frees the account's slot of this change's kind, if this change holds it. */
async function freeSlot(deps: PlanDeps, change: PlanChange): Promise<void> {
  if (SLOTTED.has(change.type as ChangeType)) await deps.models.PlanSlot.deleteOne({ _id: slotKey(change.accountId, change.type as ChangeType), changeId: change._id });
}

/** Inserts the change's guard; returns the guard already there when another got it first. */
async function claim(deps: PlanDeps, changeId: string, outcome: 'applied' | 'cancelled', at: Date): Promise<{ won: true } | { won: false; existing: { outcome: string; at: Date } | null }> {
  try {
    await deps.models.PlanEffect.create({ _id: changeId, outcome, at, ...(deps.processName ? { by: deps.processName } : {}) });
    return { won: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const existing = await deps.models.PlanEffect.findById(changeId).lean();
    return { won: false, existing: existing ? { outcome: existing.outcome, at: existing.at } : null };
  }
}

/** What the account becomes when a change is applied, with the rules that depend on its state then. */
function effectOf(change: PlanChange, account: AccountDoc, at: Date): { set: Record<string, unknown>; unset: Record<string, ''> } {
  const set = { ...((change.set ?? {}) as Record<string, unknown>) };
  const unset: Record<string, ''> = {};
  switch (change.type as ChangeType) {
    case 'reactivate':
      unset.pausedOn = '';
      unset.deletionDueAt = '';
      break;
    case 'cancel':
    case 'pause_delete':
      set.status = 'cancelled';
      set.deletedAt = at;
      break;
    case 'trial_lock':
      if (account.status === 'trial' && !account.billingDetailsComplete) set.status = 'locked';
      break;
    case 'trial_end':
      // With billing details the account becomes paying from today; without, it stays locked.
      if (account.status === 'trial' || account.status === 'locked') {
        Object.assign(set, account.billingDetailsComplete ? { status: 'active', billingAnchor: change.effectiveDay } : { status: 'locked' });
      }
      break;
    default:
      break;
  }
  return { set, unset };
}

/**
 * Applies a change once. Called at once for immediate changes and by the `plan.apply` job for
 * scheduled ones (in any process, any number of times). A billing outage frees the guard and
 * schedules a retry: the change is applied later, never lost.
 */
export async function applyChange(deps: PlanDeps, changeId: string): Promise<ApplyOutcome> {
  const log = deps.log.child({ component: 'plans' });
  const change = (await deps.models.PlanChange.findById(changeId).lean()) as PlanChange | null;
  if (!change) {
    log.warn({ event: 'plan.change_missing', changeId }, 'job for a change that does not exist; skipped');
    return 'missing';
  }
  if (change.status === 'cancelled') return 'cancelled';
  if (change.status === 'applied') return 'already_done';
  const at = nowOf(deps);
  const got = await claim(deps, changeId, 'applied', at);
  if (!got.won) {
    if (got.existing?.outcome === 'cancelled') return 'cancelled';
    const stale = got.existing && at.getTime() - got.existing.at.getTime() > STALE_CLAIM_MS;
    if (!stale) return 'already_done'; // applied, or being applied by another process right now
    log.warn({ event: 'plan.claim_taken_over', changeId }, 'resuming a change whose process stopped half-way');
  }
  const account = (await deps.models.Account.findById(change.accountId).lean()) as AccountDoc | null;
  if (!account) {
    log.error({ event: 'plan.account_missing', changeId, accountId: change.accountId }, 'account of a change is gone');
    return 'missing';
  }

  const claimedAt = got.won ? at : got.existing!.at;
  try {
    return await carryOut(deps, change, account, at, claimedAt);
  } catch (err) {
    // Billing said "later", or the database stumbled half-way: free the guard (so the retry, or a
    // cancellation meanwhile, can take it) and try again later. Every step is idempotent.
    const attempts = (change.billingAttempts ?? 0) + 1;
    const retryAt = new Date(at.getTime() + Math.min(15 * 60_000, 1000 * 2 ** Math.min(attempts, 10)));
    await deps.models.PlanEffect.deleteOne({ _id: changeId, outcome: 'applied' });
    await deps.models.PlanChange.updateOne({ _id: changeId }, { $set: { billingAttempts: attempts, lastBillingError: (err as Error).message } });
    await deps.jobs.schedule(changeId, retryAt, { replace: false });
    const event = err instanceof BillingUnavailable ? 'plan.billing_retry' : 'plan.apply_retry';
    log.warn({ event, changeId, attempts, retryAt: retryAt.toISOString(), err: (err as Error).message }, 'change not applied yet; will be retried');
    return 'retry';
  }
}

/** The steps of applying a change, each idempotent; throws to have the change retried. */
async function carryOut(deps: PlanDeps, change: PlanChange, account: AccountDoc, at: Date, claimedAt: Date): Promise<ApplyOutcome> {
  const log = deps.log.child({ component: 'plans' });
  const changeId = change._id;
  const billingType = BILLING_TYPE[change.type as ChangeType];
  if (billingType) {
    await deps.billing.apply({
      key: change._id,
      accountId: change.accountId,
      type: billingType,
      at: change.dueAt,
      amountCents: change.amountCents ?? undefined,
      details: {
        change: change.type,
        effectiveDay: change.effectiveDay,
        fromTier: change.fromTier ?? null,
        tier: typeof change.set?.tier === 'string' ? change.set.tier : null,
        addons: Array.isArray(change.set?.addons) ? (change.set.addons as string[]) : null,
        reason: change.reason ?? null,
      },
    });
  }

  const { set, unset } = effectOf(change, account, at);
  if (Object.keys(set).length + Object.keys(unset).length > 0) {
    await deps.models.Account.updateOne({ _id: account._id }, { ...(Object.keys(set).length ? { $set: set } : {}), ...(Object.keys(unset).length ? { $unset: unset } : {}) });
  }
  const lateMs = Math.max(0, at.getTime() - change.dueAt.getTime());

  // Follow-ups the rules attach (deletion on day 60 of a pause, backup purge after a deletion).
  const follows = ((change.follows ?? []) as { type: SystemChange; dueAt: Date; day: string }[]).slice();
  if (change.type === 'pause_delete') {
    const { day, dueAt } = purgeDate(deps, at);
    follows.push({ type: 'backup_purge', dueAt, day });
  }
  for (const f of follows) {
    await storeChange(
      deps,
      {
        _id: `${change._id}:${f.type}`,
        account,
        type: f.type,
        dueAt: new Date(f.dueAt),
        effectiveDay: f.day,
        set: {},
        summary: `${CHANGE_LABELS[f.type]} on ${describeDay(new Date(f.dueAt), deps.timeZone)}`,
        requestedBy: 'system',
        ticketRef: change.ticketRef ?? undefined,
        parentId: change._id,
      },
      { schedule: true },
    );
  }

  const timing = lateMs >= 1000 ? `${formatDuration(lateMs)} after its time ${change.dueAt.toISOString()}` : 'on time';
  await noteOnTicket(deps, change.ticketRef, changeId, { at: claimedAt, actor: 'system', action: `plan_${change.type}_applied`, note: `${CHANGE_LABELS[change.type as ChangeType]} applied, ${timing}: ${change.summary}` });
  const applied = { ...change, status: 'applied' } as PlanChange;
  if (isRequested(change.type) || change.type === 'pause_delete') await emailCustomer(deps, applied, account, 'applied');
  // Marked applied last: "applied" means every step above is done (a takeover redoes only idempotent steps).
  await deps.models.PlanChange.updateOne({ _id: changeId }, { $set: { status: 'applied', appliedAt: at, lateMs, ...(deps.processName ? { appliedBy: deps.processName } : {}) } });
  await freeSlot(deps, change);
  log.info({ event: 'plan.applied', changeId, type: change.type, accountId: change.accountId, lateMs, by: deps.processName }, 'plan change applied');
  return 'applied';
}

/**
 * The safety net behind the jobs: changes still scheduled well after their time (their job failed,
 * was lost, or its process died holding the guard) are applied now, late rather than never.
 */
export async function sweepOverdue(deps: PlanDeps, graceMs = 2 * 60_000): Promise<number> {
  const cutoff = new Date(nowOf(deps).getTime() - graceMs);
  const overdue = (await deps.models.PlanChange.find({ status: 'scheduled', dueAt: { $lt: cutoff } }).sort({ dueAt: 1 }).limit(200).select({ _id: 1 }).lean()) as { _id: string }[];
  let applied = 0;
  for (const { _id } of overdue) if ((await applyChange(deps, _id)) === 'applied') applied += 1;
  if (overdue.length > 0) deps.log.info({ event: 'plan.sweep', overdue: overdue.length, applied }, 'overdue plan changes swept');
  return applied;
}

/** Backups of a deleted account are purged at 00:00 TZ_BILLING on the 60th day after the deletion day: within 60 days. */
function purgeDate(deps: PlanDeps, at: Date) {
  const day = addDays(dayIn(deps.timeZone, at), PRICE_BOOK.backupPurgeDays);
  return { day, dueAt: localMidnight(day, deps.timeZone) };
}

/**
 * Cancels a pending change: its guard is taken as `cancelled`, its job removed. Returns what the
 * change had become instead when it was too late (already applied, or being applied).
 */
export async function cancelChange(deps: PlanDeps, change: PlanChange, actor: string, why: string): Promise<'cancelled' | 'already_applied' | 'already_cancelled'> {
  const at = nowOf(deps);
  const got = await claim(deps, change._id, 'cancelled', at);
  if (!got.won && got.existing?.outcome === 'applied') return 'already_applied';
  await deps.jobs.unschedule(change._id);
  await deps.models.PlanChange.updateOne({ _id: change._id }, { $set: { status: 'cancelled', cancelledAt: got.won ? at : got.existing!.at, cancelledBy: actor } });
  await freeSlot(deps, change);
  if (!got.won) return 'already_cancelled';
  await noteOnTicket(deps, change.ticketRef, change._id, { at, actor, action: `plan_${change.type}_cancelled`, note: `${CHANGE_LABELS[change.type as ChangeType]} cancelled (${why}): ${change.summary}` });
  const account = (await deps.models.Account.findById(change.accountId).lean()) as AccountDoc | null;
  if (account && (isRequested(change.type) || change.type === 'pause_delete')) await emailCustomer(deps, { ...change, status: 'cancelled' } as PlanChange, account, 'cancelled', { why });
  deps.log.info({ event: 'plan.cancelled', changeId: change._id, type: change.type, accountId: change.accountId, actor }, 'plan change cancelled');
  return 'cancelled';
}

/** Schedules a change the rules make (trial lock and end at account creation). */
export async function scheduleSystemChange(deps: PlanDeps, account: AccountDoc, type: SystemChange, dueAt: Date, day: string): Promise<PlanChange> {
  const { change } = await storeChange(
    deps,
    { _id: `${account._id}:${type}:${day}`, account, type, dueAt, effectiveDay: day, set: {}, summary: `${CHANGE_LABELS[type]} on ${describeDay(dueAt, deps.timeZone)}`, requestedBy: 'system' },
    { schedule: true },
  );
  return change;
}

// ---------------------------------------------------------------------------------------------
// What people do

export interface PlanRequestInput {
  userId: string;
  accountId: string;
  request: PlanRequest;
  /** Same key, same change: the modal's view id, or the ticket that approved a reactivation. */
  requestKey: string;
  /** The ticket the request belongs to, when known (a reactivation approved on its ticket). */
  ticketRef?: string | undefined;
}

export type Preview = { ok: true; decision: Exclude<Decision, { outcome: 'refused' }> } | { ok: false; field: PlanField; message: string };

async function checkRole(deps: PlanDeps, userId: string, type: PlanRequest['type']): Promise<void> {
  if (type === 'cancel') {
    if (!(await rolesOf(deps.models, userId)).includes('admin')) throw new AppError('forbidden', 'Only admins can cancel an account (it deletes all its projects and data).', { field: 'change_type' });
    return;
  }
  if (type === 'reactivate') {
    await requireRole(deps.models, userId, ['support'], 'approve a reactivation');
    return;
  }
  await requireRole(deps.models, userId, ['support', 'billing'], 'change plans');
}

/** Reactivation goes through a support ticket: the account's open reactivation ticket. */
async function reactivationTicket(deps: PlanDeps, accountId: string, ref: string | undefined): Promise<Ticket> {
  const ticket = (ref
    ? await deps.models.Ticket.findById(ref).lean()
    : await deps.models.Ticket.findOne({ accountId, kind: 'reactivation', status: { $ne: 'closed' } }).sort({ number: -1 }).lean()) as Ticket | null;
  if (!ticket || ticket.kind !== 'reactivation' || ticket.accountId !== accountId) {
    throw new AppError('rule_refused', `Reactivation goes through a support ticket: ${accountId} has no open reactivation ticket. The customer asks by email (e.g. to support@), then support approves it.`, { field: 'change_type' });
  }
  return ticket;
}

/** What the request would do, for the modal's preview and its inline errors. Changes nothing. */
export async function previewRequest(deps: PlanDeps, input: Omit<PlanRequestInput, 'requestKey'>): Promise<Preview> {
  try {
    const { decision } = await evaluate(deps, input);
    return { ok: true, decision };
  } catch (err) {
    if (err instanceof AppError && err.operational) return { ok: false, field: (err.field as PlanField | undefined) ?? 'change_type', message: err.userMessage };
    throw err;
  }
}

async function evaluate(deps: PlanDeps, input: Omit<PlanRequestInput, 'requestKey'>) {
  await checkRole(deps, input.userId, input.request.type);
  const account = await loadAccount(deps, input.accountId);
  const pending = await pendingOf(deps, account._id, 'downgrade');
  const decision = decide(toState(account), input.request, { now: nowOf(deps), timeZone: deps.timeZone, pendingDowngrade: pending ? { dueAt: pending.dueAt, tier: String(pending.set?.tier ?? '') } : undefined });
  if (decision.outcome === 'refused') throw new AppError('rule_refused', decision.message, { field: decision.field });
  if (input.request.type === 'reactivate') await reactivationTicket(deps, account._id, input.ticketRef);
  return { account, pending, decision };
}

export interface RequestResult {
  outcome: 'applied' | 'scheduled' | 'lead' | 'pending_billing';
  message: string;
  ticketRef: string;
  changeId?: string;
}

/**
 * Carries out a request from `/plan` (or a reactivation approved on its ticket): refused with an
 * AppError (changing nothing), passed to sales as an Enterprise lead, applied at once or scheduled.
 */
export async function requestChange(deps: PlanDeps, input: PlanRequestInput): Promise<RequestResult> {
  // The same request again (a Slack retry, a second click) is answered from the change it made.
  const earlier = (await deps.models.PlanChange.findById(`${input.request.type}:${input.requestKey}`).lean()) as PlanChange | null;
  if (earlier) return repeatOf(deps, earlier);
  const { account, pending, decision } = await evaluate(deps, input);
  const type = input.request.type;
  if (decision.outcome === 'lead') {
    const ticket = await ticketFor(deps, account, 'sales', input.requestKey, input.userId);
    await noteOnTicket(deps, ticket.ref, `lead:${input.requestKey}`, { at: ticket.createdAt ?? nowOf(deps), actor: `slack:${input.userId}`, action: 'enterprise_lead', note: `${CHANGE_LABELS[type]} asked for ${account._id}: ${decision.message}` });
    deps.log.info({ event: 'plan.enterprise_lead', accountId: account._id, type, ref: ticket.ref, actor: input.userId }, 'not self-serve: Enterprise lead for sales');
    return { outcome: 'lead', message: `${decision.message} Lead: ${ticket.ref}.`, ticketRef: ticket.ref };
  }
  const ticket = type === 'reactivate' ? await reactivationTicket(deps, account._id, input.ticketRef) : await ticketFor(deps, account, TICKET_KIND[type], input.requestKey, input.userId);
  const changeId = `${type}:${input.requestKey}`;
  const immediate = decision.dueAt === 'now';
  const now = nowOf(deps);

  if (type === 'reactivate') {
    // The deletion must be cancelled before the account comes back; if day 60 won that race, it is too late.
    const deletion = await pendingOf(deps, account._id, 'pause_delete');
    if (deletion && (await cancelChange(deps, deletion, `slack:${input.userId}`, `reactivated through ${ticket.ref}`)) === 'already_applied') {
      throw new AppError('rule_refused', `${account._id} was deleted on day ${PRICE_BOOK.pauseDays} of its pause; it can no longer be reactivated.`, { field: 'change_type' });
    }
  }
  const { change, created } = await storeChange(
    deps,
    {
      _id: changeId,
      account,
      type,
      dueAt: decision.dueAt === 'now' ? now : decision.dueAt,
      effectiveDay: decision.effectiveDay,
      set: decision.set,
      summary: decision.summary,
      requestedBy: `slack:${input.userId}`,
      ticketRef: ticket.ref,
      reason: input.request.reason,
      proration: decision.proration,
      follows: decision.follows,
    },
    { schedule: !immediate },
  );
  if (created) {
    const asked = `${CHANGE_LABELS[type]} requested in Slack: ${decision.summary}${input.request.reason ? ` Reason: ${input.request.reason}.` : ''}`;
    await noteOnTicket(deps, ticket.ref, changeId, { at: now, actor: `slack:${input.userId}`, action: `plan_${type}_requested`, note: asked });
  }
  if (decision.cancelsPendingDowngrade && pending) await cancelChange(deps, pending, `slack:${input.userId}`, `replaced by the upgrade to ${tierLabel(String(decision.set.tier))}`);

  if (!immediate) {
    if (created) await emailCustomer(deps, change, account, 'scheduled');
    deps.log.info({ event: 'plan.scheduled', changeId, type, accountId: account._id, dueAt: change.dueAt.toISOString(), actor: input.userId }, 'plan change scheduled');
    return { outcome: 'scheduled', message: `Scheduled on ${ticket.ref}: ${decision.summary}`, ticketRef: ticket.ref, changeId };
  }
  const outcome = await applyChange(deps, changeId);
  if (outcome === 'retry') {
    return { outcome: 'pending_billing', message: `Accepted on ${ticket.ref}, but the billing system did not answer; it is retried automatically and applied once billing takes it. ${decision.summary}`, ticketRef: ticket.ref, changeId };
  }
  return { outcome: 'applied', message: `Done on ${ticket.ref}: ${decision.summary}`, ticketRef: ticket.ref, changeId };
}

/** A repeated request: its change is repaired where a crash may have cut it short, then reported. */
async function repeatOf(deps: PlanDeps, change: PlanChange): Promise<RequestResult> {
  const base = { ticketRef: String(change.ticketRef ?? ''), changeId: change._id };
  if (change.status === 'scheduled' && change.dueAt.getTime() > nowOf(deps).getTime() + 1000) {
    await deps.jobs.schedule(change._id, change.dueAt, { replace: true });
    return { ...base, outcome: 'scheduled', message: `Already scheduled on ${base.ticketRef}: ${change.summary}` };
  }
  const outcome = change.status === 'scheduled' ? await applyChange(deps, change._id) : change.status;
  if (outcome === 'retry') return { ...base, outcome: 'pending_billing', message: `Accepted on ${base.ticketRef}; waiting for the billing system. ${change.summary}` };
  return { ...base, outcome: 'applied', message: `Already ${change.status === 'cancelled' ? 'cancelled' : 'done'} on ${base.ticketRef}: ${change.summary}` };
}

/** Cancel from `/account`: only what the rules let people cancel (a scheduled downgrade). */
export async function cancelScheduled(deps: PlanDeps, changeId: string, userId: string): Promise<string> {
  await requireRole(deps.models, userId, ['support', 'billing'], 'cancel scheduled plan changes');
  const change = (await deps.models.PlanChange.findById(changeId).lean()) as PlanChange | null;
  if (!change) throw new AppError('not_found', 'That scheduled change no longer exists.');
  if (change.type !== 'downgrade') {
    const how: Partial<Record<string, string>> = {
      pause_delete: 'a paused account is kept only by a reactivation through a support ticket',
      trial_lock: 'the lock is cancelled when the billing details are completed',
    };
    throw new AppError('rule_refused', `${CHANGE_LABELS[change.type as ChangeType]} cannot be cancelled here: ${how[change.type] ?? 'the rules do not allow it'}.`);
  }
  const result = await cancelChange(deps, change, `slack:${userId}`, `cancelled by <@${userId}> before it took effect`);
  if (result === 'already_applied') throw new AppError('conflict', `Too late: the ${CHANGE_LABELS[change.type as ChangeType].toLowerCase()} for ${change.accountId} has already been applied.`);
  if (result === 'already_cancelled') return `The ${CHANGE_LABELS[change.type as ChangeType].toLowerCase()} for ${change.accountId} was already cancelled.`;
  return `Cancelled: ${change.summary}`;
}

/** Support approves a reactivation from its ticket card. */
export async function approveReactivation(deps: PlanDeps, ref: string, userId: string): Promise<string> {
  const ticket = (await deps.models.Ticket.findById(ref).lean()) as Ticket | null;
  if (!ticket) throw new AppError('not_found', `There is no ticket ${ref}.`);
  if (ticket.kind !== 'reactivation') throw new AppError('rule_refused', `${ref} is not a reactivation ticket.`);
  if (!ticket.accountId) throw new AppError('rule_refused', `${ref} names no account; set the account on the ticket first (ask the customer for the account ID).`);
  const result = await requestChange(deps, { userId, accountId: ticket.accountId, request: { type: 'reactivate' }, requestKey: ref, ticketRef: ref });
  return result.message;
}

/**
 * For the migration flow: the C4S plan's cancellation through the billing port, once per key, and
 * the account marked `migrated` (when the bot knows it). Throws BillingUnavailable to be retried.
 */
export async function cancelC4sPlan(deps: PlanDeps, input: { key: string; accountId: string; at: Date; ref?: string }): Promise<{ first: boolean; via: string }> {
  const res = await deps.billing.apply({ key: input.key, accountId: input.accountId, type: 'c4s_cancel', at: input.at, details: { ref: input.ref ?? null } });
  await deps.models.Account.updateOne({ _id: input.accountId }, { $set: { status: 'migrated' } });
  return { first: res.first, via: res.via };
}
