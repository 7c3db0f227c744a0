import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { ticketReplyModal } from '../../views/ticket-reply-modal.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

/** Reply on an email ticket: open the modal at once (the trigger expires); roles are checked on submit. */
export function ticketReplyButton(deps: HandlerDeps) {
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
      .open({ trigger_id: body.trigger_id, view: ticketReplyModal({ ref: ref.data }) })
      .catch((err: Error) =>
        deps.log.warn({ event: 'views.open_failed', err: err.message }, 'could not open reply modal'),
      );
  };
}
