import { TICKET_CARD } from '../../views/ids.js';
import type { HandlerDeps, Registrar } from '../types.js';
import { ticketCardAction } from './ticket-card.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.action(TICKET_CARD.actions.claim, ticketCardAction(deps, 'claim'));
  app.action(TICKET_CARD.actions.close, ticketCardAction(deps, 'close'));
}
