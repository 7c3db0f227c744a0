/**
 * The customer's pages and the payment webhook, on Fastify: form parsing, security headers, CSRF
 * and rate limits come from its maintained plugins instead of hand-written request handling. The
 * instance never listens itself: the one HTTP server (src/http/server.ts) hands it the requests for
 * `/migrate/…` and `/webhooks/stripe`, so Slack's endpoint, health and metrics stay as they are.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { Logger } from '../logger.js';
import type { PaymentPort } from '../payments/index.js';
import type { Services } from '../services/index.js';
import { ASSETS } from './assets.js';
import { migrationRoutes } from './migration-routes.js';
import { refusalPage } from './pages/refusal.js';
import { stripeWebhook } from './stripe-webhook.js';
import { tokenHash } from './token-hash.js';
import { withoutLinkTokens } from '../domain/migration-link.js';

export interface WebDeps {
  page: Services['migrationPage'];
  payments: PaymentPort;
  log: Logger;
  /** PUBLIC_URL: Checkout's return addresses; its scheme decides whether cookies are Secure. */
  publicUrl: string | undefined;
  /** Requests per minute per link and per client address. */
  rateLimitPerMinute: number;
  /** Proxies in front of us whose X-Forwarded-For names the client (WEB_TRUSTED_PROXIES); 0: none. */
  trustedProxies?: number | undefined;
  /** Binds CSRF tokens to the link they were issued on (derived from the application key). */
  csrfKey: Buffer;
  /** More routes under `/migrate/`, with the same headers and error pages (the bench's baseline). */
  extraRoutes?: ((app: FastifyInstance) => void) | undefined;
}

export interface WebApp {
  /** The request listener for the paths `handles` accepts. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  handles(path: string): boolean;
  close(): Promise<void>;
}

const html = (reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');

/** Route patterns, never URLs: a URL holds the customer's token, which must not reach a log line. */
const routeOf = (req: { routeOptions: { url?: string | undefined } }) => req.routeOptions.url ?? 'unmatched';

export async function createWebApp(deps: WebDeps): Promise<WebApp> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // A link's token is longer than the router's default of 100 characters (it would answer 414).
    routerOptions: { maxParamLength: 500 },
    // Behind a load balancer the socket's address is the balancer's; per-address limits need the client's.
    // Trusts the nearest `trustedProxies` hops of X-Forwarded-For (what a number does in Fastify at run time).
    trustProxy: (_address: string, hop: number) => hop < (deps.trustedProxies ?? 0),
    // Fastify would otherwise want to own a server; ours is src/http/server.ts, so keep its handler.
    serverFactory: (h) => {
      handler = h;
      return http.createServer();
    },
  });
  const secure = deps.publicUrl?.startsWith('https:') ?? false;

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // The page's URL holds the token: no referrer goes anywhere, Stripe's Checkout included.
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    hsts: secure ? { maxAge: 31_536_000 } : false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(formbody);
  await app.register(cookie);
  await app.register(csrf, {
    cookieKey: 'migration_csrf',
    cookieOpts: { path: '/migrate', sameSite: 'lax', httpOnly: true, secure },
    getToken: (req) => (req.body as { _csrf?: string } | undefined)?._csrf,
    // A token made on one customer's link is worth nothing on another's.
    getUserInfo: (req) => tokenHash(req.params),
    csrfOpts: { hmacKey: deps.csrfKey.toString('base64') },
  });
  await app.register(rateLimit, {
    // No global limit: the page's routes check theirs (migration-routes.ts); the webhook is Stripe's.
    global: false,
  });

  app.setErrorHandler((err: FastifyError & { limited?: boolean }, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 429) return html(reply.code(429)).send(refusalPage('limited'));
    if (err.code === 'FST_CSRF_MISSING_SECRET' || err.code === 'FST_CSRF_INVALID_TOKEN') {
      deps.log.warn({ event: 'web.csrf_refused', route: routeOf(req) }, 'form without a valid CSRF token refused');
      return html(reply.code(403)).send(refusalPage('forbidden'));
    }
    if (status >= 400 && status < 500) return html(reply.code(status)).send(refusalPage('unreadable'));
    deps.log.error(
      { event: 'web.error', route: routeOf(req), err: withoutLinkTokens(err.message) },
      'web request failed',
    );
    return html(reply.code(500)).send(refusalPage('error'));
  });
  app.setNotFoundHandler((_req, reply) => html(reply.code(404)).send(refusalPage('notFound')));
  app.addHook('onResponse', async (req, reply) => {
    deps.log.debug(
      {
        event: 'web.request',
        method: req.method,
        route: routeOf(req),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'web request',
    );
  });

  for (const asset of Object.values(ASSETS)) {
    app.get(asset.path, async (_req, reply) =>
      reply.type(asset.type).header('cache-control', 'public, max-age=86400, immutable').send(asset.body),
    );
  }
  deps.extraRoutes?.(app);
  await app.register(migrationRoutes, { deps });
  if (deps.payments.adapter === 'stripe') await app.register(stripeWebhook, { deps });

  await app.ready();
  const listener = handler;
  if (!listener) throw new Error('Fastify did not hand over its request handler');
  return {
    handle: (req, res) => listener(req, res),
    handles: (path) => path.startsWith('/migrate/') || path === '/webhooks/stripe',
    close: () => app.close(),
  };
}
