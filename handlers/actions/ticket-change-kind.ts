import type { AllMiddlewareArgs, BlockStaticSelectAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { userFacing } from '../../src/errors.js';
import { KindChoice } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

/** Change kind on a ticket card: the option's value names the ticket and the kind (views/values.ts). */
export function ticketChangeKind(deps: HandlerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockStaticSelectAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    try {
      const [ref, kind] = KindChoice.decode.parse(action.selected_option?.value);
      await deps.services.tickets.changeKind(ref, userId, kind);
    } catch (err) {
      deps.log.info(
        { event: 'action.refused', action: 'change_kind', user: userId, err: (err as Error).message },
        'change kind refused',
      );
      const channel = body.channel?.id;
      if (channel)
        await client.chat.postEphemeral({ channel, user: userId, text: userFacing(err) }).catch(() => undefined);
    }
  };
}
