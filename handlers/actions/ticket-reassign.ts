import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { ticketReassignModal } from '../../views/ticket-reassign-modal.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

/** Reassign on a ticket card: the modal opens at once (the trigger expires); roles are checked on submit. */
export function ticketReassignButton(deps: HandlerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const ref = TicketRefValue.safeParse(action.value);
    if (!ref.success) return;
    await client.views
      .open({ trigger_id: body.trigger_id, view: ticketReassignModal({ ref: ref.data }) })
      .catch((err: Error) =>
        deps.log.warn({ event: 'views.open_failed', err: err.message }, 'could not open reassign modal'),
      );
  };
}
