import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { planModal } from '../../views/plan-modal.js';
import { PLAN_USAGE } from '../../views/usage.js';
import type { HandlerDeps } from '../types.js';
import { OptionalAccountIdArgs } from './args.js';

/** Opens the plan change modal at once (the trigger expires in 3 s); roles are checked on preview and submission. */
export function planCommand(deps: HandlerDeps) {
  return async ({ command, ack, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const args = OptionalAccountIdArgs.safeParse(command.text);
    if (!args.success) {
      await ack({ response_type: 'ephemeral', text: PLAN_USAGE });
      return;
    }
    await ack();
    try {
      await client.views.open({
        trigger_id: command.trigger_id,
        view: planModal({ privateMetadata: JSON.stringify({ channel: command.channel_id }), state: { accountId: args.data[0] }, timeZone: deps.services.plans.timeZone }),
      });
    } catch (err) {
      deps.log.warn({ event: 'command.failed', command: command.command, err: (err as Error).message }, 'could not open plan modal');
      await respond({ response_type: 'ephemeral', text: 'The plan change form could not be opened. Please run the command again.' }).catch(() => undefined);
    }
  };
}
