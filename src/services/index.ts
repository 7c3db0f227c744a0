/**
 * The use cases, bound to their dependencies once at start. Handlers and mail adapters call these;
 * they never touch models directly.
 */
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Outbox } from './outbox.js';
import {
  changeKind,
  checkReassign,
  claimTicket,
  closeTicket,
  findTicket,
  openTicket,
  reassignTicket,
  ticketsOf,
  waitOnCustomer,
  type OpenTicketInput,
  type Ticket,
  type TicketDeps,
} from './tickets.js';
import { TEAMS, type Team } from '../config.js';
import type { Sla } from './sla.js';
import type { SlaRules } from '../domain/sla-policy.js';
import { homeQueues, teamStats, ticketsCsv } from './sla-stats.js';
import { setAway } from './assignment.js';
import { replyByEmail } from './email.js';
import type { TicketKind } from '../domain/ticket.js';
import { requireRole, requireStaff, rolesOf } from './roles.js';
import { AppError } from '../errors.js';
import {
  billingAction,
  billingToday,
  checkHandoff,
  handOff,
  type HandoffInput,
  type MigrationDeps,
} from './migrations.js';
import {
  checkPaymentFailure,
  checkStep,
  completeMigration,
  confirmProjects,
  projectsFromReply,
  recordPayment,
  recordSummary,
  startMigration,
  trustProposer,
  type AccountTeam,
  type SummaryInput,
} from './migration-steps.js';
import { migrationHome } from './migration-home.js';
import type { RecordablePayment, Step } from '../domain/migration-steps.js';
import type { BillingPort, MigrationJobs, PlanJobs } from './ports.js';
import { approveReactivation, cancelScheduled, previewRequest, requestChange, type PlanRequestInput } from './plans.js';
import { applyChange, cancelC4sPlan, sweepOverdue } from './plan-apply.js';
import { cancelC4s, type MigrationCancelDeps } from './migration-cancel.js';
import type { PlanDeps } from './plan-store.js';
import {
  accountExists,
  accountOverview,
  completeBillingDetails,
  createAccount,
  seedAccounts,
  setAccountProjects,
  type AccountInput,
} from './accounts.js';
import type { PaymentEvent, PaymentPort } from '../payments/index.js';
import { createLinkIssuer, sendNewLink, type LinkSettings } from './migration-links.js';
import {
  confirmPageProjects,
  handlePaymentEvent,
  openCheckoutUrl,
  openPage,
  pageVersion,
  startCardPayment,
  viewVersion,
  type PageDeps,
  type PageView,
} from './migration-page.js';

export function createServices(deps: {
  models: Models;
  outbox: Outbox;
  log: Logger;
  domain: string;
  /** The application key (services/app-key.ts): signs reply addresses. */
  appKey: Buffer;
  timeZone?: string;
  migrationJobs?: MigrationJobs;
  /** Plan changes: the billing port and their due work (ports.ts). */
  plans: { billing: BillingPort; jobs: PlanJobs; processName?: string | undefined };
  metrics?: Metrics;
  now: () => Date;
  /** The customer's page: its links (absent without PUBLIC_URL) and the card payment adapter. */
  page?: { links?: LinkSettings | undefined; payments: PaymentPort };
  /** Service levels: the hooks tickets and emails call, the policies, ASSIGN_<TEAM>, CSAT_<TEAM>. */
  sla?: Sla;
  slaRules?: SlaRules;
  assign?: Record<Team, 'off' | 'round-robin'>;
  csat?: Record<Team, boolean>;
  csatHooks?: { closed(ticket: Ticket): Promise<void> };
}) {
  const { now } = deps;
  /** The teams a staff member works in; an admin (or `all`) sees every team. */
  const teamsOf = async (userId: string, scope: 'mine' | 'all'): Promise<Team[] | undefined> => {
    const roles = await requireStaff(deps.models, userId, 'look at tickets');
    const teams = TEAMS.filter((t) => roles.includes(t));
    if (scope === 'all') return undefined;
    return teams.length > 0 ? teams : roles.includes('admin') ? undefined : [];
  };
  const ticketDeps: TicketDeps = deps;
  const emailDeps = { ...deps, tickets: ticketDeps };
  const links = deps.page?.links ? createLinkIssuer(deps.page.links, () => deps.now?.() ?? new Date()) : undefined;
  const payments = deps.page?.payments;
  const closeCheckout = payments?.adapter === 'stripe' ? (id: string) => payments.expireCheckout(id) : undefined;
  const migrationDeps: MigrationDeps = {
    ...deps,
    timeZone: deps.timeZone ?? 'UTC',
    jobs: deps.migrationJobs,
    links,
    closeCheckout,
  };
  const pageDeps: PageDeps | undefined = deps.page?.links
    ? { ...migrationDeps, payments: deps.page.payments, linkSettings: deps.page.links }
    : undefined;
  const needPage = (): PageDeps => {
    if (!pageDeps) throw new AppError('unavailable', 'The migration page is off: PUBLIC_URL is not set.');
    return pageDeps;
  };
  const planDeps: PlanDeps = {
    ...deps,
    timeZone: deps.timeZone ?? 'UTC',
    billing: deps.plans.billing,
    jobs: deps.plans.jobs,
    processName: deps.plans.processName,
  };
  // The C4S cancellation's billing side is the plan service's (the account is marked migrated there).
  const cancelDeps: MigrationCancelDeps | undefined = deps.migrationJobs && {
    ...deps,
    timeZone: migrationDeps.timeZone,
    jobs: deps.migrationJobs,
    processName: deps.plans.processName,
    cancelPlan: (input) => cancelC4sPlan(planDeps, input),
  };
  return {
    tickets: {
      open: (input: OpenTicketInput) => openTicket(ticketDeps, input),
      /** `/ticket AR-n`: staff only. */
      find: async (ref: string, userId: string) => {
        await requireStaff(deps.models, userId, 'look at tickets');
        return findTicket(deps.models, ref);
      },
      /** `/ticket mine` and App Home: staff only. */
      mine: async (slackUserId: string) => {
        await requireStaff(deps.models, slackUserId, 'look at tickets');
        return ticketsOf(deps.models, slackUserId);
      },
      claim: (ref: string, userId: string) => claimTicket(ticketDeps, ref, userId),
      close: (ref: string, userId: string) => closeTicket(ticketDeps, ref, userId),
      changeKind: (ref: string, userId: string, kind: TicketKind) => changeKind(ticketDeps, ref, userId, kind),
      replyByEmail: (input: { ref: string; userId: string; body: string; requestKey: string }) =>
        replyByEmail(emailDeps, input),
      waitOnCustomer: (ref: string, userId: string) => waitOnCustomer(ticketDeps, ref, userId),
      /** Before the Reassign modal's submission is acknowledged: role and new owner; throws the reason. */
      checkReassign: (ref: string, userId: string, owner: string) => checkReassign(ticketDeps, ref, userId, owner),
      reassign: (ref: string, userId: string, owner: string) => reassignTicket(ticketDeps, ref, userId, owner),
    },
    sla: {
      /** `/ticket stats [7d|30d] [team]`: staff only; `team` keeps to the caller's teams. */
      stats: async (userId: string, opts: { days: number; team: boolean }) => {
        const teams = await teamsOf(userId, opts.team ? 'mine' : 'all');
        return teamStats(deps.models, { since: new Date(now().getTime() - opts.days * 86_400_000), teams, now: now() });
      },
      /** `/ticket export 30d`: the CSV of every ticket opened in the period; staff only. */
      export: async (userId: string, days: number) => {
        await requireStaff(deps.models, userId, 'export tickets');
        return ticketsCsv(deps.models, {
          since: new Date(now().getTime() - days * 86_400_000),
          now: now(),
          timeZone: deps.timeZone ?? 'UTC',
        });
      },
      /** App Home: the viewer's overdue, due soon and waiting tickets, and their teams' unowned queues. */
      home: async (userId: string, page?: { team: Team; page: number }) => {
        const teams = (await teamsOf(userId, 'mine')) ?? [...TEAMS];
        const away = (await deps.models.Role.findById(userId).select({ away: 1 }).lean())?.away ?? false;
        return { ...(await homeQueues(deps.models, { userId, teams, now: now(), page })), away };
      },
      setAway: async (userId: string, away: boolean) => {
        await requireStaff(deps.models, userId, 'mark themselves away');
        await setAway(deps.models, userId, away);
      },
      now,
      /** A due SLA step's work (jobs/index.ts registers it). */
      runStep: async (...args: Parameters<Sla['runStep']>) => (deps.sla ? deps.sla.runStep(...args) : 'sla off'),
    },
    migrations: {
      /** TZ_BILLING, for the modal's hint. */
      timeZone: migrationDeps.timeZone,
      /** Today as a billing day (`YYYY-MM-DD` in TZ_BILLING): the earliest start date allowed. */
      today: () => billingToday(migrationDeps),
      /** The fast checks a handoff must pass before its modal is acknowledged (role, account not yet handed off). */
      checkHandoff: (input: { userId: string; accountId: string; viewId: string }) =>
        checkHandoff(migrationDeps, input),
      handOff: (input: HandoffInput) => handOff(migrationDeps, input),
      billingAction: (ref: string, userId: string, verb: 'confirm' | 'withdraw') =>
        billingAction(migrationDeps, ref, userId, verb),
      /** Role and step rules, before a modal is opened or a submission acknowledged; throws the reason. */
      checkStep: async (ref: string, userId: string, step: Step) =>
        (await checkStep(migrationDeps, ref, userId, step)).ticket,
      recordSummary: (input: SummaryInput) => recordSummary(migrationDeps, input),
      /** Before the "Payment failed" modal opens: role, step rules, not failed already; throws the reason. */
      checkPaymentFailure: (ref: string, userId: string) => checkPaymentFailure(migrationDeps, ref, userId),
      recordPayment: (input: {
        ref: string;
        userId: string;
        requestKey: string;
        status: RecordablePayment;
        reason?: string;
      }) => recordPayment(migrationDeps, input),
      confirmProjects: (input: { ref: string; userId: string; requestKey: string; live: string[]; test: string[] }) =>
        confirmProjects(migrationDeps, input),
      projectsFromReply: (ref: string, reply: { from: string; text: string; messageId: string }) =>
        projectsFromReply(migrationDeps, ref, reply),
      /** Billing trusts the address that proposed projects by email. */
      trustProposer: (input: { ref: string; userId: string }) => trustProposer(migrationDeps, input),
      start: (input: { ref: string; userId: string }) => startMigration(migrationDeps, input),
      complete: (input: { ref: string; userId: string; team: AccountTeam }) => completeMigration(migrationDeps, input),
      /** App Home: billing's queues and sales' own handoffs. */
      home: (userId: string) => migrationHome(migrationDeps, userId),
      /** The C4S cancellation's due work, when its time comes (any process, any number of times). */
      cancelC4s: (data: { ref: string; runAt: string }) => {
        if (!cancelDeps) throw new Error('the C4S cancellation needs scheduling, which this process lacks');
        return cancelC4s(cancelDeps, data);
      },
      /** Billing's "Send a new link": every earlier link of the ticket stops working. */
      sendNewLink: (input: { ref: string; userId: string }) => sendNewLink(migrationDeps, input),
      /** The customer's current page link (tests and the bench read it as the email carries it). */
      linkFor: (ticket: Ticket) => links?.linkFor(ticket),
    },
    /** The customer's migration page: every call starts from the link's token. */
    migrationPage: {
      open: (token: string) => openPage(needPage(), token),
      version: (token: string) => pageVersion(needPage(), token),
      versionOf: (view: PageView) => viewVersion(view),
      pay: (token: string, urls: { success: string; cancel: string }) => startCardPayment(needPage(), token, urls),
      checkoutUrl: (token: string) => openCheckoutUrl(needPage(), token),
      projects: (token: string, input: { live: string[]; test: string[] }) =>
        confirmPageProjects(needPage(), token, input),
      paymentEvent: (event: PaymentEvent) => handlePaymentEvent(needPage(), event),
    },
    mail: {
      /** Messages kept for review (unreadable, unprocessable), newest first; staff only. */
      awaitingReview: async (userId: string, limit = 10) => {
        await requireStaff(deps.models, userId, 'look at mail kept for review');
        const rows = await deps.models.InboundMail.find({ status: 'review' })
          .sort({ createdAt: -1 })
          .limit(limit)
          .lean();
        return rows.map((r) => ({
          id: String(r._id),
          mailbox: r.mailbox,
          reason: r.reason ?? 'unknown',
          at: r.createdAt as Date,
        }));
      },
    },
    roles: {
      of: (userId: string) => rolesOf(deps.models, userId),
    },
    plans: {
      timeZone: planDeps.timeZone,
      /** `/plan` is for support, billing and admins: throws the one-line refusal for anyone else. */
      mayChange: (userId: string) => requireRole(deps.models, userId, ['support', 'billing'], 'change plans'),
      /** What a `/plan` request would do (the modal's preview), or the refusal; changes nothing. */
      preview: (input: Omit<PlanRequestInput, 'requestKey'>) => previewRequest(planDeps, input),
      request: (input: PlanRequestInput) => requestChange(planDeps, input),
      cancelScheduled: (changeId: string, userId: string) => cancelScheduled(planDeps, changeId, userId),
      approveReactivation: (ref: string, userId: string) => approveReactivation(planDeps, ref, userId),
      /** A due change's work (exposed so tests can run it as several processes would). */
      apply: (changeId: string) => applyChange(planDeps, changeId),
      /** The `plan.sweep` job's work: overdue changes that lost their due row get it back. */
      sweep: () => sweepOverdue(planDeps),
      /** For the migration flow: cancels the C4S plan through the billing port, once per key. */
      cancelC4sPlan: (input: { key: string; accountId: string; at: Date; ref?: string }) =>
        cancelC4sPlan(planDeps, input),
    },
    accounts: {
      create: (input: AccountInput) => createAccount(planDeps, input),
      seed: (file: string) => seedAccounts(planDeps, file),
      /** `/account`: staff only. */
      overview: async (accountId: string, userId: string) => {
        await requireStaff(deps.models, userId, 'look at accounts');
        return accountOverview(planDeps, accountId);
      },
      exists: (accountId: string) => accountExists(planDeps, accountId),
      completeBillingDetails: (accountId: string, userId: string) =>
        completeBillingDetails(planDeps, accountId, userId),
      /** Billing edits the account's projects (the `/account` Projects modal). */
      setProjects: (input: { accountId: string; userId: string; live: string[]; test: string[] }) =>
        setAccountProjects(planDeps, input),
      /** Before the Projects modal opens: billing only; throws the one-line refusal. */
      mayEditProjects: (userId: string) => requireRole(deps.models, userId, ['billing'], "edit an account's projects"),
    },
    billing: deps.plans.billing,
  };
}
export type Services = ReturnType<typeof createServices>;
export type { Ticket, OpenTicketInput } from './tickets.js';
export type { HandoffInput } from './migrations.js';
