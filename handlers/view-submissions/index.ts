import {
  ACCOUNT_PROJECTS,
  MIGRATION_COMPLETE,
  MIGRATION_HANDOFF,
  MIGRATION_PAYMENT_FAILED,
  MIGRATION_PROJECTS,
  MIGRATION_SUMMARY,
  PLAN_MODAL,
  TICKET_NEW,
  TICKET_REASSIGN,
  TICKET_REPLY,
} from '../../views/ids.js';
import { ticketReassignSubmission } from './ticket-reassign.js';
import type { HandlerDeps, Registrar } from '../types.js';
import { ticketNewSubmission } from './ticket-new.js';
import { ticketReplySubmission } from './ticket-reply.js';
import { migrationHandoffSubmission } from './migration-handoff.js';
import {
  migrationCompleteSubmission,
  migrationPaymentFailedSubmission,
  migrationProjectsSubmission,
  migrationSummarySubmission,
} from './migration-steps.js';
import { planChangeSubmission } from './plan-change.js';
import { accountProjectsSubmission } from './account-projects.js';

export function register(app: Registrar, deps: HandlerDeps): void {
  app.view(TICKET_NEW.callbackId, ticketNewSubmission(deps));
  app.view(TICKET_REPLY.callbackId, ticketReplySubmission(deps));
  app.view(TICKET_REASSIGN.callbackId, ticketReassignSubmission(deps));
  app.view(MIGRATION_HANDOFF.callbackId, migrationHandoffSubmission(deps));
  app.view(MIGRATION_SUMMARY.callbackId, migrationSummarySubmission(deps));
  app.view(MIGRATION_PAYMENT_FAILED.callbackId, migrationPaymentFailedSubmission(deps));
  app.view(MIGRATION_PROJECTS.callbackId, migrationProjectsSubmission(deps));
  app.view(MIGRATION_COMPLETE.callbackId, migrationCompleteSubmission(deps));
  app.view(PLAN_MODAL.callbackId, planChangeSubmission(deps));
  app.view(ACCOUNT_PROJECTS.callbackId, accountProjectsSubmission(deps));
}
