/**
 * `/migrate/<token>`: the page, its state for the live refresh, and the customer's two actions
 * (pay by card, confirm projects). Routes only read the request and call one use case; the rules
 * live in the services. A refused link gets a plain 4xx page; a refused step a 4xx page saying
 * why, with nothing changed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenHash } from './token-hash.js';
import { isAppError, type AppError } from '../errors.js';
import { LinkRefused } from '../services/migration-links.js';
import type { WebDeps } from './app.js';
import { ProjectsForm, projectChoice, TokenParams } from './forms.js';
import { checkoutPage } from './pages/checkout.js';
import { migrationPage } from './pages/migration.js';
import { problemPage, refusalPage } from './pages/refusal.js';

const STATUS_OF: Record<AppError['code'], number> = {
  invalid_input: 400,
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  rule_refused: 409,
  unavailable: 503,
};

const sendHtml = (reply: FastifyReply, status: number, body: string) =>
  reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

export async function migrationRoutes(app: FastifyInstance, opts: { deps: WebDeps }): Promise<void> {
  const { deps } = opts;
  const { page, log } = deps;
  const windowMs = 60_000;
  // Two limits on every request. The plugin runs only the first of several `rateLimit` hooks on a
  // request, so both are made with `createRateLimit` and checked by one hook (each counts the request).
  const perLink = app.createRateLimit({
    max: deps.rateLimitPerMinute,
    timeWindow: windowMs,
    keyGenerator: (req) => `link:${tokenHash(req.params)}`,
  });
  const perAddress = app.createRateLimit({
    max: deps.rateLimitPerMinute * 2,
    timeWindow: windowMs,
    keyGenerator: (req) => `ip:${req.ip}`,
  });
  const limits = async (req: FastifyRequest, reply: FastifyReply) => {
    // One customer's polling and pressing however many addresses they come from; one address trying many tokens.
    const [link, address] = await Promise.all([perLink(req), perAddress(req)]);
    // `isAllowed` only means "on the allow list"; a counted request says `isExceeded`.
    const refused = [link, address].find((r) => !r.isAllowed && r.isExceeded);
    if (refused && !refused.isAllowed) {
      log.info(
        { event: 'web.rate_limited', route: req.routeOptions.url, by: refused === link ? 'link' : 'address' },
        'page request rate limited',
      );
      reply.header('retry-after', String(refused.ttlInSeconds));
      throw Object.assign(new Error('rate limited'), { statusCode: 429 });
    }
  };
  const base = (token: string) => `/migrate/${token}`;

  /** Runs a use case for a token; a refused link or step becomes its page. Returns undefined once answered. */
  async function guarded<T>(
    req: FastifyRequest,
    reply: FastifyReply,
    work: (token: string) => Promise<T>,
  ): Promise<T | undefined> {
    const params = TokenParams.safeParse(req.params);
    if (!params.success) {
      sendHtml(reply, 404, refusalPage('invalid'));
      return undefined;
    }
    const token = params.data.token;
    try {
      return await work(token);
    } catch (err) {
      if (err instanceof LinkRefused) {
        log.info(
          { event: 'web.link_refused', route: req.routeOptions.url, why: err.refusal.why },
          'migration link refused',
        );
        sendHtml(reply, err.refusal.status, refusalPage(err.refusal.why));
        return undefined;
      }
      if (isAppError(err) && err.operational) {
        log.info({ event: 'web.step_refused', route: req.routeOptions.url, code: err.code }, 'customer step refused');
        sendHtml(
          reply,
          STATUS_OF[err.code],
          problemPage({ title: 'That did not work', text: err.userMessage, back: base(token) }),
        );
        return undefined;
      }
      throw err;
    }
  }

  app.get('/migrate/:token', { onRequest: limits }, async (req, reply) => {
    const query = req.query as { paid?: string; cancelled?: string; confirmed?: string };
    await guarded(req, reply, async (token) => {
      const { view } = await page.open(token);
      const csrf = reply.generateCsrf({ userInfo: tokenHash(req.params) });
      const returned = query.paid !== undefined ? 'paid' : query.cancelled !== undefined ? 'cancelled' : undefined;
      sendHtml(
        reply,
        200,
        migrationPage(view, {
          base: base(token),
          csrf,
          version: page.versionOf(view),
          returned,
          confirmed: query.confirmed !== undefined,
        }),
      );
    });
    return reply;
  });

  app.get('/migrate/:token/status', { onRequest: limits }, async (req, reply) => {
    const params = TokenParams.safeParse(req.params);
    if (!params.success) return reply.code(404).header('cache-control', 'no-store').send({ ok: false });
    try {
      return await reply
        .header('cache-control', 'no-store')
        .send({ ok: true, version: await page.version(params.data.token) });
    } catch (err) {
      if (err instanceof LinkRefused)
        return reply
          .code(err.refusal.status)
          .header('cache-control', 'no-store')
          .send({ ok: false, why: err.refusal.why });
      throw err;
    }
  });

  app.post('/migrate/:token/pay', { onRequest: limits, preHandler: app.csrfProtection }, async (req, reply) => {
    const origin = deps.publicUrl ?? '';
    await guarded(req, reply, async (token) => {
      await page.pay(token, { success: `${origin}${base(token)}?paid`, cancel: `${origin}${base(token)}?cancelled` });
      reply.redirect(`${base(token)}/checkout`, 303);
    });
    return reply;
  });

  app.get('/migrate/:token/checkout', { onRequest: limits }, async (req, reply) => {
    await guarded(req, reply, async (token) => {
      const url = await page.checkoutUrl(token);
      if (!url) return void reply.redirect(base(token), 303);
      sendHtml(reply, 200, checkoutPage({ url, back: base(token) }));
    });
    return reply;
  });

  app.post('/migrate/:token/projects', { onRequest: limits, preHandler: app.csrfProtection }, async (req, reply) => {
    await guarded(req, reply, async (token) => {
      const form = ProjectsForm.safeParse(req.body ?? {});
      if (!form.success)
        return void sendHtml(
          reply,
          400,
          problemPage({
            title: 'That did not work',
            text: 'The form could not be read. Please go back and try again.',
            back: base(token),
          }),
        );
      const choice = projectChoice(form.data);
      if ('bad' in choice)
        return void sendHtml(
          reply,
          400,
          problemPage({
            title: 'That did not work',
            text: `"${choice.bad.slice(0, 64)}" is not a project name: use letters, digits, spaces, dots, dashes and underscores.`,
            back: base(token),
          }),
        );
      await page.projects(token, choice);
      reply.redirect(`${base(token)}?confirmed`, 303);
    });
    return reply;
  });
}
