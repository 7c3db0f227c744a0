import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { isAccountId } from '../../src/domain/account-id.js';
import { openHandoffModal } from '../open-handoff-modal.js';
import type { HandlerDeps } from '../types.js';

/** `AR-n|<accountId>`: the account rides in the button so the modal opens prefilled without a database read. */
const ButtonValue = z.string().regex(/^AR-\d+\|/).transform((v) => {
  const accountId = v.slice(v.indexOf('|') + 1);
  return isAccountId(accountId) ? accountId : undefined;
});

/** Start handoff on a migration ticket card: the same modal as `/migrate`; roles are checked on submit. */
export function migrationStartHandoff(deps: HandlerDeps) {
  return async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const value = ButtonValue.safeParse(action.value);
    if (!value.success) return;
    await openHandoffModal(deps, client, { triggerId: body.trigger_id, userId: body.user.id, accountId: value.data, channel: body.channel?.id }).catch((err: Error) =>
      deps.log.warn({ event: 'views.open_failed', err: err.message }, 'could not open handoff modal'),
    );
  };
}
