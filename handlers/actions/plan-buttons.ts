import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { userFacing } from '../../src/errors.js';
import type { HandlerDeps } from '../types.js';

/**
 * A plan button (Cancel on `/account`, Approve reactivation on a ticket card, Billing details
 * complete): validate the value, call one service (which checks the role), answer ephemerally.
 */
export function planButton(
  deps: HandlerDeps,
  name: string,
  value: z.ZodType<string>,
  run: (value: string, userId: string) => Promise<string>,
) {
  return async ({
    ack,
    body,
    action,
    client,
  }: SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    const channel = body.channel?.id;
    let text: string;
    try {
      text = await run(value.parse(action.value), userId);
      deps.log.info({ event: 'action.done', action: name, user: userId }, 'plan button done');
    } catch (err) {
      deps.log.info(
        { event: 'action.refused', action: name, user: userId, err: (err as Error).message },
        'plan button refused',
      );
      text = userFacing(err);
    }
    if (channel) await client.chat.postEphemeral({ channel, user: userId, text }).catch(() => undefined);
    else await client.chat.postMessage({ channel: userId, text }).catch(() => undefined);
  };
}

export const ChangeId = z.string().min(1).max(200);
export const AccountIdValue = z.string().regex(/^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/);
