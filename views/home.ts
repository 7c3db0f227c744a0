import type { HomeView } from '@slack/types';
import { HOME } from './ids.js';
import { ticketList } from './ticket-list.js';
import type { TicketView } from './ticket-card.js';

export function homeView(opts: { tickets: TicketView[] }): HomeView {
  const list = ticketList(opts.tickets, 'Your tickets');
  return {
    type: 'home',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Account requests' } },
      ...list.blocks.map((b) => ({ ...b, block_id: HOME.ticketsBlock })),
    ],
  };
}
