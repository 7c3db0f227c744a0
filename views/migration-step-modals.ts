/** Billing's modals for a migration's later steps. `private_metadata` carries the ticket ref and the card's channel. */
import type { View } from '@slack/types';
import { CURRENCIES, PAYMENT_FAILURE_LABELS, PAYMENT_FAILURE_REASONS } from '../src/domain/migration-steps.js';
import { MIGRATION_COMPLETE, MIGRATION_PAYMENT_FAILED, MIGRATION_PROJECTS, MIGRATION_SUMMARY } from './ids.js';
import { plain } from './format.js';

const option = (value: string, text: string) => ({ text: plain(text), value });

export interface StepModalOrigin {
  ref: string;
  /** The channel of the card it was opened from, for the answer. */
  channel?: string | undefined;
}

const metadata = (o: StepModalOrigin) => JSON.stringify({ ref: o.ref, ...(o.channel ? { channel: o.channel } : {}) });

/** Credits (no overages) or dues, and how the dues are paid. */
export function billingSummaryModal(opts: StepModalOrigin & { customerName?: string | null | undefined }): View {
  const F = MIGRATION_SUMMARY.fields;
  return {
    type: 'modal',
    callback_id: MIGRATION_SUMMARY.callbackId,
    private_metadata: metadata(opts),
    title: plain('Billing summary', 24),
    submit: plain('Record & email', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${opts.ref}*${opts.customerName ? ` · ${opts.customerName.replace(/[<>&]/g, '')}` : ''}: the C4S plan's final bill. The customer is emailed what you record.`,
        },
      },
      {
        type: 'input',
        block_id: F.outcome,
        label: plain('Outcome'),
        element: {
          type: 'radio_buttons',
          action_id: F.outcome,
          options: [
            option('credits', 'No overages: credits go to the next invoice'),
            option('dues', 'Overages: an amount is due'),
          ],
        },
      },
      {
        type: 'input',
        block_id: F.amount,
        optional: true,
        label: plain('Amount'),
        hint: plain('Required when an amount is due, e.g. 1,250.00; for credits, the credit left (optional).', 150),
        element: { type: 'plain_text_input', action_id: F.amount, max_length: 20 },
      },
      {
        type: 'input',
        block_id: F.currency,
        label: plain('Currency'),
        element: {
          type: 'static_select',
          action_id: F.currency,
          options: CURRENCIES.map((c) => option(c, c)),
          initial_option: option('EUR', 'EUR'),
        },
      },
      {
        type: 'input',
        block_id: F.method,
        optional: true,
        label: plain('Default payment method (dues only)'),
        element: {
          type: 'radio_buttons',
          action_id: F.method,
          options: [
            option('card', 'Card: charged to the card on file'),
            option('emandate', 'eMandate: collected by direct debit'),
          ],
        },
      },
      {
        type: 'input',
        block_id: F.payNow,
        optional: true,
        label: plain('eMandate accounts'),
        element: { type: 'checkboxes', action_id: F.payNow, options: [option('yes', 'Offer to pay now by card')] },
      },
      {
        type: 'input',
        block_id: F.note,
        optional: true,
        label: plain('Note for the ticket'),
        element: { type: 'plain_text_input', action_id: F.note, multiline: true, max_length: 1000 },
      },
    ],
  };
}

/** A failed payment: why, so the card, App Home and the customer's email can say it. */
export function paymentFailedModal(opts: StepModalOrigin & { customerName?: string | null | undefined }): View {
  const F = MIGRATION_PAYMENT_FAILED.fields;
  return {
    type: 'modal',
    callback_id: MIGRATION_PAYMENT_FAILED.callbackId,
    private_metadata: metadata(opts),
    title: plain('Payment failed', 24),
    submit: plain('Record & email', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${opts.ref}*${opts.customerName ? ` · ${opts.customerName.replace(/[<>&]/g, '')}` : ''}: every later step is blocked until a successful payment is recorded. The customer is emailed the reason.`,
        },
      },
      {
        type: 'input',
        block_id: F.reason,
        label: plain('Why did it fail?'),
        element: {
          type: 'static_select',
          action_id: F.reason,
          placeholder: plain('Choose a reason'),
          options: PAYMENT_FAILURE_REASONS.map((r) => option(r, PAYMENT_FAILURE_LABELS[r])),
        },
      },
      {
        type: 'input',
        block_id: F.detail,
        optional: true,
        label: plain('Details'),
        hint: plain('Required for Other. Plain words: the customer reads them.', 150),
        element: { type: 'plain_text_input', action_id: F.detail, max_length: 200 },
      },
    ],
  };
}

/** The live and test projects to migrate, prefilled with what the customer named. */
export function projectsModal(
  opts: StepModalOrigin & { live?: string[] | null | undefined; test?: string[] | null | undefined },
): View {
  const F = MIGRATION_PROJECTS.fields;
  const initial = (names: string[] | null | undefined) => (names?.length ? { initial_value: names.join('\n') } : {});
  return {
    type: 'modal',
    callback_id: MIGRATION_PROJECTS.callbackId,
    private_metadata: metadata(opts),
    title: plain('Projects to migrate', 24),
    submit: plain('Confirm & email', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'input',
        block_id: F.live,
        label: plain('Live projects'),
        hint: plain('One per line (or comma-separated), as named in the dashboard.', 150),
        element: {
          type: 'plain_text_input',
          action_id: F.live,
          multiline: true,
          max_length: 2000,
          ...initial(opts.live),
        },
      },
      {
        type: 'input',
        block_id: F.test,
        optional: true,
        label: plain('Test projects'),
        element: {
          type: 'plain_text_input',
          action_id: F.test,
          multiline: true,
          max_length: 2000,
          ...initial(opts.test),
        },
      },
    ],
  };
}

/** Completion: who the salesperson introduces to the customer. */
export function completeModal(opts: StepModalOrigin): View {
  const F = MIGRATION_COMPLETE.fields;
  const user = (field: string, label: string, optional: boolean) => ({
    type: 'input' as const,
    block_id: field,
    optional,
    label: plain(label),
    element: { type: 'users_select' as const, action_id: field, placeholder: plain('Choose a person') },
  });
  return {
    type: 'modal',
    callback_id: MIGRATION_COMPLETE.callbackId,
    private_metadata: metadata(opts),
    title: plain('Complete migration', 24),
    submit: plain('Complete', 24),
    close: plain('Cancel', 24),
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `*${opts.ref}*: the customer is emailed the confirmation, and the salesperson is asked to introduce the account team below.`,
        },
      },
      user(F.csm, 'Customer Success Manager', false),
      user(F.tam, 'Technical Account Manager', true),
      user(F.kam, 'Key Account Manager', true),
    ],
  };
}
