import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { userFacing } from '../../src/errors.js';
import { TICKET_REPLY } from '../../views/ids.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';
import { escapeText } from '../../views/format.js';
import { inlineErrors, readFields } from './fields.js';

const ReplyForm = z.object({
  [TICKET_REPLY.fields.body]: z
    .string({ error: 'Write the reply to send.' })
    .min(2, 'Write the reply to send.')
    .max(3000),
});
const Metadata = z.object({ ref: TicketRefValue });

export function ticketReplySubmission(deps: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const form = ReplyForm.safeParse(readFields(view.state.values, [TICKET_REPLY.fields.body]));
    if (!form.success) {
      await ack({ response_action: 'errors', errors: inlineErrors(form.error) });
      return;
    }
    let ref: string;
    try {
      ref = Metadata.parse(JSON.parse(view.private_metadata || '{}')).ref;
    } catch {
      await ack({
        response_action: 'errors',
        errors: { [TICKET_REPLY.fields.body]: 'This form lost track of its ticket; open Reply from the card again.' },
      });
      return;
    }
    await ack();
    const userId = body.user.id;
    try {
      const sent = await deps.services.tickets.replyByEmail({
        ref,
        userId,
        body: form.data[TICKET_REPLY.fields.body],
        requestKey: view.id,
      });
      await client.chat
        .postMessage({ channel: userId, text: `Your reply on ${ref} is on its way to ${escapeText(sent.to)}.` })
        .catch(() => undefined);
    } catch (err) {
      deps.log.info({ event: 'reply.refused', ref, user: userId, err: (err as Error).message }, 'reply not sent');
      await client.chat
        .postMessage({ channel: userId, text: `${userFacing(err)} Your reply on ${ref} was not sent.` })
        .catch(() => undefined);
    }
  };
}
