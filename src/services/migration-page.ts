/**
 * The customer's migration page as use cases: what it shows (a plain view model, so the HTML is a
 * pure function of it), and what the customer may do there: pay by card, confirm projects. Every
 * action is checked here on the server with the same rules the page uses to show or hide it, and
 * lands in Slack and the history as "customer (email) did X".
 */
import { createHash } from 'node:crypto';
import { c4sCancellationForCustomer } from '../domain/migration-dates.js';
import { reached } from '../domain/migration.js';
import {
  cardPayment,
  currentStep,
  customerPayRefusal,
  customerProjectsRefusal,
  journey,
  retrying,
  type JourneyStep,
  type StepState,
} from '../domain/migration-journey.js';
import { withoutLinkTokens, type LinkClaims } from '../domain/migration-link.js';
import { blockedReason, formatAmount } from '../domain/migration-steps.js';
import { insertOnce } from '../db/claims.js';
import { AppError } from '../errors.js';
import { PaymentUnavailable, type PaymentEvent, type PaymentPort } from '../payments/index.js';
import { accountProjects, type AccountProject } from './accounts.js';
import { recordBillingStep } from './migration-record.js';
import { applyPayment, applyProjects } from './migration-steps.js';
import { generationOf, openLink, type LinkSettings } from './migration-links.js';
import type { MigrationDeps } from './migrations.js';
import type { Ticket } from './tickets.js';

export interface PageDeps extends MigrationDeps {
  payments: PaymentPort;
  linkSettings: LinkSettings;
}

/** Everything the page shows, already in words where words are needed (times in TZ_BILLING). */
export interface PageView {
  ref: string;
  customerName: string | undefined;
  enterprisePlan: string | undefined;
  enterpriseStartDate: string | undefined;
  c4sCancellation: string | undefined;
  c4sCancelled: boolean;
  timeZone: string;
  steps: { step: JourneyStep; label: string; state: StepState }[];
  current: JourneyStep;
  summary:
    | undefined
    | { outcome: 'credits'; credit: string | undefined }
    | { outcome: 'dues'; amount: string; method: 'card' | 'emandate'; card: 'required' | 'optional' | 'none' };
  payment: { status: string; reason: string | undefined; attempt: number | undefined };
  /** `stripe`: the page offers card payment; `manual`: billing confirms payments. */
  paymentAdapter: 'stripe' | 'manual';
  payRefusal: string | undefined;
  projects: {
    confirmed: { live: string[]; test: string[] } | undefined;
    offered: AccountProject[];
    refusal: string | undefined;
  };
  accountTeam: { role: string; name: string }[];
  /** Billing pressed Start: the projects are moving now (before that they wait for the start date). */
  started: boolean;
  completed: boolean;
}

const who = (claims: LinkClaims) => `customer (${claims.email})`;

export async function pageView(deps: PageDeps, ticket: Ticket): Promise<PageView> {
  const m = ticket.migration!;
  const b = m.billing;
  const amount = b?.amountCents != null ? formatAmount(b.amountCents, b.currency ?? 'EUR') : undefined;
  const summary: PageView['summary'] = !b?.outcome
    ? undefined
    : b.outcome === 'credits'
      ? { outcome: 'credits', credit: b.amountCents ? amount : undefined }
      : {
          outcome: 'dues',
          amount: amount ?? 'the amount due',
          method: b.method === 'emandate' ? 'emandate' : 'card',
          card: cardPayment(m),
        };
  const projectsRefusal = customerProjectsRefusal(m);
  const team = m.accountTeam as
    (typeof m.accountTeam & { csmName?: string; tamName?: string; kamName?: string }) | undefined;
  const accountTeam = team
    ? [
        ['Customer Success Manager', team.csmName],
        ['Technical Account Manager', team.tamName],
        ['Key Account Manager', team.kamName],
      ].flatMap(([role, name]) => (name ? [{ role: role!, name }] : []))
    : [];
  return {
    ref: ticket.ref,
    customerName: m.customerName ?? undefined,
    enterprisePlan: m.enterprisePlan ?? undefined,
    enterpriseStartDate: m.enterpriseStartDate ?? undefined,
    c4sCancellation: m.cancelAt ? c4sCancellationForCustomer(m.c4sCancelledAt ?? m.cancelAt, deps.timeZone) : undefined,
    c4sCancelled: !!m.c4sCancelledAt,
    timeZone: deps.timeZone,
    steps: journey(m),
    current: currentStep(m),
    summary,
    // Trying again after a decline: shown as a payment under way, not as the decline.
    payment: retrying(m)
      ? { status: 'pending', reason: undefined, attempt: m.checkout?.attempt ?? undefined }
      : {
          status: m.payment?.status ?? 'not recorded',
          reason: m.payment?.reason ?? undefined,
          attempt: m.checkout?.attempt ?? undefined,
        },
    paymentAdapter: deps.payments.adapter,
    payRefusal: customerPayRefusal(m, ticket.ref, deps.timeZone),
    projects: {
      confirmed: m.projects?.live?.length ? { live: m.projects.live, test: m.projects.test ?? [] } : undefined,
      // The account is read only when the form is offered: every other view (and poll) is one read.
      offered: projectsRefusal ? [] : await accountProjects(deps, m.accountId ?? ticket.accountId),
      refusal: projectsRefusal,
    },
    accountTeam,
    started: reached(m.stage, 'migrating'),
    completed: m.stage === 'completed',
  };
}

/** A short fingerprint of what the page shows: the live refresh reloads only when it changes. */
export function viewVersion(view: PageView): string {
  return createHash('sha256').update(JSON.stringify(view)).digest('base64url').slice(0, 16);
}

/**
 * Opens the page for a token; the first view of each link is told to billing once (a claim per
 * generation), so billing sees the customer has the link in hand.
 */
export async function openPage(
  deps: PageDeps,
  token: string,
): Promise<{ ticket: Ticket; claims: LinkClaims; view: PageView }> {
  const { ticket, claims } = await openLink(deps, deps.linkSettings.key, token);
  let current = ticket;
  // The marker spares every later view a write (a refused insert); the claim is what makes it once.
  const seen = (ticket.migration?.viewedGeneration ?? 0) >= claims.generation;
  if (!seen && (await claimEffect(deps, `viewed:${ticket.ref}:${claims.generation}`, ticket.ref))) {
    const at = deps.now?.() ?? new Date();
    const text = `${who(claims)} opened the migration page`;
    current = await recordBillingStep(
      deps,
      ticket.ref,
      { 'migration.lastCustomerAction': { at, text }, 'migration.viewedGeneration': claims.generation },
      {},
      { at, actor: `email:${claims.email}`, action: 'page_opened', note: `${text} (link number ${claims.generation})` },
    );
    deps.log.info(
      { event: 'migration.page_opened', ref: ticket.ref, generation: claims.generation },
      'customer opened the migration page',
    );
  }
  return { ticket: current, claims, view: await pageView(deps, current) };
}

/** The page's state for the live refresh: a token check and one `_id` read, nothing written. */
export async function pageVersion(deps: PageDeps, token: string): Promise<string> {
  const { ticket } = await openLink(deps, deps.linkSettings.key, token);
  return viewVersion(await pageView(deps, ticket));
}

async function claimEffect(deps: PageDeps, key: string, ref: string): Promise<boolean> {
  return insertOnce(deps.models.MigrationEffect, { _id: key, ref, at: deps.now?.() ?? new Date() });
}

/** Sessions older than this are not sent to again: Stripe's Checkout pages expire after 24 hours. */
const SESSION_REUSE_MS = 23 * 3_600_000;

/**
 * "Pay by card" (or "Try again" after a failure): the checkout page to send the customer to. An open
 * attempt that has not failed is reused (pressing twice never makes two payments possible); a new
 * attempt is claimed under a unique key, created with an idempotency key of its own, then written.
 */
export async function startCardPayment(
  deps: PageDeps,
  token: string,
  urls: { success: string; cancel: string },
): Promise<string> {
  const { ticket, claims } = await openLink(deps, deps.linkSettings.key, token);
  const m = ticket.migration!;
  if (deps.payments.adapter === 'manual')
    throw new AppError(
      'rule_refused',
      'Card payments are not available here: billing will confirm your payment by email.',
    );
  const refusal = customerPayRefusal(m, ticket.ref, deps.timeZone);
  if (refusal) throw new AppError('rule_refused', refusal);
  const now = deps.now?.() ?? new Date();
  const open = m.checkout;
  if (
    open?.url &&
    (m.payment?.status !== 'failed' || retrying(m)) &&
    now.getTime() - open.at.getTime() < SESSION_REUSE_MS
  )
    return open.url;
  const attempt = (open?.attempt ?? 0) + 1;
  const key = `checkout:${ticket.ref}:${attempt}`;
  if (!(await claimEffect(deps, key, ticket.ref))) {
    // Pressed twice at once: the other request is creating this attempt; send this one back to the page.
    throw new AppError('conflict', 'Your payment is being prepared; please wait a moment and press the button again.');
  }
  const amountCents = m.billing!.amountCents!;
  const currency = m.billing!.currency ?? 'EUR';
  let checkout;
  try {
    // The earlier attempt's page stays payable on the provider's side unless closed: close it first,
    // so there is never a moment with two payable pages, and if it was paid meanwhile make no other.
    if (open?.sessionId && (await deps.payments.expireCheckout(open.sessionId)) === 'paid') {
      await deps.models.MigrationEffect.deleteOne({ _id: key });
      throw new AppError(
        'conflict',
        'Your earlier payment went through; this page shows it as soon as it is confirmed.',
      );
    }
    checkout = await deps.payments.createCheckout({
      ref: ticket.ref,
      attempt,
      amountCents,
      currency,
      customerEmail: claims.email,
      description:
        `${ticket.ref}: startup plan final bill before ${m.enterprisePlan ? `Enterprise (${m.enterprisePlan})` : 'Enterprise'}`.slice(
          0,
          250,
        ),
      successUrl: urls.success,
      cancelUrl: urls.cancel,
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    // The attempt was never made: free its number so the next press tries it again.
    await deps.models.MigrationEffect.deleteOne({ _id: key });
    deps.log.warn(
      { event: 'migration.checkout_failed', ref: ticket.ref, attempt, err: withoutLinkTokens((err as Error).message) },
      'could not start a card payment',
    );
    if (err instanceof PaymentUnavailable)
      throw new AppError(
        'unavailable',
        'The payment service is not answering right now. Please try again in a minute.',
      );
    throw err;
  }
  const amount = formatAmount(amountCents, currency);
  const text = `${who(claims)} started a card payment of ${amount}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
  await recordBillingStep(
    deps,
    ticket.ref,
    {
      'migration.checkout': { attempt, sessionId: checkout.id, url: checkout.url, amountCents, currency, at: now },
      'migration.lastCustomerAction': { at: now, text },
    },
    {},
    { at: now, actor: `email:${claims.email}`, action: 'card_payment_started', note: text },
  );
  deps.log.info({ event: 'migration.checkout_started', ref: ticket.ref, attempt }, 'card payment started');
  return checkout.url;
}

/**
 * A payment provider's verified event: recorded through the same path as billing's Record payment.
 * Billing wins: a result for a payment already settled changes nothing, and a failure of an
 * attempt other than the latest is stale. Returns what happened, for the log.
 */
export async function recordPaymentEvent(deps: PageDeps, event: PaymentEvent): Promise<string> {
  if (event.kind === 'ignored') return 'ignored';
  const ticket = (await deps.models.Ticket.findById(event.ref).lean()) as Ticket | null;
  const m = ticket?.migration;
  if (!ticket || !m || ticket.kind !== 'migration') return 'unknown ticket';
  if (blockedReason(m, 'payment', ticket.ref, deps.timeZone) || ticket.status === 'closed') return 'payment not open';
  if (m.payment?.status === 'succeeded') return 'already succeeded';
  const email = m.customerEmail ?? ticket.source?.email ?? ticket.participants[0];
  const customer = { who: `customer (${email ?? 'unknown address'})` };
  if (event.kind === 'failed') {
    if (event.attempt !== (m.checkout?.attempt ?? event.attempt)) return 'stale attempt';
    const amount =
      m.checkout?.amountCents != null ? formatAmount(m.checkout.amountCents, m.checkout.currency ?? 'EUR') : undefined;
    await applyPayment(deps, ticket, m, {
      actor: 'stripe',
      requestKey: `stripe:${event.attempt}`,
      status: 'failed',
      reason: event.reason,
      customer: { ...customer, amount },
    });
    return 'failed recorded';
  }
  const amount =
    event.amountCents !== undefined
      ? formatAmount(event.amountCents, event.currency ?? m.billing?.currency ?? 'EUR')
      : undefined;
  await applyPayment(deps, ticket, m, {
    actor: 'stripe',
    requestKey: `stripe:${event.attempt}`,
    status: 'succeeded',
    customer: { ...customer, amount },
  });
  return 'succeeded recorded';
}

/**
 * The customer confirms projects on the page: at least one live, chosen from the account's projects
 * or added by name. Recorded as billing's Projects modal records them, then locked for the customer.
 */
export async function confirmPageProjects(
  deps: PageDeps,
  token: string,
  input: { live: string[]; test: string[] },
): Promise<void> {
  const { ticket, claims } = await openLink(deps, deps.linkSettings.key, token);
  const m = ticket.migration!;
  const refusal = customerProjectsRefusal(m) ?? blockedReason(m, 'projects', ticket.ref, deps.timeZone);
  if (refusal) throw new AppError('rule_refused', refusal);
  if (input.live.length === 0)
    throw new AppError('invalid_input', 'Choose at least one live project.', { field: 'live' });
  const both = input.live.filter((n) => input.test.includes(n));
  if (both.length > 0)
    throw new AppError('invalid_input', `${both[0]} is chosen as both live and test; choose one.`, { field: 'test' });
  await applyProjects(deps, ticket, m, {
    actor: `email:${claims.email}`,
    requestKey: `page:${generationOf(ticket)}`,
    live: input.live,
    test: input.test,
    customerWho: who(claims),
  });
  deps.log.info(
    { event: 'migration.page_projects', ref: ticket.ref, live: input.live.length, test: input.test.length },
    'customer confirmed projects on the page',
  );
}

/**
 * A verified webhook event, handled once per event id (a unique insert into `stripe_events`): a
 * second delivery answers "duplicate" and changes nothing. When handling fails the claim is freed,
 * so the provider's retry is handled.
 */
export async function handlePaymentEvent(deps: PageDeps, event: PaymentEvent): Promise<string> {
  const claimed = await insertOnce(deps.models.StripeEvent, {
    _id: event.eventId,
    type: event.kind === 'ignored' ? event.type : event.kind,
    ...('ref' in event ? { ref: event.ref } : {}),
    at: deps.now?.() ?? new Date(),
  });
  if (!claimed) return 'duplicate';
  try {
    return await recordPaymentEvent(deps, event);
  } catch (err) {
    await deps.models.StripeEvent.deleteOne({ _id: event.eventId }).catch(() => undefined);
    throw err;
  }
}

/** The open checkout of the latest attempt, for the hand-over page; undefined once settled or failed. */
export async function openCheckoutUrl(deps: PageDeps, token: string): Promise<string | undefined> {
  const { ticket } = await openLink(deps, deps.linkSettings.key, token);
  const m = ticket.migration!;
  if (m.payment?.status === 'succeeded' || (m.payment?.status === 'failed' && !retrying(m))) return undefined;
  return m.checkout?.url ?? undefined;
}
