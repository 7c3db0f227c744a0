import type { KnownBlock, PlainTextOption, View } from '@slack/types';
import { CHANGE_LABELS, REQUESTED_CHANGES, type RequestedChange } from '../src/domain/plans.js';
import { addonLabel, PRICE_BOOK } from '../src/domain/price-book.js';
import { COMMANDS, PLAN_MODAL } from './ids.js';
import { escapeText, plain } from './format.js';

const F = PLAN_MODAL.fields;

/** What the person has chosen so far (values echo back as initial values when the modal is rebuilt). */
export interface PlanModalState {
  accountId?: string | undefined;
  change?: string | undefined;
  tier?: string | undefined;
  addon?: string | undefined;
  reason?: string | undefined;
  region?: string | undefined;
}

export interface PlanModalOptions {
  privateMetadata: string;
  state: PlanModalState;
  /** The preview: what will happen and when, or why it cannot. */
  preview?: { ok: boolean; text: string } | undefined;
  timeZone: string;
}

const option = (value: string, label: string): PlainTextOption => ({ text: plain(label), value });

function select(
  field: string,
  label: string,
  options: PlainTextOption[],
  selected: string | undefined,
  opts: { dispatch?: boolean; hint?: string } = {},
): KnownBlock {
  const initial = options.find((o) => o.value === selected);
  return {
    type: 'input',
    block_id: field,
    dispatch_action: opts.dispatch ?? false,
    label: plain(label),
    ...(opts.hint ? { hint: plain(opts.hint, 150) } : {}),
    element: {
      type: 'static_select',
      action_id: field,
      placeholder: plain('Choose'),
      options,
      ...(initial ? { initial_option: initial } : {}),
    },
  };
}

/** The `/plan` modal. Fields after the change type depend on it; the preview sits above the submit button. */
export function planModal(o: PlanModalOptions): View {
  const s = o.state;
  const change = REQUESTED_CHANGES.includes(s.change as RequestedChange) ? (s.change as RequestedChange) : undefined;
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: F.accountId,
      dispatch_action: true,
      label: plain('Account ID'),
      hint: plain('e.g. R74-ZWR-R44Z; press Enter to refresh the preview', 150),
      element: {
        type: 'plain_text_input',
        action_id: F.accountId,
        max_length: 20,
        dispatch_action_config: { trigger_actions_on: ['on_enter_pressed'] },
        ...(s.accountId ? { initial_value: s.accountId } : {}),
      },
    },
    select(
      F.change,
      'Change',
      REQUESTED_CHANGES.map((c) => option(c, CHANGE_LABELS[c])),
      change,
      { dispatch: true },
    ),
  ];
  if (change === 'upgrade' || change === 'downgrade') {
    const tiers = PRICE_BOOK.tiers.map((t) => option(t.id, `${t.label} (€${t.monthlyCents / 100}/month)`));
    if (change === 'upgrade') tiers.push(option('enterprise', PRICE_BOOK.enterprise.label));
    blocks.push(
      select(F.tier, change === 'upgrade' ? 'Upgrade to' : 'Downgrade to', tiers, s.tier, { dispatch: true }),
    );
  }
  if (change === 'addon_add' || change === 'addon_remove') {
    blocks.push(
      select(
        F.addon,
        'Add-on',
        PRICE_BOOK.addons.map((a) => option(a.id, addonLabel(a.id))),
        s.addon,
        { dispatch: true },
      ),
    );
  }
  if (change === 'addon_remove')
    blocks.push(
      select(
        F.reason,
        'Why is it removed?',
        PRICE_BOOK.addonRemovalReasons.map((r) => option(r.id, r.label)),
        s.reason,
      ),
    );
  if (change === 'cancel') {
    blocks.push(
      select(
        F.reason,
        'Reason for the cancellation',
        PRICE_BOOK.cancellationReasons.map((r) => option(r.id, r.label)),
        s.reason,
      ),
    );
    blocks.push({
      type: 'input',
      block_id: F.confirm,
      label: plain('Type DELETE to confirm'),
      hint: plain('All projects and data are deleted permanently. Admins only.', 150),
      element: { type: 'plain_text_input', action_id: F.confirm, max_length: 10 },
    });
  }
  if (change === 'region')
    blocks.push(
      select(
        F.region,
        'Move data to',
        PRICE_BOOK.regions.map((r) => option(r.id, r.label)),
        s.region,
        { dispatch: true },
      ),
    );
  const preview = o.preview ?? {
    ok: true,
    text: 'Choose the account and the change to see what will happen and when.',
  };
  blocks.push({
    type: 'section',
    block_id: PLAN_MODAL.previewBlock,
    text: {
      type: 'mrkdwn',
      text: `${preview.ok ? ':calendar:' : ':no_entry:'} ${escapeText(preview.text)}`.slice(0, 3000),
    },
  });
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Billing dates are in ${escapeText(o.timeZone)}. Amounts are prorated to the end of the current billing period.`,
      },
    ],
  });
  return {
    type: 'modal',
    callback_id: PLAN_MODAL.callbackId,
    private_metadata: o.privateMetadata,
    title: plain('Plan change', 24),
    submit: plain(change === 'cancel' ? 'Delete account' : 'Apply', 24),
    close: plain('Close', 24),
    blocks,
  };
}

/** One line for `/plan <accountId>` when the bot knows no such account: what to do instead. */
export function unknownAccountText(accountId: string): string {
  return `No account ${accountId} is known. Check the ID (it is on the customer's tickets and emails) and look it up with \`${COMMANDS.account} ${accountId}\`, then run \`${COMMANDS.plan}\` again.`;
}

/** Replaces the `/plan` modal when it cannot be used: nothing to submit, only what to do. */
function noticeModal(blockId: string, text: string): View {
  return {
    type: 'modal',
    callback_id: PLAN_MODAL.callbackId,
    title: plain('Plan change', 24),
    close: plain('Close', 24),
    blocks: [{ type: 'section', block_id: blockId, text: { type: 'mrkdwn', text: `:no_entry: ${text}` } }],
  };
}

/** The account is unknown. */
export function unknownAccountModal(accountId: string): View {
  return noticeModal(PLAN_MODAL.unknownAccountBlock, escapeText(unknownAccountText(accountId)));
}

/** The person may not change plans (the line says whom to ask). */
export function refusedPlanModal(line: string): View {
  return noticeModal(PLAN_MODAL.refusedBlock, line);
}
