import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { isAccountId } from '../../src/domain/account-id.js';
import { userFacing } from '../../src/errors.js';
import { accountOverview } from '../../views/account-overview.js';
import { ACCOUNT_USAGE } from '../../views/usage.js';
import type { HandlerDeps } from '../types.js';

/** `/account <accountId>`: exactly one account ID. */
const AccountArgs = z
  .string()
  .transform((text) => text.trim().split(/\s+/).filter(Boolean))
  .pipe(z.tuple([z.string().transform((s) => s.toUpperCase()).refine(isAccountId)]));

export function accountCommand(deps: HandlerDeps) {
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const args = AccountArgs.safeParse(command.text);
    if (!args.success) {
      await ack({ response_type: 'ephemeral', text: ACCOUNT_USAGE });
      return;
    }
    await ack();
    try {
      const overview = await deps.services.accounts.overview(args.data[0]);
      await respond({ response_type: 'ephemeral', ...accountOverview(overview) });
    } catch (err) {
      deps.log.info({ event: 'command.refused', command: command.command, err: (err as Error).message }, 'account overview refused');
      await respond({ response_type: 'ephemeral', text: userFacing(err) }).catch(() => undefined);
    }
  };
}
