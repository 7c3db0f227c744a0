import { TICKET_NEW } from '../../views/ids.js';
import type { HandlerDeps, Registrar } from '../types.js';
import { ticketNewSubmission } from './ticket-new.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.view(TICKET_NEW.callbackId, ticketNewSubmission(deps));
}
