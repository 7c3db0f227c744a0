/**
 * The use cases, bound to their dependencies once at start. Handlers and mail adapters call these;
 * they never touch models directly.
 */
import type { Models } from '../db/models.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { Outbox } from './outbox.js';
import { claimTicket, closeTicket, findTicket, openTicket, ticketsOf, type OpenTicketInput, type TicketDeps } from './tickets.js';
import { rolesOf } from './roles.js';

export function createServices(deps: { models: Models; outbox: Outbox; log: Logger; metrics?: Metrics; now?: () => Date }) {
  const ticketDeps: TicketDeps = deps;
  return {
    tickets: {
      open: (input: OpenTicketInput) => openTicket(ticketDeps, input),
      find: (ref: string) => findTicket(deps.models, ref),
      mine: (slackUserId: string) => ticketsOf(deps.models, slackUserId),
      claim: (ref: string, userId: string) => claimTicket(ticketDeps, ref, userId),
      close: (ref: string, userId: string) => closeTicket(ticketDeps, ref, userId),
    },
    roles: {
      of: (userId: string) => rolesOf(deps.models, userId),
    },
  };
}
export type Services = ReturnType<typeof createServices>;
export type { Ticket, OpenTicketInput } from './tickets.js';
