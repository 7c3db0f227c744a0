/**
 * The webhook adapter: POSTs the change as JSON to BILLING_WEBHOOK_URL, signed with
 * HMAC-SHA256 over `<timestamp>.<body>` (header `X-Billing-Signature: t=<unix seconds>,v1=<hex>`)
 * and carrying `Idempotency-Key: <key>`, so the billing system can refuse replays and repeats.
 * A 2xx is recorded in the ledger (once); anything else is BillingUnavailable: retry later.
 */
import { createHmac } from 'node:crypto';
import { insertOnce } from '../db/claims.js';
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import { ledgerRow } from './ledger.js';
import { BillingUnavailable, type BillingChange, type BillingPort } from './port.js';

export const SIGNATURE_HEADER = 'x-billing-signature';

export function signBody(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function webhookBody(change: BillingChange): string {
  return JSON.stringify({
    id: change.key,
    type: change.type,
    accountId: change.accountId,
    occurredAt: change.at.toISOString(),
    ...(change.amountCents !== undefined ? { amountCents: change.amountCents } : {}),
    data: change.details ?? {},
  });
}

export function createWebhookBilling(opts: {
  url: string;
  secret: string;
  models: Models;
  log: Logger;
  timeoutMs?: number;
  now: () => Date;
}): BillingPort {
  const log = opts.log.child({ component: 'billing-webhook' });
  return {
    mode: 'webhook',
    async apply(change) {
      if (await opts.models.BillingLedger.exists({ _id: change.key })) return { first: false, via: 'webhook' };
      const body = webhookBody(change);
      const timestamp = Math.floor(opts.now().getTime() / 1000);
      let status: number;
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': change.key,
            [SIGNATURE_HEADER]: signBody(opts.secret, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        log.warn(
          { event: 'billing.webhook_unreachable', key: change.key, type: change.type, err: (err as Error).message },
          'billing webhook unreachable; will retry',
        );
        throw new BillingUnavailable(`billing webhook unreachable: ${(err as Error).message}`);
      }
      if (status < 200 || status >= 300) {
        log.warn(
          { event: 'billing.webhook_refused', key: change.key, type: change.type, status },
          'billing webhook answered non-2xx; will retry',
        );
        throw new BillingUnavailable(`billing webhook answered ${status}`, status);
      }
      const first = await insertOnce(opts.models.BillingLedger, ledgerRow(change, 'webhook', status));
      log.info({ event: 'billing.webhook_sent', key: change.key, type: change.type, status }, 'billing change sent');
      return { first, via: 'webhook' };
    },
  };
}
