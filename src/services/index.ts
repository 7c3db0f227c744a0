/**
 * The use cases, bound to their dependencies once at start. Handlers and mail adapters call these;
 * they never touch models directly.
 */
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Outbox } from './outbox.js';
import { changeKind, claimTicket, closeTicket, findTicket, openTicket, ticketsOf, type OpenTicketInput, type TicketDeps } from './tickets.js';
import { replyByEmail } from './email.js';
import type { TicketKind } from '../domain/ticket.js';
import { rolesOf } from './roles.js';

export function createServices(deps: { models: Models; outbox: Outbox; log: Logger; domain: string; metrics?: Metrics; now?: () => Date }) {
  const ticketDeps: TicketDeps = deps;
  const emailDeps = { ...deps, tickets: ticketDeps };
  return {
    tickets: {
      open: (input: OpenTicketInput) => openTicket(ticketDeps, input),
      find: (ref: string) => findTicket(deps.models, ref),
      mine: (slackUserId: string) => ticketsOf(deps.models, slackUserId),
      claim: (ref: string, userId: string) => claimTicket(ticketDeps, ref, userId),
      close: (ref: string, userId: string) => closeTicket(ticketDeps, ref, userId),
      changeKind: (ref: string, userId: string, kind: TicketKind) => changeKind(ticketDeps, ref, userId, kind),
      replyByEmail: (input: { ref: string; userId: string; body: string; requestKey: string }) => replyByEmail(emailDeps, input),
    },
    mail: {
      /** Messages kept for review (unreadable, unprocessable), newest first. */
      awaitingReview: async (limit = 10) =>
        (await deps.models.InboundMail.find({ status: 'review' }).sort({ createdAt: -1 }).limit(limit).lean()).map((r) => ({
          id: String(r._id),
          mailbox: r.mailbox,
          reason: r.reason ?? 'unknown',
          at: r.createdAt as Date,
        })),
    },
    roles: {
      of: (userId: string) => rolesOf(deps.models, userId),
    },
  };
}
export type Services = ReturnType<typeof createServices>;
export type { Ticket, OpenTicketInput } from './tickets.js';
