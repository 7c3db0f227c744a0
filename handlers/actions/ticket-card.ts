import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { userFacing } from '../../src/errors.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

/** Claim, Close and Waiting on customer on a ticket card. The service checks the clicker's role; the card updates via the outbox. */
export function ticketCardAction(deps: HandlerDeps, verb: 'claim' | 'close' | 'waitOnCustomer') {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const channel = body.channel?.id;
    try {
      const ref = TicketRefValue.parse(action.value);
      await deps.services.tickets[verb](ref, userId);
    } catch (err) {
      deps.log.info(
        { event: 'action.refused', action: verb, user: userId, err: (err as Error).message },
        'ticket action refused',
      );
      if (channel)
        await client.chat.postEphemeral({ channel, user: userId, text: userFacing(err) }).catch(() => undefined);
    }
  };
}
