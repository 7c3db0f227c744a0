/**
 * Accounts and plan changes as the rules see them (CONTRACT.md, "Plan changes"): the account's
 * fields and the vocabulary of changes. The rest sits beside this file: the price book in
 * price-book.ts, periods and proration in plan-periods.ts, and what a requested change does in
 * plan-rules.ts.
 */
import type { IsoDate } from './dates.js';

export const ACCOUNT_STATUSES = ['trial', 'active', 'paused', 'locked', 'cancelled', 'migrated'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const BILLING_PERIODS = ['monthly', 'yearly'] as const;
export type BillingPeriod = (typeof BILLING_PERIODS)[number];
export const PLANS = ['startup', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Changes people ask for (the `/plan` modal's choices). */
export const REQUESTED_CHANGES = [
  'upgrade',
  'downgrade',
  'addon_add',
  'addon_remove',
  'pause',
  'reactivate',
  'cancel',
  'region',
] as const;
export type RequestedChange = (typeof REQUESTED_CHANGES)[number];
/** Changes the rules schedule by themselves. */
export const SYSTEM_CHANGES = ['pause_delete', 'trial_lock', 'trial_end', 'backup_purge'] as const;
export type SystemChange = (typeof SYSTEM_CHANGES)[number];
export type ChangeType = RequestedChange | SystemChange;
export const CHANGE_TYPES: readonly ChangeType[] = [...REQUESTED_CHANGES, ...SYSTEM_CHANGES];

export const CHANGE_LABELS: Record<ChangeType, string> = {
  upgrade: 'MAU tier upgrade',
  downgrade: 'MAU tier downgrade',
  addon_add: 'Add an add-on',
  addon_remove: 'Remove an add-on',
  pause: 'Pause the account',
  reactivate: 'Reactivate a paused account',
  cancel: 'Cancel the account (delete all data)',
  region: 'Move data to another region',
  pause_delete: 'Deletion after 60 days paused',
  trial_lock: 'Dashboard lock (trial without billing details)',
  trial_end: 'End of trial',
  backup_purge: 'Backup purge after deletion',
};

/** The account as the bot knows it; `_id` in the database is `id`. */
export interface AccountState {
  id: string;
  name: string;
  contactEmail: string;
  plan: Plan;
  /** A tier id from the price book; `enterprise` for Enterprise accounts. */
  tier: string;
  addons: string[];
  billingPeriod: BillingPeriod;
  /** The first day of the first billing period; later periods renew on its day of the month. */
  billingAnchor: IsoDate;
  status: AccountStatus;
  signupDate: IsoDate;
  billingDetailsComplete: boolean;
  region: string;
  retentionYears: number;
  pausedOn?: IsoDate | undefined;
  deletionDueAt?: Date | undefined;
}
