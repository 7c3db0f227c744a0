import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { View } from '@slack/types';
import { userFacing } from '../../src/errors.js';
import { planModal, refusedPlanModal, unknownAccountModal, unknownAccountText } from '../../views/plan-modal.js';
import { PLAN_USAGE } from '../../views/usage.js';
import type { HandlerDeps } from '../types.js';
import { OptionalAccountIdArgs } from './args.js';

/**
 * Opens the plan change modal at once (the trigger expires in 3 s), then checks the caller and the
 * account: someone without a plan role, or an unknown account, gets the modal replaced by a short
 * notice and a one-line ephemeral answer. Roles are checked again on preview and submission.
 */
export function planCommand(deps: HandlerDeps) {
  return async ({ command, ack, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const args = OptionalAccountIdArgs.safeParse(command.text);
    if (!args.success) {
      await ack({ response_type: 'ephemeral', text: PLAN_USAGE });
      return;
    }
    await ack();
    const accountId = args.data[0];
    let opened: Awaited<ReturnType<typeof client.views.open>>;
    try {
      opened = await client.views.open({
        trigger_id: command.trigger_id,
        view: planModal({
          privateMetadata: JSON.stringify({ channel: command.channel_id }),
          state: { accountId },
          timeZone: deps.services.plans.timeZone,
        }),
      });
    } catch (err) {
      deps.log.warn(
        { event: 'command.failed', command: command.command, err: (err as Error).message },
        'could not open plan modal',
      );
      await respond({
        response_type: 'ephemeral',
        text: 'The plan change form could not be opened. Please run the command again.',
      }).catch(() => undefined);
      return;
    }
    const viewId = opened.view?.id;
    // A hash mismatch means the person already chose something; the preview then says it too.
    const replace = async (view: View) => {
      if (viewId)
        await client.views
          .update({ view_id: viewId, ...(opened.view?.hash ? { hash: opened.view.hash } : {}), view })
          .catch(() => undefined);
    };
    try {
      await deps.services.plans.mayChange(command.user_id);
    } catch (err) {
      deps.log.info(
        { event: 'command.refused', command: command.command, user: command.user_id, err: (err as Error).message },
        '/plan refused',
      );
      await replace(refusedPlanModal(userFacing(err)));
      await respond({ response_type: 'ephemeral', text: userFacing(err) }).catch(() => undefined);
      return;
    }
    if (!accountId) return;
    try {
      if (await deps.services.accounts.exists(accountId)) return;
      deps.log.info(
        { event: 'plan.unknown_account', user: command.user_id, accountId },
        '/plan for an unknown account',
      );
      await replace(unknownAccountModal(accountId));
      await respond({ response_type: 'ephemeral', text: unknownAccountText(accountId) });
    } catch (err) {
      // The modal stays; its preview and submission look the account up again.
      deps.log.warn(
        { event: 'plan.account_check_failed', accountId, err: (err as Error).message },
        'could not check the account after opening the plan modal',
      );
    }
  };
}
