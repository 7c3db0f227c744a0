/**
 * Accounts as the bot knows them: created from a seed (ACCOUNTS_SEED_FILE) or by a service call,
 * shown by `/account`, and the trial's own schedule (lock on day 23 without billing details, end on
 * day 30; completing the billing details cancels the lock).
 */
import fs from 'node:fs/promises';
import { z } from 'zod';
import { insertOnce } from '../db/claims.js';
import type { AccountDoc } from '../db/models/account.js';
import { isAccountId } from '../domain/account-id.js';
import { addDays, isIsoDate } from '../domain/dates.js';
import { trialDates } from '../domain/plan-periods.js';
import { ACCOUNT_STATUSES, BILLING_PERIODS, PLANS } from '../domain/plans.js';
import { addonById, PRICE_BOOK, tierById } from '../domain/price-book.js';
import { isProjectName } from '../domain/migration-steps.js';
import { AppError } from '../errors.js';
import { requireRole } from './roles.js';
import { loadAccount, pendingOf, toState, type PlanChange, type PlanDeps } from './plan-store.js';
import { cancelChange, scheduleSystemChange } from './plan-apply.js';
import type { Ticket } from './tickets.js';

const isoDate = z.string().refine(isIsoDate, 'must be a date YYYY-MM-DD');

export const AccountInput = z
  .object({
    id: z.string().refine(isAccountId, 'must be an account ID such as R74-ZWR-R44Z'),
    name: z.string().min(1).max(200),
    contactEmail: z.email(),
    plan: z.enum(PLANS).default('startup'),
    tier: z.string(),
    addons: z.array(z.string().refine((a) => addonById(a) !== undefined, 'unknown add-on')).default([]),
    billingPeriod: z.enum(BILLING_PERIODS).default('monthly'),
    status: z.enum(ACCOUNT_STATUSES).default('trial'),
    signupDate: isoDate,
    /** Defaults to the trial's end for trials, else the signup date. */
    billingAnchor: isoDate.optional(),
    billingDetailsComplete: z.boolean().default(false),
    region: z.string().default(PRICE_BOOK.c4sRegion),
    retentionYears: z.number().int().positive().default(PRICE_BOOK.retentionYears),
    /** The account's projects, offered to the customer on the migration page. */
    projects: z
      .array(
        z.object({
          name: z.string().refine(isProjectName, 'must be a project name (letters, digits, spaces, . _ -)'),
          kind: z.enum(['live', 'test']),
        }),
      )
      .max(200)
      .default([]),
  })
  .refine((a) => (a.plan === 'enterprise' ? a.tier === 'enterprise' : tierById(a.tier) !== undefined), {
    message: 'unknown tier for the plan',
    path: ['tier'],
  });
export type AccountInput = z.input<typeof AccountInput>;

/**
 * Creates the account unless one with its ID exists (an insert: seeding again changes nothing).
 * A new trial gets its end job, and its lock job unless the billing details are complete.
 */
export async function createAccount(
  deps: PlanDeps,
  input: AccountInput,
): Promise<{ account: AccountDoc; created: boolean }> {
  const a = AccountInput.parse(input);
  const anchor = a.billingAnchor ?? (a.status === 'trial' ? addDays(a.signupDate, PRICE_BOOK.trialDays) : a.signupDate);
  const doc = {
    _id: a.id,
    name: a.name,
    contactEmail: a.contactEmail,
    plan: a.plan,
    tier: a.tier,
    addons: a.addons,
    billingPeriod: a.billingPeriod,
    billingAnchor: anchor,
    status: a.status,
    signupDate: a.signupDate,
    billingDetailsComplete: a.billingDetailsComplete,
    region: a.region,
    retentionYears: a.retentionYears,
    projects: a.projects,
  };
  const created = await insertOnce(deps.models.Account, doc);
  const account = (await deps.models.Account.findById(a.id).lean<AccountDoc>())!;
  if (created && account.status === 'trial') {
    const t = trialDates(account.signupDate, deps.timeZone);
    if (!account.billingDetailsComplete) await scheduleSystemChange(deps, account, 'trial_lock', t.lockAt, t.lockDay);
    await scheduleSystemChange(deps, account, 'trial_end', t.endAt, t.endDay);
  }
  if (created)
    deps.log.info({ event: 'account.created', accountId: a.id, status: a.status, tier: a.tier }, 'account created');
  return { account, created };
}

/** Reads a JSON array of accounts (ACCOUNTS_SEED_FILE) and creates those not yet known. */
export async function seedAccounts(deps: PlanDeps, file: string): Promise<number> {
  const rows = z.array(z.unknown()).parse(JSON.parse(await fs.readFile(file, 'utf8')));
  let created = 0;
  for (const [i, row] of rows.entries()) {
    const parsed = AccountInput.safeParse(row);
    if (!parsed.success)
      throw new Error(
        `${file}: account #${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`,
      );
    if ((await createAccount(deps, parsed.data)).created) created += 1;
  }
  return created;
}

/** Whether the bot knows the account (an `_id` lookup), for `/plan <accountId>` once its modal is open. */
export async function accountExists(deps: Pick<PlanDeps, 'models'>, accountId: string): Promise<boolean> {
  return (await deps.models.Account.exists({ _id: accountId })) !== null;
}

export interface AccountOverview {
  account: ReturnType<typeof toState> & { deletedAt?: Date | undefined };
  pending: PlanChange[];
  tickets: Ticket[];
  projects: AccountProject[];
}

/** `/account`: the account, its pending scheduled changes (soonest first) and its open tickets. */
export async function accountOverview(deps: PlanDeps, accountId: string): Promise<AccountOverview> {
  const doc = await loadAccount(deps, accountId);
  // Side by side: the answer waits for the slower of the two, not for both in turn.
  const [pending, tickets] = await Promise.all([
    deps.models.PlanChange.find({ accountId, status: 'scheduled' }).sort({ dueAt: 1 }).limit(20).lean<PlanChange[]>(),
    deps.models.Ticket.find({ accountId, status: { $ne: 'closed' } })
      .sort({ number: -1 })
      .limit(10)
      .lean<Ticket[]>(),
  ]);
  const projects = (doc.projects ?? []).map((p) => ({ name: p.name, kind: p.kind as 'live' | 'test' }));
  return { account: { ...toState(doc), deletedAt: doc.deletedAt ?? undefined }, pending, tickets, projects };
}

/** Billing records that a trial's billing details are complete: the day-23 lock is cancelled (or lifted). */
export async function completeBillingDetails(deps: PlanDeps, accountId: string, userId: string): Promise<string> {
  await requireRole(deps.models, userId, ['billing'], 'record billing details');
  const account = await loadAccount(deps, accountId);
  if (account.billingDetailsComplete) return `${accountId}'s billing details were already complete.`;
  if (account.status !== 'trial' && account.status !== 'locked')
    throw new AppError('rule_refused', `${accountId} is ${account.status}, not in a trial; nothing was changed.`);
  await deps.models.Account.updateOne({ _id: accountId }, { $set: { billingDetailsComplete: true } });
  const lock = await pendingOf(deps, accountId, 'trial_lock');
  const cancelled = lock ? await cancelChange(deps, lock, `slack:${userId}`, 'billing details completed') : undefined;
  // Already locked (day 23 passed) but the trial still running: unlock the dashboard.
  const trialRunning = (await pendingOf(deps, accountId, 'trial_end')) !== null;
  const unlocked = account.status === 'locked' && trialRunning;
  if (unlocked) await deps.models.Account.updateOne({ _id: accountId }, { $set: { status: 'trial' } });
  deps.log.info(
    {
      event: 'account.billing_details_complete',
      accountId,
      actor: userId,
      lockCancelled: cancelled === 'cancelled',
      unlocked,
    },
    'billing details complete',
  );
  return `${accountId}'s billing details are complete${cancelled === 'cancelled' ? '; the dashboard lock is cancelled' : ''}${unlocked ? '; the dashboard is unlocked' : ''}.`;
}

export interface AccountProject {
  name: string;
  kind: 'live' | 'test';
}

/** The account's projects (empty when the account is unknown): what the customer's page offers. */
export async function accountProjects(
  deps: Pick<PlanDeps, 'models'>,
  accountId: string | null | undefined,
): Promise<AccountProject[]> {
  if (!accountId) return [];
  const doc = await deps.models.Account.findById(accountId, { projects: 1 }).lean();
  return (doc?.projects ?? []).map((p) => ({ name: p.name, kind: p.kind as 'live' | 'test' }));
}

/** Billing sets the account's live and test projects (the `/account` Projects modal); a name in both lists is refused. */
export async function setAccountProjects(
  deps: PlanDeps,
  input: { accountId: string; userId: string; live: string[]; test: string[] },
): Promise<string> {
  await requireRole(deps.models, input.userId, ['billing'], "edit an account's projects");
  await loadAccount(deps, input.accountId);
  const both = input.live.filter((n) => input.test.includes(n));
  if (both.length > 0)
    throw new AppError('invalid_input', `${both[0]} is listed as both live and test.`, {
      field: 'account_test_projects',
    });
  const projects = [
    ...input.live.map((name) => ({ name, kind: 'live' as const })),
    ...input.test.map((name) => ({ name, kind: 'test' as const })),
  ];
  await deps.models.Account.updateOne({ _id: input.accountId }, { $set: { projects } });
  deps.log.info(
    {
      event: 'account.projects_set',
      accountId: input.accountId,
      actor: input.userId,
      live: input.live.length,
      test: input.test.length,
    },
    'account projects set',
  );
  return `${input.accountId}'s projects: live ${input.live.join(', ') || 'none'}; test ${input.test.join(', ') || 'none'}.`;
}
