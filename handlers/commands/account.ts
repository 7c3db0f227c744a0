import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { userFacing } from '../../src/errors.js';
import { accountOverview } from '../../views/account-overview.js';
import { ACCOUNT_USAGE } from '../../views/usage.js';
import type { HandlerDeps } from '../types.js';
import { AccountIdArgs } from './args.js';

/** `/account <accountId>`: the account's plan, status, scheduled changes and open tickets. */
export function accountCommand(deps: HandlerDeps) {
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const args = AccountIdArgs.safeParse(command.text);
    if (!args.success) {
      await ack({ response_type: 'ephemeral', text: ACCOUNT_USAGE });
      return;
    }
    await ack();
    try {
      const overview = await deps.services.accounts.overview(args.data[0], command.user_id);
      await respond({ response_type: 'ephemeral', ...accountOverview(overview) });
    } catch (err) {
      deps.log.info(
        { event: 'command.refused', command: command.command, err: (err as Error).message },
        'account overview refused',
      );
      await respond({ response_type: 'ephemeral', text: userFacing(err) }).catch(() => undefined);
    }
  };
}
