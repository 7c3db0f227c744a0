import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { View } from '@slack/types';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

/**
 * A card button that opens a modal about its ticket: acked and opened at once (the trigger
 * expires in 3 s), so roles are checked when the modal is submitted, not here. A button value
 * that is not a ref (a forged payload) opens nothing.
 */
export function refModalButton(deps: HandlerDeps, what: string, modal: (input: { ref: string }) => View) {
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
      .open({ trigger_id: body.trigger_id, view: modal({ ref: ref.data }) })
      .catch((err: Error) =>
        deps.log.warn({ event: 'views.open_failed', err: err.message }, `could not open ${what} modal`),
      );
  };
}
