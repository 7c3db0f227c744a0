/** Picks the payment adapter from the config: Stripe when STRIPE_SECRET_KEY is set, else manual. */
import type { Config } from '../config.js';
import { createManualPayments } from './manual.js';
import { createStripePayments } from './stripe.js';
import type { PaymentPort } from './port.js';

export type { PaymentPort, PaymentEvent, Checkout, CheckoutRequest } from './port.js';
export { PaymentSignatureError, PaymentUnavailable } from './port.js';

export function createPayments(config: Config['payments']): PaymentPort {
  return config.adapter === 'stripe' ? createStripePayments(config) : createManualPayments();
}
