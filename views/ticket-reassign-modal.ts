import type { View } from '@slack/types';
import { TICKET_REASSIGN } from './ids.js';
import { plain } from './format.js';

/** Reassign: pick another member of the ticket's team (checked on submit); the ref rides in private_metadata. */
export function ticketReassignModal(opts: { ref: string }): View {
  return {
    type: 'modal',
    callback_id: TICKET_REASSIGN.callbackId,
    private_metadata: JSON.stringify({ ref: opts.ref }),
    title: plain(`Reassign ${opts.ref}`, 24),
    submit: plain('Reassign', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'input',
        block_id: TICKET_REASSIGN.fields.owner,
        label: plain('New owner'),
        element: {
          type: 'users_select',
          action_id: TICKET_REASSIGN.fields.owner,
          placeholder: plain('A member of the ticket’s team'),
        },
      },
    ],
  };
}
