import type { AllMiddlewareArgs, BlockStaticSelectAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { TICKET_KINDS } from '../../src/domain/ticket.js';
import { userFacing } from '../../src/errors.js';
import type { HandlerDeps } from '../types.js';

/** Option values are `<ref>|<kind>`, so the select alone says which ticket it is about. */
const Choice = z
  .string()
  .transform((v) => v.split('|'))
  .pipe(z.tuple([z.string().regex(/^AR-\d+$/), z.enum(TICKET_KINDS)]));

export function ticketChangeKind(deps: HandlerDeps) {
  return async ({ ack, body, action, client }: SlackActionMiddlewareArgs<BlockStaticSelectAction> & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const userId = body.user.id;
    try {
      const [ref, kind] = Choice.parse(action.selected_option?.value);
      await deps.services.tickets.changeKind(ref, userId, kind);
    } catch (err) {
      deps.log.info({ event: 'action.refused', action: 'change_kind', user: userId, err: (err as Error).message }, 'change kind refused');
      const channel = body.channel?.id;
      if (channel) await client.chat.postEphemeral({ channel, user: userId, text: userFacing(err) }).catch(() => undefined);
    }
  };
}
