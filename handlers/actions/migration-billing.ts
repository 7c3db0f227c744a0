import type {
  AllMiddlewareArgs,
  BlockButtonAction,
  BlockStaticSelectAction,
  SlackActionMiddlewareArgs,
} from '@slack/bolt';
import type { View } from '@slack/types';
import type { Step } from '../../src/domain/migration-steps.js';
import { userFacing } from '../../src/errors.js';
import {
  billingSummaryModal,
  completeModal,
  paymentFailedModal,
  projectsModal,
} from '../../views/migration-step-modals.js';
import { PaymentChoice, TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

type ActionArgs<A extends BlockButtonAction | BlockStaticSelectAction> = SlackActionMiddlewareArgs<A> &
  AllMiddlewareArgs;

/** Billing's answer goes where the card is, to the presser only (or by DM when there is no channel). */
function answer({ body, client }: Pick<ActionArgs<BlockButtonAction | BlockStaticSelectAction>, 'body' | 'client'>) {
  return async (text: string) => {
    const channel = body.channel?.id;
    if (channel) await client.chat.postEphemeral({ channel, user: body.user.id, text }).catch(() => undefined);
    else await client.chat.postMessage({ channel: body.user.id, text }).catch(() => undefined);
  };
}

/**
 * Runs one billing action after the ack: the service checks the role and the step rules and says
 * what happened; a refusal (wrong role, a failed payment blocking the step) is the answer instead.
 */
function billingHandler<A extends BlockButtonAction | BlockStaticSelectAction>(
  deps: HandlerDeps,
  name: string,
  run: (args: ActionArgs<A>) => Promise<string>,
) {
  return async (args: ActionArgs<A>): Promise<void> => {
    await args.ack();
    let text: string;
    try {
      text = await run(args);
    } catch (err) {
      deps.log.info(
        { event: 'action.refused', action: name, user: args.body.user.id, err: (err as Error).message },
        'migration action refused',
      );
      text = userFacing(err);
    }
    if (text) await answer(args)(text);
  };
}

/** Confirm & schedule, Withdraw on a handoff card. */
export function migrationBillingAction(deps: HandlerDeps, verb: 'confirm' | 'withdraw') {
  return billingHandler<BlockButtonAction>(deps, `migration_${verb}`, ({ body, action }) =>
    deps.services.migrations.billingAction(TicketRefValue.parse(action.value), body.user.id, verb),
  );
}

/**
 * Record payment (a select on the handoff card): pending or succeeded at once; failed opens a modal
 * asking why (checked first, so a refusal answers instead of a form).
 */
export function migrationPaymentAction(deps: HandlerDeps) {
  return billingHandler<BlockStaticSelectAction>(deps, 'migration_payment', async ({ body, action, client }) => {
    const [ref, status] = PaymentChoice.decode.parse(action.selected_option.value);
    if (status !== 'failed')
      return deps.services.migrations.recordPayment({
        ref,
        userId: body.user.id,
        requestKey: action.action_ts,
        status,
      });
    const ticket = await deps.services.migrations.checkPaymentFailure(ref, body.user.id);
    await client.views.open({
      trigger_id: body.trigger_id,
      view: paymentFailedModal({
        ref: ticket.ref,
        channel: body.channel?.id,
        customerName: ticket.migration?.customerName,
      }),
    });
    return '';
  });
}

/** Trust the sender: the address that named projects by email may confirm them from now on. */
export function migrationTrustAction(deps: HandlerDeps) {
  return billingHandler<BlockButtonAction>(deps, 'migration_trust_sender', ({ body, action }) =>
    deps.services.migrations.trustProposer({ ref: TicketRefValue.parse(action.value), userId: body.user.id }),
  );
}

/** Send a new link: the customer is emailed a new page link and every earlier one stops working. */
export function migrationNewLinkAction(deps: HandlerDeps) {
  return billingHandler<BlockButtonAction>(deps, 'migration_new_link', ({ body, action }) =>
    deps.services.migrations.sendNewLink({ ref: TicketRefValue.parse(action.value), userId: body.user.id }),
  );
}

/** Start migration. */
export function migrationStartAction(deps: HandlerDeps) {
  return billingHandler<BlockButtonAction>(deps, 'migration_start', ({ body, action }) =>
    deps.services.migrations.start({ ref: TicketRefValue.parse(action.value), userId: body.user.id }),
  );
}

/**
 * Buttons that open a step's modal. The role and the step rules are checked first, so a blocked
 * step answers why instead of opening a form that could only be refused.
 */
export function migrationStepModalAction(deps: HandlerDeps, step: Extract<Step, 'summary' | 'projects' | 'complete'>) {
  return billingHandler<BlockButtonAction>(deps, `migration_${step}`, async ({ body, action, client }) => {
    const ticket = await deps.services.migrations.checkStep(TicketRefValue.parse(action.value), body.user.id, step);
    const m = ticket.migration;
    const origin = { ref: ticket.ref, channel: body.channel?.id };
    // The projects modal starts from what is confirmed, else from what the customer named.
    const projects = m?.projects?.live?.length ? m.projects : m?.proposedProjects;
    const view: View =
      step === 'summary'
        ? billingSummaryModal({ ...origin, customerName: m?.customerName })
        : step === 'projects'
          ? projectsModal({ ...origin, live: projects?.live, test: projects?.test })
          : completeModal(origin);
    await client.views.open({ trigger_id: body.trigger_id, view });
    return '';
  });
}
