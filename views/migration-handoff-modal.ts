import type { View } from '@slack/types';
import { MIGRATION_HANDOFF } from './ids.js';
import { plain } from './format.js';

const F = MIGRATION_HANDOFF.fields;

export interface HandoffModalOptions {
  /** Carries where the modal was opened from, for the confirmation. */
  privateMetadata: string;
  accountId?: string | undefined;
  salespersonEmail?: string | undefined;
  /** TZ_BILLING, named in the start date's hint so nobody guesses whose "today" counts. */
  timeZone: string;
}

/** The sales-to-billing handoff of a migration to Enterprise (`/migrate`, or Start handoff on a ticket). */
export function migrationHandoffModal(opts: HandoffModalOptions): View {
  return {
    type: 'modal',
    callback_id: MIGRATION_HANDOFF.callbackId,
    private_metadata: opts.privateMetadata,
    title: plain('Enterprise handoff', 24),
    submit: plain('Hand off to billing', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'input',
        block_id: F.customerName,
        label: plain('Customer name'),
        element: { type: 'plain_text_input', action_id: F.customerName, max_length: 200 },
      },
      {
        type: 'input',
        block_id: F.accountId,
        label: plain('C4S account ID'),
        hint: plain('As shown in the dashboard, e.g. R74-ZWR-R44Z', 150),
        element: {
          type: 'plain_text_input',
          action_id: F.accountId,
          max_length: 20,
          ...(opts.accountId ? { initial_value: opts.accountId } : {}),
        },
      },
      {
        type: 'input',
        block_id: F.salespersonEmail,
        label: plain('Salesperson email'),
        element: {
          type: 'email_text_input',
          action_id: F.salespersonEmail,
          ...(opts.salespersonEmail ? { initial_value: opts.salespersonEmail } : {}),
        },
      },
      {
        type: 'input',
        block_id: F.enterprisePlan,
        label: plain('Enterprise plan'),
        element: { type: 'plain_text_input', action_id: F.enterprisePlan, max_length: 200 },
      },
      {
        type: 'input',
        block_id: F.enterpriseStartDate,
        label: plain('Enterprise start date'),
        hint: plain(`Today or later (${opts.timeZone}). The C4S plan is cancelled at 00:00 on the day before.`, 150),
        element: { type: 'datepicker', action_id: F.enterpriseStartDate },
      },
      {
        type: 'input',
        block_id: F.customerEmail,
        optional: true,
        label: plain('Customer email'),
        hint: plain(
          'Where the migration emails go. Leave empty when the customer wrote in: they are answered where they wrote from.',
          150,
        ),
        element: { type: 'email_text_input', action_id: F.customerEmail },
      },
      {
        type: 'input',
        block_id: F.notes,
        optional: true,
        label: plain('Notes for billing'),
        element: { type: 'plain_text_input', action_id: F.notes, multiline: true, max_length: 3000 },
      },
    ],
  };
}
