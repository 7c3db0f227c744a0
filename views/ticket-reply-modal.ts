import type { View } from '@slack/types';
import { TICKET_REPLY } from './ids.js';
import { plain } from './format.js';

/** Reply to the customer by email from Slack; the ticket's reference rides in private_metadata. */
export function ticketReplyModal(opts: { ref: string }): View {
  return {
    type: 'modal',
    callback_id: TICKET_REPLY.callbackId,
    private_metadata: JSON.stringify({ ref: opts.ref }),
    title: plain(`Reply on ${opts.ref}`, 24),
    submit: plain('Send email', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Emailed to the customer of ${opts.ref}, threaded with their mail.` }],
      },
      {
        type: 'input',
        block_id: TICKET_REPLY.fields.body,
        label: plain('Your reply'),
        element: { type: 'plain_text_input', action_id: TICKET_REPLY.fields.body, multiline: true, max_length: 3000 },
      },
    ],
  };
}
