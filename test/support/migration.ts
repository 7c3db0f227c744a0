/**
 * Driving a migration the way Slack does: the handoff modal submitted by a rep, billing's buttons
 * and selects on the handoff card, billing's step modals. Every call goes through the app's HTTP
 * receiver with a signed request; answers are read from the fake Slack Web API's record.
 */
import { expect } from '@jest/globals';
import type { FakeSlack, RecordedCall } from './fake-slack.js';
import { blockActions, viewSubmission, type ElementValue } from './slack-requests.js';
import { CHANNELS, eventually, USERS, type TestApp } from './test-app.js';
import {
  HANDOFF_CARD,
  MIGRATION_COMPLETE,
  MIGRATION_HANDOFF,
  MIGRATION_PAYMENT_FAILED,
  MIGRATION_PROJECTS,
  MIGRATION_SUMMARY,
} from '../../views/ids.js';

export const REP_EMAIL = 'rep@sales.example.com';
const F = MIGRATION_HANDOFF.fields;

export type Block = {
  block_id?: string;
  type: string;
  text?: { text: string };
  elements?: { action_id: string; value?: string; text?: { text: string } }[];
};

export interface Driver {
  t: TestApp;
  slack: FakeSlack;
}

export interface HandoffFields {
  accountId: string;
  startDate: string;
  customerName?: string;
  customerEmail?: string;
  viewId?: string;
}

/** The handoff modal's state as Slack would send it. */
export function handoffValues(o: HandoffFields): Record<string, ElementValue> {
  return {
    [F.customerName]: { type: 'plain_text_input', value: o.customerName ?? 'Acme GmbH' },
    [F.accountId]: { type: 'plain_text_input', value: o.accountId },
    [F.salespersonEmail]: { type: 'email_text_input', value: REP_EMAIL },
    [F.enterprisePlan]: { type: 'plain_text_input', value: 'Enterprise 250k MAU' },
    [F.enterpriseStartDate]: { type: 'datepicker', selected_date: o.startDate },
    [F.customerEmail]: { type: 'email_text_input', value: o.customerEmail ?? null },
    [F.notes]: { type: 'plain_text_input', value: null },
  };
}

/** Sales hands the account off; returns the ticket's ref once billing's card is posted and stored. */
export async function handOff({ t, slack }: Driver, o: HandoffFields): Promise<string> {
  const res = await t.post(
    viewSubmission({
      callbackId: MIGRATION_HANDOFF.callbackId,
      userId: USERS.rep,
      viewId: o.viewId ?? `V${o.accountId}`,
      privateMetadata: '{}',
      values: handoffValues(o),
    }),
  );
  expect(res.text).toBe('');
  const post = await slack.waitFor(
    'chat.postMessage',
    (c) => c.args.channel === CHANNELS.billing && String(c.args.text).includes(o.accountId),
  );
  const ref = String(
    (post.args.blocks as Block[]).find((b) => b.block_id === HANDOFF_CARD.actionsBlock)?.elements?.[0]?.value,
  );
  await eventually(
    async () => (await t.app.db.models.SlackPost.findById(`handoff:${ref}`).lean())?.ts,
    'handoff post stored',
  );
  await eventually(
    async () => (await t.app.db.models.Ticket.findById(ref).lean())?.migration?.stage === 'handed_off',
    'handoff recorded',
  );
  return ref;
}

/** The presser's ephemeral answer (or DM) after an action. */
async function answerTo(slack: FakeSlack, userId: string): Promise<string> {
  const answer = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === userId);
  expect(answer.args.channel).toBe(CHANNELS.billing);
  return String(answer.args.text);
}

/** Presses a button on the handoff card; returns the ephemeral answer. */
export async function press(
  { t, slack }: Driver,
  actionId: string,
  ref: string,
  userId: string = USERS.billing,
): Promise<string> {
  slack.reset();
  const res = await t.post(
    blockActions({ actionId, blockId: HANDOFF_CARD.actionsBlock, value: ref, userId, channelId: CHANNELS.billing }),
  );
  expect(res.status).toBe(200);
  return answerTo(slack, userId);
}

/** Presses a button that opens a modal; returns the opened view, or the refusal when none opened. */
export async function openStep(
  { t, slack }: Driver,
  actionId: string,
  ref: string,
  userId: string = USERS.billing,
): Promise<{ view?: Record<string, unknown>; refusal?: string }> {
  slack.reset();
  const res = await t.post(
    blockActions({ actionId, blockId: HANDOFF_CARD.actionsBlock, value: ref, userId, channelId: CHANNELS.billing }),
  );
  expect(res.status).toBe(200);
  const opened = slack.waitFor('views.open');
  const refused = slack.waitFor('chat.postEphemeral', (c) => c.args.user === userId);
  // The loser times out later; its rejection is expected, not a failure.
  opened.catch(() => undefined);
  refused.catch(() => undefined);
  const call = await Promise.race([opened, refused]);
  return call.method === 'views.open'
    ? { view: call.args.view as Record<string, unknown> }
    : { refusal: String(call.args.text) };
}

/** Chooses a status in the handoff card's payment select (the request only; see selectPayment). */
async function choosePayment(
  { t }: Driver,
  ref: string,
  status: 'pending' | 'failed' | 'succeeded',
  userId: string,
): Promise<void> {
  const value = `${ref}|${status}`;
  const res = await t.post(
    blockActions({
      actionId: HANDOFF_CARD.actions.payment,
      blockId: HANDOFF_CARD.actionsBlock,
      userId,
      channelId: CHANNELS.billing,
      action: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: status }, value } },
    }),
  );
  expect(res.status).toBe(200);
}

/** Records a payment with the select on the handoff card; returns the answer (for failed: the refusal, when no modal opens). */
export async function selectPayment(
  d: Driver,
  ref: string,
  status: 'pending' | 'failed' | 'succeeded',
  userId: string = USERS.billing,
): Promise<string> {
  d.slack.reset();
  await choosePayment(d, ref, status, userId);
  return answerTo(d.slack, userId);
}

/** The "Payment failed" modal's state. */
export function paymentFailedValues(o: { reason?: string; detail?: string }): Record<string, ElementValue> {
  const R = MIGRATION_PAYMENT_FAILED.fields;
  return {
    [R.reason]: {
      type: 'static_select',
      selected_option: o.reason ? { text: { type: 'plain_text', text: o.reason }, value: o.reason } : null,
    },
    [R.detail]: { type: 'plain_text_input', value: o.detail ?? null },
  };
}

/** Chooses "Payment failed" on the card: returns the modal it opens, or the refusal when none opened. */
export async function choosePaymentFailed(
  d: Driver,
  ref: string,
  userId: string = USERS.billing,
): Promise<{ view?: Record<string, unknown>; refusal?: string }> {
  d.slack.reset();
  await choosePayment(d, ref, 'failed', userId);
  const opened = d.slack.waitFor('views.open');
  const refused = d.slack.waitFor('chat.postEphemeral', (c) => c.args.user === userId);
  opened.catch(() => undefined);
  refused.catch(() => undefined);
  const call = await Promise.race([opened, refused]);
  return call.method === 'views.open'
    ? { view: call.args.view as Record<string, unknown> }
    : { refusal: String(call.args.text) };
}

/** Records a failed payment the way billing does: the select opens the modal, the modal gives the reason; returns what billing was told. */
export async function failPayment(
  d: Driver,
  ref: string,
  reason: { reason: string; detail?: string } = { reason: 'card_declined' },
): Promise<string> {
  const { view, refusal } = await choosePaymentFailed(d, ref);
  if (!view) return refusal!;
  expect(view.callback_id).toBe(MIGRATION_PAYMENT_FAILED.callbackId);
  const { told, errors } = await submitStep(d, MIGRATION_PAYMENT_FAILED.callbackId, ref, paymentFailedValues(reason));
  return told ?? JSON.stringify(errors);
}

export interface StepSubmission {
  /** Slack's inline errors, when the submission was refused. */
  errors?: Record<string, string>;
  /** What the submitter was told, when it was accepted. */
  told?: string;
}

/** Submits one of billing's step modals for `ref`; returns the inline errors or what the submitter was told. */
export async function submitStep(
  { t, slack }: Driver,
  callbackId: string,
  ref: string,
  values: Record<string, ElementValue>,
  opts: { userId?: string; viewId?: string } = {},
): Promise<StepSubmission> {
  const userId = opts.userId ?? USERS.billing;
  slack.reset();
  const res = await t.post(
    viewSubmission({
      callbackId,
      userId,
      viewId: opts.viewId ?? `V${callbackId}${Date.now()}`,
      privateMetadata: JSON.stringify({ ref, channel: CHANNELS.billing }),
      values,
    }),
  );
  expect(res.status).toBe(200);
  if (res.text) {
    const body = JSON.parse(res.text) as { response_action?: string; errors?: Record<string, string> };
    if (body.response_action === 'errors') return { errors: body.errors ?? {} };
  }
  return { told: await answerTo(slack, userId) };
}

/** The billing summary modal's state: `dues` with an amount and method, or `credits`. */
export function summaryValues(o: {
  outcome?: 'credits' | 'dues';
  amount?: string;
  currency?: string;
  method?: 'card' | 'emandate';
  payNow?: boolean;
}): Record<string, ElementValue> {
  const S = MIGRATION_SUMMARY.fields;
  const selected = (value: string | undefined) => (value ? { text: { type: 'plain_text', text: value }, value } : null);
  return {
    [S.outcome]: { type: 'radio_buttons', selected_option: selected(o.outcome) },
    [S.amount]: { type: 'plain_text_input', value: o.amount ?? null },
    [S.currency]: { type: 'static_select', selected_option: selected(o.currency ?? 'EUR') },
    [S.method]: { type: 'radio_buttons', selected_option: selected(o.method) },
    [S.payNow]: { type: 'checkboxes', selected_options: o.payNow ? [selected('yes')] : [] },
    [S.note]: { type: 'plain_text_input', value: null },
  };
}

export function projectsValues(live: string, test = ''): Record<string, ElementValue> {
  const P = MIGRATION_PROJECTS.fields;
  return {
    [P.live]: { type: 'plain_text_input', value: live || null },
    [P.test]: { type: 'plain_text_input', value: test || null },
  };
}

export function completeValues(team: { csm?: string; tam?: string; kam?: string }): Record<string, ElementValue> {
  const C = MIGRATION_COMPLETE.fields;
  return {
    [C.csm]: { type: 'users_select', selected_user: team.csm ?? null },
    [C.tam]: { type: 'users_select', selected_user: team.tam ?? null },
    [C.kam]: { type: 'users_select', selected_user: team.kam ?? null },
  };
}

/** The last update of the billing card, as blocks. */
export async function billingCardUpdate(
  slack: FakeSlack,
  predicate: (call: RecordedCall) => boolean = () => true,
): Promise<Block[]> {
  const call = await slack.waitFor('chat.update', (c) => c.args.channel === CHANNELS.billing && predicate(c));
  return call.args.blocks as Block[];
}
