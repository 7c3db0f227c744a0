import { HANDOFF_CARD, TICKET_CARD } from '../../views/ids.js';
import type { HandlerDeps, Registrar } from '../types.js';
import { ticketCardAction } from './ticket-card.js';
import { ticketChangeKind } from './ticket-change-kind.js';
import { ticketReplyButton } from './ticket-reply.js';
import { migrationStartHandoff } from './migration-start-handoff.js';
import { migrationBillingAction, migrationPaymentAction, migrationStartAction, migrationStepModalAction } from './migration-billing.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.action(TICKET_CARD.actions.claim, ticketCardAction(deps, 'claim'));
  app.action(TICKET_CARD.actions.close, ticketCardAction(deps, 'close'));
  app.action(TICKET_CARD.actions.reply, ticketReplyButton(deps));
  app.action(TICKET_CARD.actions.changeKind, ticketChangeKind(deps));
  app.action(TICKET_CARD.actions.startHandoff, migrationStartHandoff(deps));
  app.action(HANDOFF_CARD.actions.confirm, migrationBillingAction(deps, 'confirm'));
  app.action(HANDOFF_CARD.actions.withdraw, migrationBillingAction(deps, 'withdraw'));
  app.action(HANDOFF_CARD.actions.summary, migrationStepModalAction(deps, 'summary'));
  app.action(HANDOFF_CARD.actions.payment, migrationPaymentAction(deps));
  app.action(HANDOFF_CARD.actions.projects, migrationStepModalAction(deps, 'projects'));
  app.action(HANDOFF_CARD.actions.start, migrationStartAction(deps));
  app.action(HANDOFF_CARD.actions.complete, migrationStepModalAction(deps, 'complete'));
}
