import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { StartHandoffValue } from '../../views/values.js';
import { openHandoffModal } from '../open-handoff-modal.js';
import type { HandlerDeps } from '../types.js';

/**
 * Start handoff on a migration ticket card: the same modal as `/migrate`; roles are checked on submit.
 * The account rides in the button so the modal opens prefilled without a database read.
 */
export function migrationStartHandoff(deps: HandlerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const value = StartHandoffValue.decode.safeParse(action.value);
    if (!value.success) return;
    await openHandoffModal(deps, client, {
      triggerId: body.trigger_id,
      userId: body.user.id,
      accountId: value.data[1],
      channel: body.channel?.id,
    }).catch((err: Error) =>
      deps.log.warn({ event: 'views.open_failed', err: err.message }, 'could not open handoff modal'),
    );
  };
}
