/**
 * `POST /webhooks/stripe`: the payment provider's results. The raw body is verified by the SDK with
 * STRIPE_WEBHOOK_SECRET (a bad or stale signature is a 400 and changes nothing); each event id is
 * claimed by a unique insert, so a retried or replayed event is handled once. A failure after the
 * claim frees it and answers 500, so the provider's retry gets another go.
 */
import type { FastifyInstance } from 'fastify';
import { PaymentSignatureError } from '../payments/index.js';
import type { WebDeps } from './app.js';

export async function stripeWebhook(app: FastifyInstance, opts: { deps: WebDeps }): Promise<void> {
  const { deps } = opts;
  // Only inside this plugin: the signature is over the exact bytes, so JSON is not parsed here.
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );
  app.post('/webhooks/stripe', async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const header = req.headers['stripe-signature'];
    let event;
    try {
      event = deps.payments.readEvent(raw, Array.isArray(header) ? header[0] : header);
    } catch (err) {
      if (!(err instanceof PaymentSignatureError)) throw err;
      deps.log.warn(
        { event: 'payments.webhook_refused', reason: err.message.slice(0, 120) },
        'payment webhook with a bad signature refused',
      );
      return reply.code(400).send({ error: 'signature' });
    }
    const outcome = await deps.page.paymentEvent(event);
    deps.log.info(
      {
        event: 'payments.webhook',
        eventId: event.eventId,
        kind: event.kind,
        ...('ref' in event ? { ref: event.ref } : {}),
        outcome,
      },
      'payment webhook handled',
    );
    return reply.send({ received: true, outcome });
  });
}
