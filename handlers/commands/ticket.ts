import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { userFacing } from '../../src/errors.js';
import { ticketNewModal } from '../../views/ticket-new-modal.js';
import { ticketDetail, ticketList } from '../../views/ticket-list.js';
import { TICKET_USAGE } from '../../views/usage.js';
import { reviewList } from '../../views/review-notice.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

/** `/ticket new | mine | AR-n`: one enum of subcommands; anything else is answered with usage. */
const TicketArgs = z.union([
  z.object({ sub: z.literal('new') }),
  z.object({ sub: z.literal('mine') }),
  z.object({ sub: z.literal('review') }),
  z.object({ sub: z.literal('show'), ref: TicketRefValue }),
]);

function parseArgs(text: string): z.infer<typeof TicketArgs> | undefined {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length !== 1) return undefined;
  const word = words[0]!.toLowerCase();
  const candidate = word === 'new' || word === 'mine' || word === 'review' ? { sub: word } : { sub: 'show', ref: words[0] };
  const parsed = TicketArgs.safeParse(candidate);
  return parsed.success ? parsed.data : undefined;
}

export function ticketCommand(deps: HandlerDeps) {
  return async ({ command, ack, client, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const args = parseArgs(command.text);
    if (!args) {
      await ack({ response_type: 'ephemeral', text: TICKET_USAGE });
      return;
    }
    await ack();
    try {
      switch (args.sub) {
        case 'new':
          // trigger_id expires in 3 s: open the modal before any database work.
          await client.views.open({
            trigger_id: command.trigger_id,
            view: ticketNewModal({ privateMetadata: JSON.stringify({ channel: command.channel_id }) }),
          });
          return;
        case 'mine': {
          const tickets = await deps.services.tickets.mine(command.user_id);
          await respond({ response_type: 'ephemeral', ...ticketList(tickets, 'Your tickets') });
          return;
        }
        case 'review': {
          const rows = await deps.services.mail.awaitingReview(command.user_id);
          await respond({ response_type: 'ephemeral', ...reviewList(rows) });
          return;
        }
        case 'show': {
          const ticket = await deps.services.tickets.find(args.ref, command.user_id);
          await respond({ response_type: 'ephemeral', ...ticketDetail(ticket) });
          return;
        }
      }
    } catch (err) {
      deps.log.warn({ event: 'command.failed', command: command.command, sub: args.sub, err: (err as Error).message }, 'command failed');
      await respond({ response_type: 'ephemeral', text: userFacing(err) }).catch(() => undefined);
    }
  };
}
