/** Picks the billing adapter from the config: the webhook when BILLING_WEBHOOK_URL is set, else the ledger. */
import type { Config } from '../config.js';
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import { createLedgerBilling } from './ledger.js';
import { createWebhookBilling } from './webhook.js';
import type { BillingPort } from './port.js';

export function createBilling(config: Config['billing'], models: Models, log: Logger, now: () => Date): BillingPort {
  if (config.webhookUrl && config.webhookSecret) {
    return createWebhookBilling({ url: config.webhookUrl, secret: config.webhookSecret, models, log, now });
  }
  return createLedgerBilling(models);
}
export * from './port.js';
