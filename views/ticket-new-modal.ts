import type { View } from '@slack/types';
import { KIND_LABELS, TICKET_KINDS, type TicketKind } from '../src/domain/ticket.js';
import { TICKET_NEW } from './ids.js';
import { plain } from './format.js';

const F = TICKET_NEW.fields;

/** The `/ticket new` modal. `privateMetadata` carries where the command was typed, for the answer. */
export function ticketNewModal(opts: { privateMetadata: string; initialKind?: TicketKind }): View {
  const kindOptions = TICKET_KINDS.map((kind) => ({ text: plain(KIND_LABELS[kind]), value: kind }));
  const initial = kindOptions.find((o) => o.value === (opts.initialKind ?? 'support'));
  return {
    type: 'modal',
    callback_id: TICKET_NEW.callbackId,
    private_metadata: opts.privateMetadata,
    title: plain('New ticket', 24),
    submit: plain('Open ticket', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'input',
        block_id: F.kind,
        label: plain('Kind of request'),
        element: {
          type: 'static_select',
          action_id: F.kind,
          options: kindOptions,
          ...(initial ? { initial_option: initial } : {}),
        },
      },
      {
        type: 'input',
        block_id: F.title,
        label: plain('Summary'),
        element: {
          type: 'plain_text_input',
          action_id: F.title,
          max_length: 200,
          placeholder: plain('What is being asked?'),
        },
      },
      {
        type: 'input',
        block_id: F.accountId,
        optional: true,
        label: plain('Account ID'),
        hint: plain('As shown in the dashboard, e.g. R74-ZWR-R44Z', 150),
        element: { type: 'plain_text_input', action_id: F.accountId, max_length: 20 },
      },
      {
        type: 'input',
        block_id: F.description,
        optional: true,
        label: plain('Details'),
        element: { type: 'plain_text_input', action_id: F.description, multiline: true, max_length: 3000 },
      },
    ],
  };
}
