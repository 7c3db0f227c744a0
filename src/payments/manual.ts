/**
 * No card payments online: billing confirms payments in Slack (Record payment), as before the page
 * existed. The page says so and offers no button; anything that asks for a checkout is refused.
 */
import { PaymentSignatureError, PaymentUnavailable, type PaymentPort } from './port.js';

export function createManualPayments(): PaymentPort {
  return {
    adapter: 'manual',
    createCheckout: () => Promise.reject(new PaymentUnavailable('card payments are not set up (STRIPE_SECRET_KEY)')),
    expireCheckout: () => Promise.resolve('closed' as const),
    readEvent: () => {
      throw new PaymentSignatureError('no payment provider is configured');
    },
  };
}
