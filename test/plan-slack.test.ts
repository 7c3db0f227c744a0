/**
 * `/plan` and `/account` in Slack: signed requests to the real receiver, the fake Slack Web API, the
 * real app and scheduler, and a settable clock so previews show known dates and amounts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { settableClock } from '../src/clock.js';
import { PLAN_DUE_KIND } from '../src/jobs/plan-changes.js';
import { dueRowsOf } from './support/due-work.js';
import { ACCOUNT_VIEW, PLAN_MODAL, REACTIVATION_CARD } from '../views/ids.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { blockActions, slashCommand, viewSubmission, type ElementValue } from './support/slack-requests.js';
import { CHANNELS, eventually, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';

const F = PLAN_MODAL.fields;
let slack: FakeSlack;
let t: TestApp;

beforeAll(async () => {
  slack = await startFakeSlack();
  t = await startTestApp({
    slack,
    env: { TZ_BILLING: 'Europe/Berlin' },
    start: { clock: settableClock(new Date('2030-01-17T10:00:00Z')) },
  });
  for (const [id, tier] of [
    ['SLK-AAA-0001', 'startup-10k'],
    ['SLK-AAA-0002', 'startup-25k'],
    ['SLK-AAA-0003', 'startup-25k'],
    ['SLK-AAA-0004', 'startup-10k'],
  ] as const) {
    await t.app.services.accounts.create({
      id,
      name: `Slack ${id}`,
      contactEmail: `owner@${id.toLowerCase()}.test`,
      tier,
      addons: id === 'SLK-AAA-0001' ? ['sso', 'priority-support'] : [],
      status: 'active',
      signupDate: '2029-12-01',
      billingAnchor: '2030-01-01',
      billingDetailsComplete: true,
    });
  }
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
});
beforeEach(() => slack.reset());

type Block = {
  block_id?: string;
  type: string;
  text?: { text: string };
  accessory?: { action_id: string; value: string };
  elements?: { action_id: string; value?: string }[];
  element?: { initial_value?: string };
};

const select = (value: string): ElementValue => ({
  type: 'static_select',
  selected_option: { value, text: { type: 'plain_text', text: value } },
});
const text = (value: string | null): ElementValue => ({ type: 'plain_text_input', value });
function values(v: Record<string, ElementValue>) {
  return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, { [k]: e }]));
}
async function submit(
  userId: string,
  v: Record<string, ElementValue>,
  viewId = `VPLAN${Math.random().toString(36).slice(2, 8)}`,
) {
  const res = await t.post(
    viewSubmission({
      callbackId: PLAN_MODAL.callbackId,
      userId,
      viewId,
      privateMetadata: JSON.stringify({ channel: CHANNELS.billing }),
      values: v,
    }),
  );
  expect(res.status).toBe(200);
  return res.text === ''
    ? undefined
    : (JSON.parse(res.text) as { response_action: string; errors: Record<string, string> });
}
const accountOf = (id: string) => t.app.db.models.Account.findById(id).lean();

describe('/plan', () => {
  it('when run with a bad argument, then a usage line; with an account ID, then the modal opens with it filled in', async () => {
    const bad = await t.post(
      slashCommand({ command: '/plan', text: 'not-an-id please', userId: USERS.billing, channelId: CHANNELS.billing }),
    );
    expect(bad.text).toMatch(/Usage: `\/plan`/);
    await t.post(
      slashCommand({ command: '/plan', text: 'slk-aaa-0001', userId: USERS.billing, channelId: CHANNELS.billing }),
    );
    const open = await slack.waitFor('views.open');
    const view = open.args.view as { callback_id: string; blocks: Block[] };
    expect(view.callback_id).toBe(PLAN_MODAL.callbackId);
    expect(view.blocks.find((b) => b.block_id === F.accountId)?.element?.initial_value).toBe('SLK-AAA-0001');
  });

  it('when run with an account ID the bot does not know, then the modal that opened at once is replaced by a short notice and the person gets one ephemeral line', async () => {
    await t.post(
      slashCommand({
        command: '/plan',
        text: 'nop-aaa-0000',
        userId: USERS.support,
        channelId: CHANNELS.support,
        responseUrl: slack.responseUrl('plan-unknown'),
      }),
    );
    const open = await slack.waitFor('views.open');
    expect((open.args.view as { callback_id: string }).callback_id).toBe(PLAN_MODAL.callbackId); // opened before the lookup
    const update = await slack.waitFor('views.update');
    expect(update.args).toMatchObject({ view_id: expect.stringMatching(/^V\d+$/), hash: expect.any(String) });
    expect(update.at).toBeGreaterThanOrEqual(open.at);
    const notice = update.args.view as { blocks: Block[]; submit?: unknown };
    expect(notice.submit).toBeUndefined();
    expect(notice.blocks.find((b) => b.block_id === PLAN_MODAL.unknownAccountBlock)?.text?.text).toMatch(
      /No account NOP-AAA-0000 is known\..*`\/account NOP-AAA-0000`/,
    );
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'plan-unknown');
    expect(answer.args).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^No account NOP-AAA-0000 is known\./),
    });
    expect(String(answer.args.text).split('\n')).toHaveLength(1);
  });

  it('when run with a known account ID, then the modal stays as opened: no notice, no ephemeral answer', async () => {
    await t.post(
      slashCommand({
        command: '/plan',
        text: 'SLK-AAA-0002',
        userId: USERS.support,
        channelId: CHANNELS.support,
        responseUrl: slack.responseUrl('plan-known'),
      }),
    );
    await slack.waitFor('views.open');
    await settled(t);
    expect(slack.callsTo('views.update')).toHaveLength(0);
    expect(slack.calls.filter((c) => c.method === 'response_url')).toHaveLength(0);
  });

  it('when an upgrade above 100,000 MAU is submitted, then the Enterprise lead card in sales says what was asked, for which account, who asked, and the contact', async () => {
    await t.app.services.accounts.create({
      id: 'SLK-LED-0001',
      name: 'Lead Co',
      contactEmail: 'owner@lead.test',
      tier: 'startup-50k',
      status: 'active',
      signupDate: '2029-12-01',
      billingAnchor: '2030-01-01',
      billingDetailsComplete: true,
    });
    expect(
      await submit(
        USERS.billing,
        { [F.accountId]: text('SLK-LED-0001'), [F.change]: select('upgrade'), [F.tier]: select('enterprise') },
        'VLEAD1',
      ),
    ).toBeUndefined();
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.billing);
    const ref = /Lead: (AR-\d+)/.exec(String(told.args.text))?.[1];
    const card = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.sales && String(c.args.text).includes(`${ref} `),
    );
    const blocks = JSON.stringify(card.args.blocks);
    expect(blocks).toContain('Enterprise lead for Lead Co (SLK-LED-0001)');
    expect(blocks).toContain(
      'Upgrade to Enterprise (above 100,000 MAU) asked in Slack for Lead Co (SLK-LED-0001), now on Startup 50,000 MAU.',
    );
    expect(blocks).toContain('Contact: Lead Co, owner@lead.test');
    expect(blocks).toContain(`<@${USERS.billing}> in Slack`);
  });

  it('when the change and tier are chosen, then the modal shows the date and the prorated amount before submitting', async () => {
    const state = {
      values: values({
        [F.accountId]: text('SLK-AAA-0001'),
        [F.change]: select('upgrade'),
        [F.tier]: select('startup-25k'),
      }),
    };
    await t.post(
      blockActions({
        actionId: F.tier,
        blockId: F.tier,
        userId: USERS.billing,
        view: { id: 'VPREVIEW1', hash: 'h1', callback_id: PLAN_MODAL.callbackId, private_metadata: '{}', state },
        action: { type: 'static_select', selected_option: { value: 'startup-25k' } },
      }),
    );
    const update = await slack.waitFor('views.update');
    expect(update.args.view_id).toBe('VPREVIEW1');
    const blocks = (update.args.view as { blocks: Block[] }).blocks;
    const preview = blocks.find((b) => b.block_id === PLAN_MODAL.previewBlock)?.text?.text ?? '';
    expect(preview).toContain('at once (2030-01-17)');
    expect(preview).toContain('€58.07');
    expect(preview).toContain('total €58.07');
    expect(blocks.some((b) => b.block_id === F.tier)).toBe(true);
    // Nothing was changed by looking.
    expect((await accountOf('SLK-AAA-0001'))?.tier).toBe('startup-10k');
  });

  it('when the submission breaks a rule, then it is refused inline on the field and nothing is written', async () => {
    const before = await t.app.db.models.PlanChange.countDocuments({});
    expect(
      await submit(USERS.billing, {
        [F.accountId]: text('SLK-AAA-0002'),
        [F.change]: select('downgrade'),
        [F.tier]: select('startup-50k'),
      }),
    ).toMatchObject({ response_action: 'errors', errors: { [F.tier]: expect.stringMatching(/not below/) } });
    expect(
      await submit(USERS.billing, {
        [F.accountId]: text('NOP-AAA-0000'),
        [F.change]: select('upgrade'),
        [F.tier]: select('startup-50k'),
      }),
    ).toMatchObject({ errors: { [F.accountId]: expect.stringMatching(/no account NOP-AAA-0000/) } });
    expect(
      await submit(USERS.billing, {
        [F.accountId]: text('SLK-AAA-0002'),
        [F.change]: select('cancel'),
        [F.reason]: select('other'),
        [F.confirm]: text('DELETE'),
      }),
    ).toMatchObject({ errors: { [F.change]: expect.stringMatching(/Only admins/) } });
    expect(
      await submit(USERS.admin, {
        [F.accountId]: text('SLK-AAA-0002'),
        [F.change]: select('cancel'),
        [F.reason]: select('other'),
        [F.confirm]: text('delete'),
      }),
    ).toMatchObject({ errors: { [F.confirm]: expect.stringMatching(/Type DELETE/) } });
    expect(
      await submit(USERS.outsider, {
        [F.accountId]: text('SLK-AAA-0002'),
        [F.change]: select('upgrade'),
        [F.tier]: select('startup-50k'),
      }),
    ).toMatchObject({ errors: { [F.change]: expect.stringMatching(/Only support or billing/) } });
    expect(await submit(USERS.billing, { [F.accountId]: text('bad'), [F.change]: select('upgrade') })).toMatchObject({
      errors: { [F.accountId]: expect.any(String) },
    });
    expect(await t.app.db.models.PlanChange.countDocuments({})).toBe(before);
    expect(await accountOf('SLK-AAA-0002')).toMatchObject({ tier: 'startup-25k', status: 'active' });
  });

  it('when a valid upgrade is submitted, then it is applied and the submitter told where', async () => {
    expect(
      await submit(
        USERS.support,
        { [F.accountId]: text('SLK-AAA-0004'), [F.change]: select('upgrade'), [F.tier]: select('startup-50k') },
        'VUPGRADE4',
      ),
    ).toBeUndefined();
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.support);
    expect(told.args.text).toMatch(/^Done on AR-\d+: Upgrade to Startup 50,000 MAU at once/);
    expect((await accountOf('SLK-AAA-0004'))?.tier).toBe('startup-50k');
    expect(await t.app.db.models.PlanChange.findById('upgrade:VUPGRADE4').lean()).toMatchObject({
      status: 'applied',
      requestedBy: `slack:${USERS.support}`,
    });
  });
});

describe('/account', () => {
  it('when asked without an account ID, then a usage line', async () => {
    const res = await t.post(
      slashCommand({ command: '/account', text: '', userId: USERS.rep, channelId: CHANNELS.sales }),
    );
    expect(res.text).toMatch(/Usage: `\/account R74-ZWR-R44Z`/);
  });

  it('when an account has a scheduled downgrade, then /account lists it with its date and a Cancel button that removes it', async () => {
    expect(
      await submit(
        USERS.billing,
        { [F.accountId]: text('SLK-AAA-0003'), [F.change]: select('downgrade'), [F.tier]: select('startup-10k') },
        'VDOWN3',
      ),
    ).toBeUndefined();
    await slack.waitFor('chat.postEphemeral', (c) => String(c.args.text).startsWith('Scheduled on AR-'));
    await t.post(
      slashCommand({
        command: '/account',
        text: 'SLK-AAA-0003',
        userId: USERS.rep,
        channelId: CHANNELS.sales,
        responseUrl: slack.responseUrl('acct'),
      }),
    );
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'acct');
    const blocks = answer.args.blocks as Block[];
    const pending = blocks.find((b) => b.block_id === ACCOUNT_VIEW.pendingBlock('downgrade:VDOWN3'));
    expect(pending?.text?.text).toContain('2030-02-01 00:00 (Europe/Berlin)');
    expect(pending?.accessory).toMatchObject({
      action_id: ACCOUNT_VIEW.actions.cancelChange,
      value: 'downgrade:VDOWN3',
    });
    expect(blocks.find((b) => b.block_id === ACCOUNT_VIEW.ticketsBlock)?.text?.text).toMatch(/AR-\d+/);
    expect(blocks.find((b) => b.block_id === ACCOUNT_VIEW.fieldsBlock)).toBeDefined();

    // A sales rep may look but not cancel; support may.
    const press = async (userId: string) => {
      slack.reset();
      await t.post(
        blockActions({
          actionId: ACCOUNT_VIEW.actions.cancelChange,
          blockId: ACCOUNT_VIEW.pendingBlock('downgrade:VDOWN3'),
          value: 'downgrade:VDOWN3',
          userId,
          channelId: CHANNELS.support,
        }),
      );
      return String((await slack.waitFor('chat.postEphemeral', (c) => c.args.user === userId)).args.text);
    };
    expect(await press(USERS.rep)).toMatch(/Only support or billing/);
    expect(await dueRowsOf(t, PLAN_DUE_KIND, 'downgrade:VDOWN3')).toHaveLength(1);
    expect(await press(USERS.support)).toMatch(/^Cancelled: Downgrade to Startup 10,000 MAU/);
    expect(await dueRowsOf(t, PLAN_DUE_KIND, 'downgrade:VDOWN3')).toHaveLength(0);
    expect(await t.app.db.models.PlanChange.findById('downgrade:VDOWN3').lean()).toMatchObject({
      status: 'cancelled',
      cancelledBy: `slack:${USERS.support}`,
    });
    expect(await t.app.db.models.Outbox.findById('email:plan:downgrade:VDOWN3:cancelled').lean()).not.toBeNull();
  });
});

describe('reactivation from the ticket card', () => {
  it('when a paused account’s reactivation ticket is posted, then its card has Approve reactivation, and support’s click reactivates the account', async () => {
    await t.app.services.accounts.create({
      id: 'SLK-PAU-0001',
      name: 'Paused Co',
      contactEmail: 'owner@paused.test',
      tier: 'startup-10k',
      status: 'active',
      signupDate: '2029-12-01',
      billingAnchor: '2030-01-01',
      billingDetailsComplete: true,
    });
    await t.app.services.plans.request({
      userId: USERS.billing,
      accountId: 'SLK-PAU-0001',
      request: { type: 'pause' },
      requestKey: 'slk-pause',
    });
    const { ticket } = await t.app.services.tickets.open({
      kind: 'reactivation',
      title: 'Please reactivate SLK-PAU-0001',
      accountId: 'SLK-PAU-0001',
      source: { channel: 'email', mailbox: 'support', email: 'owner@paused.test' },
      idempotencyKey: 'email:support:slk-reactivate',
      actor: 'email:owner@paused.test',
    });
    const card = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.support && String(c.args.text).includes(ticket.ref),
    );
    expect(JSON.stringify(card.args.blocks)).toContain(REACTIVATION_CARD.actions.approve);

    slack.reset();
    await t.post(
      blockActions({
        actionId: REACTIVATION_CARD.actions.approve,
        value: ticket.ref,
        userId: USERS.support,
        channelId: CHANNELS.support,
      }),
    );
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.support);
    expect(told.args.text).toMatch(/Reactivate at once/);
    await eventually(async () => (await accountOf('SLK-PAU-0001'))?.status === 'active', 'account reactivated');
    expect(await t.app.db.models.PlanChange.findById('pause:slk-pause:pause_delete').lean()).toMatchObject({
      status: 'cancelled',
    });
  });
});
