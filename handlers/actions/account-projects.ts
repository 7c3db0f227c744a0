import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { userFacing } from '../../src/errors.js';
import { accountProjectsModal } from '../../views/account-projects-modal.js';
import type { HandlerDeps } from '../types.js';
import { AccountIdValue } from './plan-buttons.js';

/**
 * Projects on `/account` (billing): opens the modal with the account's projects filled in. The
 * role is checked first, so anyone else gets the one-line refusal instead of a form.
 */
export function accountProjectsButton(deps: HandlerDeps) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    try {
      const accountId = AccountIdValue.parse(action.value);
      await deps.services.accounts.mayEditProjects(userId);
      const projects = (await deps.services.accounts.overview(accountId, userId)).projects;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: accountProjectsModal({ accountId, channel: body.channel?.id, projects }),
      });
    } catch (err) {
      deps.log.info(
        { event: 'action.refused', action: 'account_edit_projects', user: userId, err: (err as Error).message },
        'account projects refused',
      );
      const text = userFacing(err);
      if (body.channel?.id)
        await client.chat.postEphemeral({ channel: body.channel.id, user: userId, text }).catch(() => undefined);
      else await client.chat.postMessage({ channel: userId, text }).catch(() => undefined);
    }
  };
}
