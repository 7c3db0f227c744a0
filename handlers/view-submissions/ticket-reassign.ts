import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { isAppError, userFacing } from '../../src/errors.js';
import { TICKET_REASSIGN } from '../../views/ids.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';
import { inlineErrors, readFields } from './fields.js';

const F = TICKET_REASSIGN.fields;
const Form = z.object({
  [F.owner]: z.string({ error: 'Choose the new owner.' }).regex(/^[UW][A-Z0-9]{2,}$/, 'Choose the new owner.'),
});
const Metadata = z.object({ ref: TicketRefValue });

/**
 * The new owner and the clicker's role are checked before the ack (two role lookups), so a
 * person outside the team is refused inline and nothing changes; then the ticket is reassigned.
 */
export function ticketReassignSubmission(deps: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const form = Form.safeParse(readFields(view.state.values, [F.owner]));
    if (!form.success) return void (await ack({ response_action: 'errors', errors: inlineErrors(form.error) }));
    const meta = Metadata.safeParse(
      (() => {
        try {
          return JSON.parse(view.private_metadata || '{}') as unknown;
        } catch {
          return {};
        }
      })(),
    );
    if (!meta.success)
      return void (await ack({
        response_action: 'errors',
        errors: { [F.owner]: 'This form lost track of its ticket; open Reassign from the card again.' },
      }));
    const userId = body.user.id;
    const { ref } = meta.data;
    const owner = form.data[F.owner];
    try {
      await deps.services.tickets.checkReassign(ref, userId, owner);
    } catch (err) {
      if (isAppError(err) && err.operational)
        return void (await ack({ response_action: 'errors', errors: { [F.owner]: err.userMessage.slice(0, 150) } }));
      throw err;
    }
    await ack();
    try {
      await deps.services.tickets.reassign(ref, userId, owner);
    } catch (err) {
      deps.log.info({ event: 'reassign.refused', ref, user: userId, err: (err as Error).message }, 'reassign refused');
      await client.chat
        .postMessage({ channel: userId, text: `${userFacing(err)} ${ref} was not reassigned.` })
        .catch(() => undefined);
    }
  };
}
