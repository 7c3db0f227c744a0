/**
 * The payment port: how a customer pays a migration's dues by card from their page. Two adapters:
 * `stripe` (a Checkout Session per attempt; the result comes back as a signed webhook) when
 * STRIPE_SECRET_KEY is set, and `manual`, where billing records the payment in Slack as before.
 */
export interface CheckoutRequest {
  ref: string;
  /** Counts up per ticket; with the ref it names the attempt (metadata and idempotency key). */
  attempt: number;
  amountCents: number;
  currency: string;
  customerEmail: string;
  description: string;
  successUrl: string;
  cancelUrl: string;
}

export interface Checkout {
  id: string;
  /** Where the customer pays (the provider's hosted page). */
  url: string;
}

/** What a verified webhook event means for a migration; `ignored` for events we do not act on. */
export type PaymentEvent =
  | {
      kind: 'succeeded';
      eventId: string;
      ref: string;
      attempt: number;
      amountCents: number | undefined;
      currency: string | undefined;
    }
  | { kind: 'failed'; eventId: string; ref: string; attempt: number; reason: string }
  | { kind: 'ignored'; eventId: string; type: string };

export interface PaymentPort {
  readonly adapter: 'stripe' | 'manual';
  /** Starts a card payment; the same (ref, attempt) asked again returns the same checkout. */
  createCheckout(request: CheckoutRequest): Promise<Checkout>;
  /**
   * Closes an earlier attempt's checkout so it can no longer be paid: `closed` when it is (or already
   * was) closed unpaid, `paid` when the customer paid it meanwhile (its webhook is on the way).
   */
  expireCheckout(id: string): Promise<'closed' | 'paid'>;
  /** Verifies a webhook's raw body and signature header; throws PaymentSignatureError when they do not hold. */
  readEvent(rawBody: Buffer, signatureHeader: string | undefined): PaymentEvent;
}

/** The webhook's signature did not verify (tampered, another secret, too old): answered 400, nothing changed. */
export class PaymentSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentSignatureError';
  }
}

/** The provider could not be reached or refused the request: the customer is asked to try again. */
export class PaymentUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaymentUnavailable';
  }
}
