/** The default billing adapter: the change is recorded in `billing_ledger`, keyed (and so applied) once. */
import { insertOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { BillingChange, BillingPort } from './port.js';

export function ledgerRow(change: BillingChange, via: 'ledger' | 'webhook', httpStatus?: number) {
  return {
    _id: change.key,
    accountId: change.accountId,
    type: change.type,
    at: change.at,
    details: change.details ?? {},
    via,
    ...(change.amountCents !== undefined ? { amountCents: change.amountCents } : {}),
    ...(httpStatus !== undefined ? { httpStatus } : {}),
  };
}

export function createLedgerBilling(models: Models): BillingPort {
  return {
    mode: 'ledger',
    async apply(change) {
      const first = await insertOnce(models.BillingLedger, ledgerRow(change, 'ledger'));
      return { first, via: 'ledger' };
    },
  };
}
