/**
 * The emails that walk a customer through a migration to Enterprise, one per step, each ending
 * with what happens next. Pure functions; subjects carry `[AR-n]` through ticketSubject.
 */
import { staffLine, ticketSubject, type RenderedMail } from './email-templates.js';
import { formatAmount } from './migration-steps.js';
import { c4sCancellationForCustomer, relationToStart } from './migration-dates.js';

export interface MigrationMailContext {
  ref: string;
  /** The conversation's subject, so the customer's client threads it with their own mail. */
  subject: string;
  customerName?: string | null | undefined;
  enterprisePlan?: string | null | undefined;
  enterpriseStartDate?: string | null | undefined;
  /**
   * The customer's migration page (`PUBLIC_URL/migrate/<token>`), where they follow the progress
   * and take their steps; absent where no PUBLIC_URL is set, and then the emails ask for replies.
   */
  link?: string | undefined;
}

function mail(ctx: MigrationMailContext, paragraphs: string[]): RenderedMail {
  const name = ctx.customerName ? staffLine(ctx.customerName) : '';
  const page = ctx.link ? [`Your migration page (progress and next steps): ${ctx.link}`, ''] : [];
  const text = [
    name ? `Hello ${name},` : 'Hello,',
    '',
    ...paragraphs.flatMap((p) => [p, '']),
    ...page,
    `Reference: ${ctx.ref}. Please keep it in the subject when you reply.`,
    '',
  ].join('\n');
  return { subject: ticketSubject(ctx.ref, ctx.subject), text };
}

/** How the customer names projects: on the page when there is one, and always by reply. */
const askProjects = (ctx: MigrationMailContext) =>
  `${ctx.link ? 'Next step: choose the projects to move on your migration page, or reply' : 'Next step: please reply'} with the projects to move, one line each for live and test, for example:\n  Live: shop-prod, api-prod\n  Test: shop-staging`;

const plan = (ctx: MigrationMailContext) =>
  ctx.enterprisePlan ? `the Enterprise plan "${staffLine(ctx.enterprisePlan)}"` : 'Enterprise';

/**
 * After billing confirms: the dates, and that the billing summary comes next. The cancellation is
 * named from the stored instant in TZ_BILLING, the moment billing scheduled.
 */
export function migrationScheduledMail(
  ctx: MigrationMailContext & { c4sCancelAt: Date; timeZone: string },
): RenderedMail {
  return mail(ctx, [
    `Your move to ${plan(ctx)} is scheduled to start on ${ctx.enterpriseStartDate ?? 'the agreed date'}. Your account, projects and data stay as they are: nothing needs to be recreated.`,
    `Your startup (C4S) plan is cancelled ${c4sCancellationForCustomer(ctx.c4sCancelAt, ctx.timeZone)}, ${relationToStart(ctx.c4sCancelAt, ctx.enterpriseStartDate, ctx.timeZone, 'your')}, so you are never billed for both.`,
    `Next step: we will send you a billing summary for your current plan${ctx.link ? '; your migration page shows it too, and how far the move has come' : ''}.`,
  ]);
}

export interface SummaryFacts {
  outcome: 'credits' | 'dues';
  amountCents?: number | undefined;
  currency?: string | undefined;
  method?: 'card' | 'emandate' | undefined;
  payNowByCard?: boolean | undefined;
}

/** Billing's summary: credits carried to the next invoice, or what is due and how to pay it. */
export function billingSummaryMail(ctx: MigrationMailContext, facts: SummaryFacts): RenderedMail {
  const amount = facts.amountCents !== undefined ? formatAmount(facts.amountCents, facts.currency ?? 'EUR') : undefined;
  if (facts.outcome === 'credits') {
    return mail(ctx, [
      'Billing summary: your current plan has no overages.',
      `${amount && facts.amountCents ? `Your remaining credit of ${amount} goes` : 'Any remaining credit goes'} to your next invoice; there is nothing to pay now.`,
      askProjects(ctx),
    ]);
  }
  const how =
    facts.method === 'emandate'
      ? facts.payNowByCard
        ? `It will be collected by your eMandate${ctx.link ? ', or you can pay it now by card on your migration page' : '; if you would rather pay now by card, reply to this email'}.`
        : 'It will be collected by your eMandate; you do not need to do anything.'
      : ctx.link
        ? 'Please pay it by card on your migration page (the button "Pay by card"); the migration goes on once the payment has gone through.'
        : 'It is paid by card; we will confirm by email once the payment has gone through.';
  return mail(ctx, [
    `Billing summary: ${amount ?? 'an amount'} is due for usage above your current plan.`,
    how,
    'Next step: once the payment has gone through we will ask you which projects to move.',
  ]);
}

/** A payment did not go through: the migration waits until it does. */
export function paymentFailedMail(ctx: MigrationMailContext, reason?: string): RenderedMail {
  return mail(ctx, [
    `The payment for your move to Enterprise did not go through${reason && staffLine(reason) ? ` (${staffLine(reason)})` : ''}.`,
    ctx.link
      ? 'The migration is on hold until it does. Please try again by card on your migration page, and reply to this email if you need help.'
      : 'The migration is on hold until it does. Please reply to this email and we will help you complete the payment.',
  ]);
}

/** The payment succeeded: ask for the projects (unless they are already confirmed). */
export function paymentSucceededMail(ctx: MigrationMailContext, projectsKnown: boolean): RenderedMail {
  return mail(ctx, [
    'Thank you: your payment has gone through.',
    projectsKnown
      ? 'We have your list of projects to move; we will write again when the migration starts.'
      : askProjects(ctx),
  ]);
}

const list = (names: string[]) => (names.length ? names.map((n) => `  - ${staffLine(n)}`).join('\n') : '  (none)');

/** The projects as confirmed, so the customer can check them. */
export function projectsConfirmedMail(
  ctx: MigrationMailContext,
  projects: { live: string[]; test: string[] },
): RenderedMail {
  return mail(ctx, [
    `These projects will move to Enterprise:\n\nLive:\n${list(projects.live)}\n\nTest:\n${list(projects.test)}`,
    'If anything is missing, reply before the start date. Next step: we start the migration and tell you when it is done.',
  ]);
}

/** `Your project has`, `Both projects have`, `All 3 projects have`: "all 2" is not English. */
function projectsHave(count: number): string {
  if (count === 1) return 'Your project has';
  if (count === 2) return 'Both projects have';
  return count > 2 ? `All ${count} projects have` : 'Your projects have';
}

/** The migration is done. */
export function migrationCompletedMail(
  ctx: MigrationMailContext,
  projects: { live: string[]; test: string[] },
): RenderedMail {
  return mail(ctx, [
    `Your account is now on ${plan(ctx)}. ${projectsHave(projects.live.length + projects.test.length)} moved, with their data and settings.`,
    'Your account team will introduce themselves shortly. Thank you for choosing Enterprise.',
  ]);
}

/**
 * Billing sent a new link ("Send a new link" on the handoff card): the earlier ones no longer work.
 * Only sent with a link, so `ctx.link` is required here.
 */
export function migrationLinkMail(ctx: MigrationMailContext & { link: string }): RenderedMail {
  return mail(ctx, [
    'Here is a new link to your migration page. The links in our earlier emails no longer work; please use this one from now on.',
  ]);
}
