import type { KnownBlock } from '@slack/types';
import { ticketCard, ticketSummaryText, type TicketView } from './ticket-card.js';
import { escapeText } from './format.js';

/** `/ticket AR-n`: the card without its buttons (an ephemeral answer is not the place to act). */
export function ticketDetail(t: TicketView): { text: string; blocks: KnownBlock[] } {
  const card = ticketCard(t);
  return { text: card.text, blocks: card.blocks.filter((b) => b.type !== 'actions') };
}

/** `/ticket mine` and the App Home list: one line per ticket. */
export function ticketList(tickets: TicketView[], heading: string): { text: string; blocks: KnownBlock[] } {
  if (tickets.length === 0) {
    return {
      text: `${heading}: none`,
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: `*${escapeText(heading)}*\nNo tickets yet. Open one with \`/ticket new\`.` },
        },
      ],
    };
  }
  const lines = tickets.map(
    (t) => `• *${t.ref}* ${ticketSummaryText(t).slice(t.ref.length + 3)} — _${t.status.replace(/_/g, ' ')}_`,
  );
  return {
    text: `${heading}: ${tickets.map((t) => t.ref).join(', ')}`,
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `*${escapeText(heading)}*\n${lines.join('\n')}`.slice(0, 3000) },
      },
    ],
  };
}
