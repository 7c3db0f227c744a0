import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { isAccountId } from '../../src/domain/account-id.js';
import { TICKET_KINDS } from '../../src/domain/ticket.js';
import { userFacing } from '../../src/errors.js';
import { TICKET_NEW } from '../../views/ids.js';
import type { HandlerDeps } from '../types.js';
import { originChannel, tellSubmitter } from './tell-submitter.js';
import { inlineErrors, readFields } from './fields.js';

const F = TICKET_NEW.fields;

const TicketNewForm = z.object({
  [F.kind]: z.enum(TICKET_KINDS, { error: 'Choose the kind of request.' }),
  [F.title]: z
    .string({ error: 'Say in a few words what is being asked.' })
    .min(3, 'Say in a few words what is being asked.')
    .max(200),
  [F.accountId]: z
    .string()
    .transform((s) => s.toUpperCase())
    .refine(isAccountId, 'Account IDs look like R74-ZWR-R44Z.')
    .optional(),
  [F.description]: z.string().max(3000).optional(),
});

export function ticketNewSubmission(deps: HandlerDeps) {
  return async ({ ack, body, view, client }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsed = TicketNewForm.safeParse(readFields(view.state.values, Object.values(F)));
    if (!parsed.success) {
      await ack({ response_action: 'errors', errors: inlineErrors(parsed.error) });
      return;
    }
    await ack();
    const userId = body.user.id;
    const form = parsed.data;
    const tell = tellSubmitter(client, deps.log, userId, originChannel(view.private_metadata));
    try {
      const { ticket, created } = await deps.services.tickets.open({
        kind: form[F.kind],
        title: form[F.title],
        description: form[F.description],
        accountId: form[F.accountId],
        source: { channel: 'slack', slackUserId: userId },
        idempotencyKey: `slack:view:${view.id}`,
        actor: `slack:${userId}`,
      });
      if (created) await tell(`Opened *${ticket.ref}*: ${ticket.title}. The ${ticket.team} team has it.`);
    } catch (err) {
      deps.log.warn(
        { event: 'ticket.open_failed', user: userId, err: (err as Error).message },
        'could not open ticket',
      );
      await tell(`${userFacing(err)} Your ticket "${form[F.title]}" was not saved.`);
    }
  };
}
