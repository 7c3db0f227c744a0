import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { userFacing } from '../../src/errors.js';
import type { HandlerDeps } from '../types.js';

const ButtonValue = z.string().regex(/^AR-\d+$/);

/** Billing's buttons on a handoff card. The service checks the role; the answer is ephemeral either way. */
export function migrationBillingAction(deps: HandlerDeps, verb: 'confirm' | 'withdraw') {
  return async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const channel = body.channel?.id;
    let text: string;
    try {
      text = await deps.services.migrations.billingAction(ButtonValue.parse(action.value), userId, verb);
    } catch (err) {
      deps.log.info({ event: 'action.refused', action: `migration_${verb}`, user: userId, err: (err as Error).message }, 'migration action refused');
      text = userFacing(err);
    }
    if (channel) await client.chat.postEphemeral({ channel, user: userId, text }).catch(() => undefined);
    else await client.chat.postMessage({ channel: userId, text }).catch(() => undefined);
  };
}
