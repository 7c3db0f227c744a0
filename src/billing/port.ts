/**
 * The billing system port: every plan change that takes effect is applied through `apply`, once
 * per `key`. Two adapters: the MongoDB ledger (default) and a signed webhook (BILLING_WEBHOOK_URL),
 * which also writes the ledger row once the billing system has said 2xx.
 */
export const BILLING_EVENT_TYPES = [
  'upgrade',
  'downgrade',
  'addon_add',
  'addon_remove',
  'pause',
  'reactivate',
  /** Cancellation, or day 60 of a pause: the account's projects and data are deleted. */
  'delete_account',
  'trial_lock',
  'trial_end',
  'backup_purge',
  /** The migration flow: the C4S plan is cancelled at 00:00 TZ_BILLING on the day before the Enterprise start. */
  'c4s_cancel',
] as const;
export type BillingEventType = (typeof BILLING_EVENT_TYPES)[number];

export type BillingDetail = string | number | boolean | null | string[];

export interface BillingChange {
  /** Idempotency key: the same key is applied (and recorded) once, however often it is sent. */
  key: string;
  accountId: string;
  type: BillingEventType;
  at: Date;
  amountCents?: number | undefined;
  details?: Record<string, BillingDetail> | undefined;
}

export interface BillingResult {
  /** False when this key had been applied before (nothing was done again). */
  first: boolean;
  via: 'ledger' | 'webhook';
}

export interface BillingPort {
  readonly mode: 'ledger' | 'webhook';
  /** Applies the change once per key. Throws BillingUnavailable when it must be retried later. */
  apply(change: BillingChange): Promise<BillingResult>;
}

/** The billing system did not take the change (non-2xx, network error, timeout): retry later, never drop. */
export class BillingUnavailable extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'BillingUnavailable';
  }
}
