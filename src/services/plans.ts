/**
 * Plan changes people ask for in `/plan` (upgrade, downgrade, add-ons, pause, reactivation,
 * cancellation, region): the preview, the request checked against the rules (domain/plan-rules.ts), and
 * cancelling or approving from Slack. Stored by plan-store.ts, applied by plan-apply.ts.
 */
import {
  decidePlanChange,
  leadDescription,
  type Decision,
  type PlanField,
  type PlanRequest,
} from '../domain/plan-rules.js';
import { CHANGE_LABELS, type ChangeType } from '../domain/plans.js';
import { PRICE_BOOK, tierLabel } from '../domain/price-book.js';
import { AppError } from '../errors.js';
import { requireRole, rolesOf } from './roles.js';
import type { Ticket } from './tickets.js';
import {
  emailCustomer,
  loadAccount,
  noteOnTicket,
  nowOf,
  pendingOf,
  storeChange,
  ticketFor,
  TICKET_KIND,
  toState,
  type PlanChange,
  type PlanDeps,
} from './plan-store.js';
import { applyChange, cancelChange } from './plan-apply.js';

export interface PlanRequestInput {
  userId: string;
  accountId: string;
  request: PlanRequest;
  /** Same key, same change: the modal's view id, or the ticket that approved a reactivation. */
  requestKey: string;
  /** The ticket the request belongs to, when known (a reactivation approved on its ticket). */
  ticketRef?: string | undefined;
}

export type Preview =
  { ok: true; decision: Exclude<Decision, { outcome: 'refused' }> } | { ok: false; field: PlanField; message: string };

async function checkRole(deps: PlanDeps, userId: string, type: PlanRequest['type']): Promise<void> {
  if (type === 'cancel') {
    if (!(await rolesOf(deps.models, userId)).includes('admin'))
      throw new AppError('forbidden', 'Only admins can cancel an account (it deletes all its projects and data).', {
        field: 'change_type',
      });
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
  const ticket = ref
    ? await deps.models.Ticket.findById(ref).lean<Ticket>()
    : await deps.models.Ticket.findOne({ accountId, kind: 'reactivation', status: { $ne: 'closed' } })
        .sort({ number: -1 })
        .lean<Ticket>();
  if (!ticket || ticket.kind !== 'reactivation' || ticket.accountId !== accountId) {
    throw new AppError(
      'rule_refused',
      `Reactivation goes through a support ticket: ${accountId} has no open reactivation ticket. The customer asks by email (e.g. to support@), then support approves it.`,
      { field: 'change_type' },
    );
  }
  return ticket;
}

/** What the request would do, for the modal's preview and its inline errors. Changes nothing. */
export async function previewRequest(deps: PlanDeps, input: Omit<PlanRequestInput, 'requestKey'>): Promise<Preview> {
  try {
    const { decision } = await evaluate(deps, input);
    return { ok: true, decision };
  } catch (err) {
    if (err instanceof AppError && err.operational)
      return { ok: false, field: (err.field as PlanField | undefined) ?? 'change_type', message: err.userMessage };
    throw err;
  }
}

async function evaluate(deps: PlanDeps, input: Omit<PlanRequestInput, 'requestKey'>) {
  await checkRole(deps, input.userId, input.request.type);
  const account = await loadAccount(deps, input.accountId);
  const pending = await pendingOf(deps, account._id, 'downgrade');
  const decision = decidePlanChange(toState(account), input.request, {
    now: nowOf(deps),
    timeZone: deps.timeZone,
    pendingDowngrade: pending ? { dueAt: pending.dueAt, tier: String(pending.set?.tier ?? '') } : undefined,
  });
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
  const earlier = await deps.models.PlanChange.findById(`${input.request.type}:${input.requestKey}`).lean<PlanChange>();
  if (earlier) return repeatOf(deps, earlier);
  const { account, pending, decision } = await evaluate(deps, input);
  const type = input.request.type;
  if (decision.outcome === 'lead') {
    const ticket = await ticketFor(
      deps,
      account,
      'sales',
      input.requestKey,
      input.userId,
      leadDescription(toState(account), input.request),
    );
    await noteOnTicket(deps, ticket.ref, `lead:${input.requestKey}`, {
      at: ticket.createdAt ?? nowOf(deps),
      actor: `slack:${input.userId}`,
      action: 'enterprise_lead',
      note: `${CHANGE_LABELS[type]} asked for ${account._id}: ${decision.message}`,
    });
    deps.log.info(
      { event: 'plan.enterprise_lead', accountId: account._id, type, ref: ticket.ref, actor: input.userId },
      'not self-serve: Enterprise lead for sales',
    );
    return { outcome: 'lead', message: `${decision.message} Lead: ${ticket.ref}.`, ticketRef: ticket.ref };
  }
  const ticket =
    type === 'reactivate'
      ? await reactivationTicket(deps, account._id, input.ticketRef)
      : await ticketFor(deps, account, TICKET_KIND[type], input.requestKey, input.userId);
  const changeId = `${type}:${input.requestKey}`;
  const immediate = decision.dueAt === 'now';
  const now = nowOf(deps);

  if (type === 'reactivate') {
    // The deletion must be cancelled before the account comes back; if day 60 won that race, it is too late.
    const deletion = await pendingOf(deps, account._id, 'pause_delete');
    if (
      deletion &&
      (await cancelChange(deps, deletion, `slack:${input.userId}`, `reactivated through ${ticket.ref}`)) ===
        'already_applied'
    ) {
      throw new AppError(
        'rule_refused',
        `${account._id} was deleted on day ${PRICE_BOOK.pauseDays} of its pause; it can no longer be reactivated.`,
        { field: 'change_type' },
      );
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
    await noteOnTicket(deps, ticket.ref, changeId, {
      at: now,
      actor: `slack:${input.userId}`,
      action: `plan_${type}_requested`,
      note: asked,
    });
  }
  if (decision.cancelsPendingDowngrade && pending)
    await cancelChange(
      deps,
      pending,
      `slack:${input.userId}`,
      `replaced by the upgrade to ${tierLabel(String(decision.set.tier))}`,
    );

  if (!immediate) {
    if (created) await emailCustomer(deps, change, account, 'scheduled');
    deps.log.info(
      {
        event: 'plan.scheduled',
        changeId,
        type,
        accountId: account._id,
        dueAt: change.dueAt.toISOString(),
        actor: input.userId,
      },
      'plan change scheduled',
    );
    return {
      outcome: 'scheduled',
      message: `Scheduled on ${ticket.ref}: ${decision.summary}`,
      ticketRef: ticket.ref,
      changeId,
    };
  }
  const outcome = await applyChange(deps, changeId);
  if (outcome === 'retry') {
    return {
      outcome: 'pending_billing',
      message: `Accepted on ${ticket.ref}, but the billing system did not answer; it is retried automatically and applied once billing takes it. ${decision.summary}`,
      ticketRef: ticket.ref,
      changeId,
    };
  }
  return { outcome: 'applied', message: `Done on ${ticket.ref}: ${decision.summary}`, ticketRef: ticket.ref, changeId };
}

/** A repeated request: its change is repaired where a crash may have cut it short, then reported. */
async function repeatOf(deps: PlanDeps, change: PlanChange): Promise<RequestResult> {
  const base = { ticketRef: String(change.ticketRef ?? ''), changeId: change._id };
  if (change.status === 'scheduled' && change.dueAt.getTime() > nowOf(deps).getTime() + 1000) {
    await deps.jobs.schedule(change._id, change.dueAt);
    return { ...base, outcome: 'scheduled', message: `Already scheduled on ${base.ticketRef}: ${change.summary}` };
  }
  const outcome = change.status === 'scheduled' ? await applyChange(deps, change._id) : change.status;
  if (outcome === 'retry')
    return {
      ...base,
      outcome: 'pending_billing',
      message: `Accepted on ${base.ticketRef}; waiting for the billing system. ${change.summary}`,
    };
  return {
    ...base,
    outcome: 'applied',
    message: `Already ${change.status === 'cancelled' ? 'cancelled' : 'done'} on ${base.ticketRef}: ${change.summary}`,
  };
}

/** Cancel from `/account`: only what the rules let people cancel (a scheduled downgrade). */
export async function cancelScheduled(deps: PlanDeps, changeId: string, userId: string): Promise<string> {
  await requireRole(deps.models, userId, ['support', 'billing'], 'cancel scheduled plan changes');
  const change = await deps.models.PlanChange.findById(changeId).lean<PlanChange>();
  if (!change) throw new AppError('not_found', 'That scheduled change no longer exists.');
  if (change.type !== 'downgrade') {
    const how: Partial<Record<string, string>> = {
      pause_delete: 'a paused account is kept only by a reactivation through a support ticket',
      trial_lock: 'the lock is cancelled when the billing details are completed',
    };
    throw new AppError(
      'rule_refused',
      `${CHANGE_LABELS[change.type as ChangeType]} cannot be cancelled here: ${how[change.type] ?? 'the rules do not allow it'}.`,
    );
  }
  // The history names the person; the customer is told which team, never a Slack mention.
  const roles = await rolesOf(deps.models, userId);
  const team = roles.includes('billing')
    ? 'our billing team'
    : roles.includes('support')
      ? 'our support team'
      : 'our team';
  const result = await cancelChange(
    deps,
    change,
    `slack:${userId}`,
    `cancelled by <@${userId}> before it took effect`,
    `cancelled by ${team} before it took effect`,
  );
  if (result === 'already_applied')
    throw new AppError(
      'conflict',
      `Too late: the ${CHANGE_LABELS[change.type as ChangeType].toLowerCase()} for ${change.accountId} has already been applied.`,
    );
  if (result === 'already_cancelled')
    return `The ${CHANGE_LABELS[change.type as ChangeType].toLowerCase()} for ${change.accountId} was already cancelled.`;
  return `Cancelled: ${change.summary}`;
}

/** Support approves a reactivation from its ticket card. */
export async function approveReactivation(deps: PlanDeps, ref: string, userId: string): Promise<string> {
  const ticket = await deps.models.Ticket.findById(ref).lean<Ticket>();
  if (!ticket) throw new AppError('not_found', `There is no ticket ${ref}.`);
  if (ticket.kind !== 'reactivation') throw new AppError('rule_refused', `${ref} is not a reactivation ticket.`);
  if (!ticket.accountId)
    throw new AppError(
      'rule_refused',
      `${ref} names no account; set the account on the ticket first (ask the customer for the account ID).`,
    );
  const result = await requestChange(deps, {
    userId,
    accountId: ticket.accountId,
    request: { type: 'reactivate' },
    requestKey: ref,
    ticketRef: ref,
  });
  return result.message;
}
