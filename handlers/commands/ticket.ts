import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { userFacing } from '../../src/errors.js';
import { ticketNewModal } from '../../views/ticket-new-modal.js';
import { ticketDetail, ticketList } from '../../views/ticket-list.js';
import { TICKET_USAGE } from '../../views/usage.js';
import { reviewList } from '../../views/review-notice.js';
import { ticketStats } from '../../views/ticket-stats.js';
import { TicketRefValue } from '../../views/values.js';
import type { HandlerDeps } from '../types.js';

const Period = z.enum(['7d', '30d']).transform((p) => (p === '7d' ? 7 : 30));

/** `/ticket new | mine | review | stats [7d|30d] [team] | export [7d|30d] | AR-n`: one enum of subcommands; anything else is answered with usage. */
const TicketArgs = z.union([
  z.object({ sub: z.literal('new') }),
  z.object({ sub: z.literal('mine') }),
  z.object({ sub: z.literal('review') }),
  z.object({ sub: z.literal('stats'), days: Period.default(7), team: z.boolean() }),
  z.object({ sub: z.literal('export'), days: Period.default(30) }),
  z.object({ sub: z.literal('show'), ref: TicketRefValue }),
]);

function parseArgs(text: string): z.infer<typeof TicketArgs> | undefined {
  const words = text
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w : w.toLowerCase()));
  const word = words[0]?.toLowerCase();
  let candidate: unknown;
  if (word === 'stats' && words.length <= 3) {
    const rest = words.slice(1);
    const team = rest.includes('team');
    const periods = rest.filter((w) => w !== 'team');
    if (periods.length > 1 || rest.filter((w) => w === 'team').length > 1) return undefined;
    candidate = { sub: 'stats', team, ...(periods[0] ? { days: periods[0] } : {}) };
  } else if (word === 'export' && words.length <= 2) {
    candidate = { sub: 'export', ...(words[1] ? { days: words[1] } : {}) };
  } else if (words.length !== 1) {
    return undefined;
  } else {
    candidate = word === 'new' || word === 'mine' || word === 'review' ? { sub: word } : { sub: 'show', ref: words[0] };
  }
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
        case 'stats': {
          const stats = await deps.services.sla.stats(command.user_id, { days: args.days, team: args.team });
          await respond({
            response_type: 'ephemeral',
            ...ticketStats(stats, `Tickets of the last ${args.days} days${args.team ? ', your teams' : ''}`),
          });
          return;
        }
        case 'export': {
          const { csv, rows } = await deps.services.sla.export(command.user_id, args.days);
          // The file goes to the person's DM with the bot, whatever channel they typed in.
          const dm = await client.conversations.open({ users: command.user_id });
          if (!dm.channel?.id) throw new Error('Slack opened no DM for the export');
          await client.filesUploadV2({
            channel_id: dm.channel.id,
            filename: `tickets-${args.days}d.csv`,
            title: `Tickets of the last ${args.days} days`,
            content: csv,
            initial_comment: `${rows} tickets opened in the last ${args.days} days.`,
          });
          await respond({
            response_type: 'ephemeral',
            text: `The CSV of ${rows} tickets is in your direct messages with the bot.`,
          });
          deps.log.info(
            { event: 'tickets.exported', user: command.user_id, days: args.days, rows },
            'tickets exported',
          );
          return;
        }
        case 'show': {
          const ticket = await deps.services.tickets.find(args.ref, command.user_id);
          await respond({ response_type: 'ephemeral', ...ticketDetail(ticket) });
          return;
        }
      }
    } catch (err) {
      deps.log.warn(
        { event: 'command.failed', command: command.command, sub: args.sub, err: (err as Error).message },
        'command failed',
      );
      await respond({ response_type: 'ephemeral', text: userFacing(err) }).catch(() => undefined);
    }
  };
}
