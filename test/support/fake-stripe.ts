/**
 * A fake Stripe on loopback, as the fake Slack is for Slack: the API part answers Checkout Session
 * calls the way Stripe does (form-encoded requests, the secret key as a Bearer token, idempotency
 * keys honoured, Stripe's error shape for malformed requests) and records every call; the hosted
 * part serves a tiny Checkout page whose Pay button sends the signed webhook (signed with the SDK's
 * own `webhooks.generateTestHeaderString`) and redirects to success_url, or, when told to fail the
 * next payment, sends `payment_intent.payment_failed` and redirects to cancel_url.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export interface StripeCall {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: Record<string, unknown>;
  status: number;
}

export interface FakeSession {
  id: string;
  object: 'checkout.session';
  mode: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid';
  amount_total: number;
  currency: string;
  customer_email: string | null;
  metadata: Record<string, string>;
  success_url: string;
  cancel_url: string;
  url: string;
  payment_intent: string;
  created: number;
  pi_metadata: Record<string, string>;
}

export interface SentEvent {
  payload: string;
  header: string;
  status: number;
  body: string;
}

export interface FakeStripe {
  /** `http://127.0.0.1:PORT`, to pass as STRIPE_API_URL. */
  apiUrl: string;
  secretKey: string;
  webhookSecret: string;
  calls: StripeCall[];
  sessions: Map<string, FakeSession>;
  /** Where webhook events go (the bot's `/webhooks/stripe`). */
  deliverTo(url: string): void;
  /** The next Pay on the Checkout page fails with this message (Stripe's words for a decline). */
  failNextPayment(message?: string): void;
  /** Signs and posts an event of `type` about `object`; `timestamp` (unix seconds) ages the signature. */
  sendEvent(
    type: string,
    object: Record<string, unknown>,
    opts?: { timestamp?: number; secret?: string; id?: string },
  ): Promise<SentEvent>;
  /** Posts exactly these bytes and header again (a replay). */
  resend(sent: Pick<SentEvent, 'payload' | 'header'>): Promise<SentEvent>;
  close(): Promise<void>;
}

/** Stripe's bracket form encoding (`line_items[0][price_data][currency]=eur`) back into objects. */
function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = rawKey.split(/\[|\]\[|\]/).filter((p) => p !== '');
    let node: Record<string, unknown> = out;
    path.forEach((part, i) => {
      if (i === path.length - 1) node[part] = value;
      else node = (node[part] ??= {}) as Record<string, unknown>; // arrays arrive as `[0]`: objects keyed '0'
    });
  }
  return out;
}

const stripeError = (res: ServerResponse, status: number, type: string, message: string, param?: string) => {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_fake_${Date.now()}` });
  res.end(JSON.stringify({ error: { type, message, ...(param ? { param } : {}) } }));
};

const isUrl = (v: unknown) => {
  try {
    return typeof v === 'string' && ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
};

/** The problem Stripe would name for a Checkout Session request, or undefined when it is well formed. */
function sessionProblem(b: Record<string, unknown>): { message: string; param: string } | undefined {
  if (b.mode !== 'payment') return { message: 'Invalid mode: must be payment for this account', param: 'mode' };
  const items = b.line_items as Record<string, Record<string, unknown>> | undefined;
  const item = items?.['0'];
  const price = item?.price_data as Record<string, unknown> | undefined;
  if (!item || !price) return { message: 'Missing required param: line_items[0][price_data].', param: 'line_items' };
  if (!/^[a-z]{3}$/.test(String(price.currency)))
    return { message: 'Invalid currency.', param: 'line_items[0][price_data][currency]' };
  if (!/^[1-9]\d*$/.test(String(price.unit_amount)))
    return { message: 'Invalid integer: unit_amount.', param: 'line_items[0][price_data][unit_amount]' };
  if (!/^[1-9]\d*$/.test(String(item.quantity)))
    return { message: 'Invalid integer: quantity.', param: 'line_items[0][quantity]' };
  if (!(price.product_data as Record<string, unknown> | undefined)?.name)
    return {
      message: 'Missing required param: product_data[name].',
      param: 'line_items[0][price_data][product_data][name]',
    };
  if (!isUrl(b.success_url)) return { message: 'Not a valid URL', param: 'success_url' };
  if (!isUrl(b.cancel_url)) return { message: 'Not a valid URL', param: 'cancel_url' };
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

const escape = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export async function startFakeStripe(): Promise<FakeStripe> {
  const secretKey = 'sk_test_fake_bot';
  const webhookSecret = 'whsec_fake_bot';
  const signer = new Stripe(secretKey);
  const calls: StripeCall[] = [];
  const sessions = new Map<string, FakeSession>();
  const idempotent = new Map<string, { params: string; response: string }>();
  const failures: string[] = [];
  let webhookUrl: string | undefined;
  let counter = 0;
  let origin = '';

  async function post(payload: string, header: string): Promise<SentEvent> {
    if (!webhookUrl) throw new Error('fake Stripe: deliverTo() was not called');
    const res = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': header },
      body: payload,
    });
    return { payload, header, status: res.status, body: await res.text() };
  }

  async function sendEvent(
    type: string,
    object: Record<string, unknown>,
    opts: { timestamp?: number; secret?: string; id?: string } = {},
  ): Promise<SentEvent> {
    counter += 1;
    const event = {
      id: opts.id ?? `evt_fake_${counter}`,
      object: 'event',
      api_version: '2025-01-01',
      created: Math.floor(Date.now() / 1000),
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
      data: { object },
    };
    const payload = JSON.stringify(event);
    const header = signer.webhooks.generateTestHeaderString({
      payload,
      secret: opts.secret ?? webhookSecret,
      ...(opts.timestamp ? { timestamp: opts.timestamp } : {}),
    });
    return post(payload, header);
  }

  const sessionObject = (s: FakeSession) => {
    const { pi_metadata: _pi, ...rest } = s;
    return rest;
  };

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<number> {
    const text = await readBody(req);
    if (!/^Bearer sk_test_\w+$/.test(req.headers.authorization ?? '')) {
      stripeError(res, 401, 'invalid_request_error', 'Invalid API Key provided');
      return 401;
    }
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded' && text !== '') {
      stripeError(res, 400, 'invalid_request_error', 'Invalid request: bodies are form-encoded');
      return 400;
    }
    const body = parseForm(text);
    calls.push({
      method: req.method ?? '',
      path,
      headers: {
        'idempotency-key': req.headers['idempotency-key'] as string | undefined,
        'stripe-version': req.headers['stripe-version'] as string | undefined,
      },
      body,
      status: 0,
    });
    const record = (status: number) => (calls.at(-1)!.status = status);
    const expire = /^\/v1\/checkout\/sessions\/(cs_[\w]+)\/expire$/.exec(path);
    if (req.method === 'POST' && expire) {
      const s = sessions.get(expire[1]!);
      if (!s)
        return (
          record(404),
          stripeError(res, 404, 'invalid_request_error', `No such checkout.session: '${expire[1]}'`),
          404
        );
      if (s.status !== 'open')
        return (
          record(400),
          stripeError(
            res,
            400,
            'invalid_request_error',
            'Only Checkout Sessions with a status of open can be expired.',
          ),
          400
        );
      s.status = 'expired';
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sessionObject(s)));
      return (record(200), 200);
    }
    const read = /^\/v1\/checkout\/sessions\/(cs_[\w]+)$/.exec(path);
    if (req.method === 'GET' && read) {
      const s = sessions.get(read[1]!);
      if (!s)
        return (
          record(404),
          stripeError(res, 404, 'invalid_request_error', `No such checkout.session: '${read[1]}'`),
          404
        );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sessionObject(s)));
      return (record(200), 200);
    }
    if (req.method !== 'POST' || path !== '/v1/checkout/sessions') {
      stripeError(res, 404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${path}).`);
      return (record(404), 404);
    }
    const key = req.headers['idempotency-key'] as string | undefined;
    const prior = key ? idempotent.get(key) : undefined;
    if (prior) {
      if (prior.params !== text)
        return (
          record(400),
          stripeError(
            res,
            400,
            'idempotency_error',
            'Keys for idempotent requests can only be used with the same parameters they were first used with.',
          ),
          400
        );
      res.writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' }).end(prior.response);
      return (record(200), 200);
    }
    const problem = sessionProblem(body);
    if (problem)
      return (record(400), stripeError(res, 400, 'invalid_request_error', problem.message, problem.param), 400);
    counter += 1;
    const id = `cs_test_fake${counter}`;
    const items = body.line_items as Record<string, Record<string, Record<string, string>>>;
    const price = items['0']!.price_data!;
    const pi = (body.payment_intent_data as { metadata?: Record<string, string> } | undefined)?.metadata ?? {};
    const session: FakeSession = {
      id,
      object: 'checkout.session',
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      amount_total: Number(price.unit_amount) * Number(items['0']!.quantity),
      currency: String(price.currency),
      customer_email: (body.customer_email as string | undefined) ?? null,
      metadata: (body.metadata as Record<string, string> | undefined) ?? {},
      success_url: String(body.success_url),
      cancel_url: String(body.cancel_url),
      url: `${origin}/pay/${id}`,
      payment_intent: `pi_test_fake${counter}`,
      created: Math.floor(Date.now() / 1000),
      pi_metadata: pi,
    };
    sessions.set(id, session);
    const response = JSON.stringify(sessionObject(session));
    if (key) idempotent.set(key, { params: text, response });
    res.writeHead(200, { 'content-type': 'application/json', 'request-id': `req_fake_${counter}` }).end(response);
    return (record(200), 200);
  }

  /** The hosted Checkout page: a Pay button and a way back. */
  async function checkout(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const m = /^\/pay\/(cs_[\w]+)(\/pay)?$/.exec(path);
    const s = m ? sessions.get(m[1]!) : undefined;
    if (!s) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('no such session');
    if (req.method === 'GET' && !m![2]) {
      const amount = `${s.currency.toUpperCase()} ${(s.amount_total / 100).toFixed(2)}`;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return void res.end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake Checkout</title></head><body><main><h1>Pay ${escape(amount)}</h1>` +
          (s.status === 'open'
            ? `<form method="post" action="/pay/${s.id}/pay"><button id="fake-pay">Pay ${escape(amount)}</button></form>`
            : `<p id="fake-closed">This session is ${s.status}.</p>`) +
          `<p><a id="fake-back" href="${escape(s.cancel_url)}">Back</a></p></main></body></html>`,
      );
    }
    if (req.method === 'POST' && m![2] && s.status === 'open') {
      await readBody(req);
      const failure = failures.shift();
      if (failure !== undefined) {
        await sendEvent('payment_intent.payment_failed', {
          id: s.payment_intent,
          object: 'payment_intent',
          status: 'requires_payment_method',
          amount: s.amount_total,
          currency: s.currency,
          metadata: s.pi_metadata,
          last_payment_error: {
            type: 'card_error',
            code: 'card_declined',
            decline_code: 'generic_decline',
            message: failure,
          },
        });
        return void res.writeHead(303, { location: s.cancel_url }).end();
      }
      s.status = 'complete';
      s.payment_status = 'paid';
      await sendEvent('checkout.session.completed', sessionObject(s));
      return void res.writeHead(303, { location: s.success_url }).end();
    }
    res.writeHead(409, { 'content-type': 'text/plain' }).end(`session is ${s.status}`);
  }

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const work = path.startsWith('/v1/') ? api(req, res, path) : checkout(req, res, path);
    work.catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake Stripe failed: ${err.message}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    apiUrl: origin,
    secretKey,
    webhookSecret,
    calls,
    sessions,
    deliverTo: (url) => void (webhookUrl = url),
    failNextPayment: (message = 'Your card was declined.') => void failures.push(message),
    sendEvent,
    resend: (sent) => post(sent.payload, sent.header),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
