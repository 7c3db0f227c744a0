import { ACCOUNT_VIEW, HANDOFF_CARD, HOME, PLAN_MODAL, REACTIVATION_CARD, TICKET_CARD } from '../../views/ids.js';
import { ticketReassignButton } from './ticket-reassign.js';
import { homeAwayToggle, homeQueuePage } from './home-buttons.js';
import type { HandlerDeps, Registrar } from '../types.js';
import { ticketCardAction } from './ticket-card.js';
import { ticketChangeKind } from './ticket-change-kind.js';
import { ticketReplyButton } from './ticket-reply.js';
import { migrationStartHandoff } from './migration-start-handoff.js';
import {
  migrationBillingAction,
  migrationNewLinkAction,
  migrationPaymentAction,
  migrationStartAction,
  migrationStepModalAction,
  migrationTrustAction,
} from './migration-billing.js';
import { accountProjectsButton } from './account-projects.js';
import { planModalRefresh } from './plan-modal-refresh.js';
import { AccountIdValue, ChangeId, planButton } from './plan-buttons.js';
import { TicketRefValue } from '../../views/values.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.action(TICKET_CARD.actions.claim, ticketCardAction(deps, 'claim'));
  app.action(TICKET_CARD.actions.close, ticketCardAction(deps, 'close'));
  app.action(TICKET_CARD.actions.waitOnCustomer, ticketCardAction(deps, 'waitOnCustomer'));
  app.action(TICKET_CARD.actions.reassign, ticketReassignButton(deps));
  // The pager's two buttons share one block, so their action IDs differ by a suffix.
  app.action(new RegExp(`^${HOME.actions.queuePage}_`), homeQueuePage(deps));
  app.action(HOME.actions.away, homeAwayToggle(deps));
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
  app.action(HANDOFF_CARD.actions.trustSender, migrationTrustAction(deps));
  app.action(HANDOFF_CARD.actions.newLink, migrationNewLinkAction(deps));
  app.action(ACCOUNT_VIEW.actions.editProjects, accountProjectsButton(deps));
  // The /plan modal's dispatching inputs; the callback_id keeps same-named fields of other modals out.
  const F = PLAN_MODAL.fields;
  for (const field of [F.accountId, F.change, F.tier, F.addon, F.region])
    app.action({ type: 'block_actions', action_id: field, callback_id: PLAN_MODAL.callbackId }, planModalRefresh(deps));
  app.action(
    ACCOUNT_VIEW.actions.cancelChange,
    planButton(deps, 'plan_cancel_change', ChangeId, (id, user) => deps.services.plans.cancelScheduled(id, user)),
  );
  app.action(
    ACCOUNT_VIEW.actions.billingDetailsComplete,
    planButton(deps, 'billing_details_complete', AccountIdValue, (id, user) =>
      deps.services.accounts.completeBillingDetails(id, user),
    ),
  );
  app.action(
    REACTIVATION_CARD.actions.approve,
    planButton(deps, 'approve_reactivation', TicketRefValue, (ref, user) =>
      deps.services.plans.approveReactivation(ref, user),
    ),
  );
}
