import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { MIGRATE_USAGE } from '../../views/usage.js';
import { openHandoffModal } from '../open-handoff-modal.js';
import type { HandlerDeps } from '../types.js';
import { OptionalAccountIdArgs } from './args.js';

/** `/migrate` or `/migrate <accountId>`: opens the handoff modal. */
export function migrateCommand(deps: HandlerDeps) {
  return async ({ command, ack, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const args = OptionalAccountIdArgs.safeParse(command.text);
    if (!args.success) {
      await ack({ response_type: 'ephemeral', text: MIGRATE_USAGE });
      return;
    }
    await ack();
    try {
      await openHandoffModal(deps, client, {
        triggerId: command.trigger_id,
        userId: command.user_id,
        accountId: args.data[0],
        channel: command.channel_id,
      });
    } catch (err) {
      deps.log.warn(
        { event: 'command.failed', command: command.command, err: (err as Error).message },
        'could not open handoff modal',
      );
      await respond({
        response_type: 'ephemeral',
        text: 'The handoff form could not be opened. Please run the command again.',
      }).catch(() => undefined);
    }
  };
}
