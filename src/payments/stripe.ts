/**
 * The Stripe adapter: a Checkout Session in payment mode per attempt, created with an idempotency
 * key of its own (a retried request gets the same session), the ref and attempt in the metadata of
 * both the session and its PaymentIntent, so every webhook event names the migration it is about.
 * Webhooks are verified by the SDK over the raw body (STRIPE_WEBHOOK_SECRET).
 */
import Stripe from 'stripe';
import { REF_PATTERN } from '../domain/ticket.js';
import { PaymentSignatureError, PaymentUnavailable, type PaymentEvent, type PaymentPort } from './port.js';

export interface StripeOptions {
  secretKey: string;
  webhookSecret: string;
  /** STRIPE_API_URL: the API's base URL (tests point it at a fake on loopback). */
  apiUrl?: string | undefined;
}

function clientOptions(apiUrl: string | undefined): ConstructorParameters<typeof Stripe>[1] {
  // Our own retries are the customer's "Try again"; the SDK's would only hide an outage.
  const base = { maxNetworkRetries: 0, telemetry: false, timeout: 20_000 } as const;
  if (!apiUrl) return base;
  const url = new URL(apiUrl);
  return {
    ...base,
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    protocol: url.protocol === 'http:' ? 'http' : 'https',
  };
}

type Meta = Record<string, string> | null | undefined;

/** The ref and attempt we wrote into the metadata; undefined for events that are not ours. */
function ours(metadata: Meta): { ref: string; attempt: number } | undefined {
  const ref = metadata?.ref;
  const attempt = Number(metadata?.attempt);
  return ref && REF_PATTERN.test(ref) && Number.isInteger(attempt) && attempt > 0 ? { ref, attempt } : undefined;
}

/** Stripe's words for a decline are meant for the cardholder; keep them short and on one line. */
const reasonOf = (message: string | null | undefined, code: string | null | undefined) =>
  (message ?? code ?? 'The card payment did not go through.').replace(/\s+/g, ' ').trim().slice(0, 300);

export function createStripePayments(opts: StripeOptions): PaymentPort {
  const stripe = new Stripe(opts.secretKey, clientOptions(opts.apiUrl));

  function toEvent(event: Stripe.Event): PaymentEvent {
    switch (event.type) {
      case 'checkout.session.completed':
      case 'checkout.session.async_payment_succeeded': {
        const s = event.data.object;
        const mine = ours(s.metadata);
        // A completed session of a delayed method is not paid yet: its async_payment_* event follows.
        if (!mine || s.payment_status !== 'paid') return { kind: 'ignored', eventId: event.id, type: event.type };
        return {
          kind: 'succeeded',
          eventId: event.id,
          ...mine,
          amountCents: s.amount_total ?? undefined,
          currency: s.currency?.toUpperCase(),
        };
      }
      case 'checkout.session.async_payment_failed': {
        const mine = ours(event.data.object.metadata);
        if (!mine) return { kind: 'ignored', eventId: event.id, type: event.type };
        return { kind: 'failed', eventId: event.id, ...mine, reason: 'The bank did not complete the payment.' };
      }
      case 'payment_intent.payment_failed': {
        const pi = event.data.object;
        const mine = ours(pi.metadata);
        if (!mine) return { kind: 'ignored', eventId: event.id, type: event.type };
        return {
          kind: 'failed',
          eventId: event.id,
          ...mine,
          reason: reasonOf(
            pi.last_payment_error?.message,
            pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code,
          ),
        };
      }
      default:
        return { kind: 'ignored', eventId: event.id, type: event.type };
    }
  }

  return {
    adapter: 'stripe',
    async createCheckout(r) {
      const metadata = { ref: r.ref, attempt: String(r.attempt) };
      try {
        const session = await stripe.checkout.sessions.create(
          {
            mode: 'payment',
            customer_email: r.customerEmail,
            line_items: [
              {
                quantity: 1,
                price_data: {
                  currency: r.currency.toLowerCase(),
                  unit_amount: r.amountCents,
                  product_data: { name: r.description },
                },
              },
            ],
            metadata,
            payment_intent_data: { metadata },
            success_url: r.successUrl,
            cancel_url: r.cancelUrl,
          },
          { idempotencyKey: `migration-checkout:${r.ref}:${r.attempt}` },
        );
        if (!session.url) throw new PaymentUnavailable('Stripe returned a session without a payment page');
        return { id: session.id, url: session.url };
      } catch (err) {
        if (err instanceof PaymentUnavailable) throw err;
        throw new PaymentUnavailable(`Stripe refused or did not answer: ${(err as Error).message}`);
      }
    },
    async expireCheckout(id) {
      try {
        await stripe.checkout.sessions.expire(id);
        return 'closed';
      } catch (err) {
        // Only open sessions can be expired: ask what became of it (paid meanwhile, or expired by Stripe).
        if (!(err instanceof Stripe.errors.StripeInvalidRequestError))
          throw new PaymentUnavailable(`Stripe did not answer: ${(err as Error).message}`);
        const session = await stripe.checkout.sessions.retrieve(id).catch((e: Error) => {
          throw new PaymentUnavailable(`Stripe did not answer: ${e.message}`);
        });
        if (session.status === 'expired') return 'closed';
        if (session.status === 'complete') return 'paid';
        throw new PaymentUnavailable(`Stripe would not close checkout ${id} (${session.status ?? 'unknown'})`);
      }
    },
    readEvent(rawBody, header) {
      if (!header) throw new PaymentSignatureError('no Stripe-Signature header');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(rawBody, header, opts.webhookSecret);
      } catch (err) {
        throw new PaymentSignatureError((err as Error).message);
      }
      return toEvent(event);
    },
  };
}
