/** Migration to Enterprise, the sales handoff: `/migrate`, the modal, routing to a ticket, the billing post, and every refusal. */
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { FakeSlack } from './support/fake-slack.js';
import { useSlackApp } from './support/slack-app-fixture.js';
import { blockActions, slashCommand, viewSubmission } from './support/slack-requests.js';
import { CHANNELS, eventually, postOf, settled, USERS, type TestApp } from './support/test-app.js';
import { HANDOFF_CARD, MIGRATION_HANDOFF, TICKET_CARD } from '../views/ids.js';
import { MIGRATE_USAGE } from '../views/usage.js';
import { dayIn, isPastDay } from '../src/domain/migration.js';

const F = MIGRATION_HANDOFF.fields;
const REP_EMAIL = 'rep@sales.example.com';
let slack: FakeSlack;
let t: TestApp;

useSlackApp((c) => ({ slack, t } = c));
beforeEach(() => {
  slack.reset();
  slack.setUser(USERS.rep, { email: REP_EMAIL });
});

const today = () => dayIn('UTC', new Date()); // the test app runs with TZ_BILLING unset: UTC
const yesterday = () => dayIn('UTC', new Date(Date.now() - 86_400_000));

interface Handoff {
  customerName?: string;
  accountId?: string;
  salespersonEmail?: string;
  enterprisePlan?: string;
  enterpriseStartDate?: string;
  notes?: string;
}

function form(v: Handoff) {
  return {
    [F.customerName]: { type: 'plain_text_input', value: v.customerName ?? null },
    [F.accountId]: { type: 'plain_text_input', value: v.accountId ?? null },
    [F.salespersonEmail]: { type: 'email_text_input', value: v.salespersonEmail ?? null },
    [F.enterprisePlan]: { type: 'plain_text_input', value: v.enterprisePlan ?? null },
    [F.enterpriseStartDate]: { type: 'datepicker', selected_date: v.enterpriseStartDate ?? null },
    [F.notes]: { type: 'plain_text_input', value: v.notes ?? null },
  };
}

const complete = (accountId: string, more: Handoff = {}): Handoff => ({
  customerName: 'Acme GmbH',
  accountId,
  salespersonEmail: REP_EMAIL,
  enterprisePlan: 'Enterprise 250k MAU',
  enterpriseStartDate: today(),
  notes: 'Keeps the EU region.',
  ...more,
});

function submit(viewId: string, values: Handoff, userId: string = USERS.rep) {
  return t.post(
    viewSubmission({
      callbackId: MIGRATION_HANDOFF.callbackId,
      userId,
      viewId,
      privateMetadata: JSON.stringify({ channel: 'C0RANDOM' }),
      values: form(values),
    }),
  );
}

function inlineErrors(res: { text: string }): Record<string, string> {
  const body = JSON.parse(res.text) as { response_action: string; errors: Record<string, string> };
  expect(body.response_action).toBe('errors');
  return body.errors;
}

type Block = {
  block_id?: string;
  type: string;
  text?: { text: string };
  fields?: { text: string }[];
  elements?: { action_id: string; value?: string }[];
};
type Input = { block_id: string; element: { type: string; action_id: string; initial_value?: string } };

const billingPosts = () => slack.callsTo('chat.postMessage').filter((c) => c.ok && c.args.channel === CHANNELS.billing);
const ticketOf = (ref: string) => t.app.db.models.Ticket.findById(ref).lean();

describe('/migrate opens the handoff modal', () => {
  it('when a rep runs /migrate with an account ID, then the modal opens with the trigger_id at once and is then updated with the rep’s email', async () => {
    const before = await t.app.db.models.Ticket.countDocuments();
    const res = await t.post(
      slashCommand({
        command: '/migrate',
        text: 'r74-zwr-r44z',
        userId: USERS.rep,
        channelId: 'C0RANDOM',
        triggerId: 'trig-migrate',
      }),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const open = await slack.waitFor('views.open');
    expect(open.args.trigger_id).toBe('trig-migrate');
    const opened = open.args.view as { callback_id: string; blocks: Input[] };
    expect(opened.callback_id).toBe(MIGRATION_HANDOFF.callbackId);
    expect(opened.blocks.map((b) => b.block_id)).toEqual(Object.values(F));
    for (const b of opened.blocks) expect(b.element.action_id).toBe(b.block_id);
    expect(opened.blocks.find((b) => b.block_id === F.accountId)?.element.initial_value).toBe('R74-ZWR-R44Z');
    expect(opened.blocks.find((b) => b.block_id === F.salespersonEmail)?.element.type).toBe('email_text_input');
    expect(opened.blocks.find((b) => b.block_id === F.enterpriseStartDate)?.element.type).toBe('datepicker');

    const update = await slack.waitFor('views.update');
    expect(update.at).toBeGreaterThanOrEqual(open.at);
    expect(update.args.view_id).toMatch(/^V/);
    expect(update.args.hash).toBeTruthy();
    const updated = update.args.view as { blocks: Input[] };
    expect(updated.blocks.find((b) => b.block_id === F.salespersonEmail)?.element.initial_value).toBe(REP_EMAIL);
    expect(updated.blocks.find((b) => b.block_id === F.accountId)?.element.initial_value).toBe('R74-ZWR-R44Z');
    expect(slack.callsTo('users.info')[0]?.args.user).toBe(USERS.rep);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(before);
  });

  it('when /migrate is given something that is not an account ID, then the ack is the usage line and no modal opens', async () => {
    for (const text of ['12-34', 'R74-ZWR-R44Z extra', 'AR-1001']) {
      const res = await t.post(slashCommand({ command: '/migrate', text, userId: USERS.rep, channelId: 'C0RANDOM' }));
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ response_type: 'ephemeral', text: MIGRATE_USAGE });
    }
    await settled(t);
    expect(slack.callsTo('views.open')).toHaveLength(0);
  });
});

describe('handoff submission', () => {
  it('when a rep submits a complete handoff, then a migration ticket records it, its history says handed_off, and billing gets the card', async () => {
    const res = await submit('VHAPPY', complete('AAA-BBB-0001'));
    expect(res.status).toBe(200);
    expect(res.text).toBe('');

    const guard = await eventually(
      () => t.app.db.models.MigrationHandoff.findById('AAA-BBB-0001').lean(),
      'handoff guard',
    );
    const ticket = await eventually(async () => {
      const tk = await ticketOf(guard.ref);
      return tk?.migration?.stage === 'handed_off' ? tk : undefined;
    }, 'handed-off ticket');
    expect(ticket).toMatchObject({
      kind: 'migration',
      accountId: 'AAA-BBB-0001',
      team: 'sales',
      idempotencyKey: 'slack:view:VHAPPY',
    });
    expect(ticket.migration).toMatchObject({
      customerName: 'Acme GmbH',
      accountId: 'AAA-BBB-0001',
      salespersonEmail: REP_EMAIL,
      salesUserId: USERS.rep,
      enterprisePlan: 'Enterprise 250k MAU',
      enterpriseStartDate: today(),
      notes: 'Keeps the EU region.',
    });
    expect(ticket.history.map((h) => h.action)).toEqual(['opened', 'handed_off']);
    expect(ticket.history[1]).toMatchObject({ actor: `slack:${USERS.rep}` });

    const post = await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.billing);
    const blocks = post.args.blocks as Block[];
    expect(blocks.find((b) => b.block_id === HANDOFF_CARD.blockId(ticket.ref))).toBeDefined();
    const shown = JSON.stringify(blocks);
    for (const text of ['Acme GmbH', 'AAA-BBB-0001', REP_EMAIL, 'Enterprise 250k MAU', today(), 'Keeps the EU region.'])
      expect(shown).toContain(text);
    const actions = blocks.find((b) => b.block_id === HANDOFF_CARD.actionsBlock);
    // Nothing is scheduled yet, so there is nothing to withdraw.
    expect(actions?.elements?.map((e) => e.action_id)).toEqual([HANDOFF_CARD.actions.confirm]);
    expect(actions?.elements?.[0]?.value).toBe(ticket.ref);
    await eventually(async () => (await postOf(t, ticket.ref, 'handoff'))?.ts, 'billing post stored');

    // The sales-channel ticket card is a separate post.
    await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.sales);
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.rep);
    expect(String(told.args.text)).toContain(ticket.ref);
  });

  it('when the account already has a migration ticket from the customer’s email, then the handoff attaches to it', async () => {
    const { ticket: emailed } = await t.app.services.tickets.open({
      kind: 'migration',
      title: 'We want Enterprise',
      accountId: 'EML-AAA-0002',
      source: { channel: 'email', mailbox: 'sales', email: 'cto@customer.example' },
      idempotencyKey: 'test:email-migration',
      actor: 'email:cto@customer.example',
    });
    const card = await slack.waitFor(
      'chat.postMessage',
      (c) => c.args.channel === CHANNELS.sales && String(c.args.text).includes(emailed.ref),
    );
    const cardActions = (card.args.blocks as Block[]).find((b) => b.block_id === TICKET_CARD.actionsBlock);
    const start = cardActions?.elements?.find((e) => e.action_id === TICKET_CARD.actions.startHandoff);
    expect(start?.value).toBe(`${emailed.ref}|EML-AAA-0002`);

    // Start handoff on the card opens the same modal, prefilled with the ticket's account.
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.startHandoff,
        blockId: TICKET_CARD.actionsBlock,
        value: start!.value!,
        userId: USERS.rep,
        channelId: CHANNELS.sales,
        triggerId: 'trig-card',
      }),
    );
    const open = await slack.waitFor('views.open');
    expect(open.args.trigger_id).toBe('trig-card');
    const modal = open.args.view as { callback_id: string; blocks: Input[] };
    expect(modal.callback_id).toBe(MIGRATION_HANDOFF.callbackId);
    expect(modal.blocks.find((b) => b.block_id === F.accountId)?.element.initial_value).toBe('EML-AAA-0002');
    await slack.waitFor('views.update');

    const before = await t.app.db.models.Ticket.countDocuments();
    await submit('VATTACH', complete('EML-AAA-0002'));
    const attached = await eventually(async () => {
      const tk = await ticketOf(emailed.ref);
      return tk?.migration?.stage === 'handed_off' ? tk : undefined;
    }, 'handoff on the emailed ticket');
    expect(attached.history.map((h) => h.action)).toEqual(['opened', 'handed_off']);
    expect(attached.source).toMatchObject({ channel: 'email', email: 'cto@customer.example' });
    const post = await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.billing);
    expect(String(post.args.text)).toContain(emailed.ref);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(before);
    // The updated sales card no longer offers a second handoff.
    const updated = await slack.waitFor('chat.update', (c) => String(c.args.text).includes(emailed.ref));
    expect(JSON.stringify(updated.args.blocks)).not.toContain(TICKET_CARD.actions.startHandoff);
  });

  it('when the same submission arrives twice, then there is one ticket, one handoff line and one billing post', async () => {
    await submit('VRETRY', complete('RTY-AAA-0003'));
    await submit('VRETRY', complete('RTY-AAA-0003'));
    await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.billing);
    await settled(t);
    const tickets = await t.app.db.models.Ticket.find({ accountId: 'RTY-AAA-0003' }).lean();
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.history.filter((h) => h.action === 'handed_off')).toHaveLength(1);
    expect(billingPosts()).toHaveLength(1);
    expect(slack.callsTo('chat.postEphemeral').filter((c) => c.args.user === USERS.rep)).toHaveLength(1);
  });
});

describe('handoff refusals', () => {
  async function expectNothingChanged(accountId: string) {
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments({ accountId })).toBe(0);
    expect(await t.app.db.models.MigrationHandoff.findById(accountId).lean()).toBeNull();
    expect(billingPosts()).toHaveLength(0);
  }

  it('when required fields are missing, then each gets an inline error and nothing is stored', async () => {
    const res = await submit('VMISSING', { notes: 'only notes' });
    expect(res.status).toBe(200);
    const errors = inlineErrors(res);
    expect(Object.keys(errors).sort()).toEqual(
      [F.customerName, F.accountId, F.salespersonEmail, F.enterprisePlan, F.enterpriseStartDate].sort(),
    );
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments({ idempotencyKey: 'slack:view:VMISSING' })).toBe(0);
    expect(billingPosts()).toHaveLength(0);
  });

  it('when the email or the account ID is malformed, then each gets its inline error', async () => {
    const errors = inlineErrors(await submit('VMALFORMED', complete('12-34', { salespersonEmail: 'rep-at-example' })));
    expect(Object.keys(errors).sort()).toEqual([F.accountId, F.salespersonEmail].sort());
    expect(errors[F.accountId]).toMatch(/R74-ZWR-R44Z/);
    expect(errors[F.salespersonEmail]).toMatch(/email/i);
    expect(billingPosts()).toHaveLength(0);
  });

  it('when the start date is in the past, then the date gets an inline error (today is allowed)', async () => {
    const errors = inlineErrors(await submit('VPAST', complete('PST-AAA-0004', { enterpriseStartDate: yesterday() })));
    expect(Object.keys(errors)).toEqual([F.enterpriseStartDate]);
    expect(errors[F.enterpriseStartDate]).toMatch(/past/);
    await expectNothingChanged('PST-AAA-0004');
  });

  it('when a user without the sales role submits a handoff, then it is refused inline and nothing changes', async () => {
    const res = await submit('VOUTSIDER', complete('OUT-AAA-0005'), USERS.outsider);
    const errors = inlineErrors(res);
    expect(Object.values(errors).join(' ')).toMatch(/sales/);
    await expectNothingChanged('OUT-AAA-0005');
  });

  it('when the account’s migration is already handed off, then a second handoff gets an inline error naming that ticket', async () => {
    await submit('VFIRST', complete('TWO-AAA-0006'));
    const guard = await eventually(
      () => t.app.db.models.MigrationHandoff.findById('TWO-AAA-0006').lean(),
      'first handoff',
    );
    await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.billing);

    const errors = inlineErrors(await submit('VSECOND', complete('TWO-AAA-0006', { customerName: 'Acme again' })));
    expect(Object.keys(errors)).toEqual([F.accountId]);
    expect(errors[F.accountId]).toContain(guard.ref);
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments({ accountId: 'TWO-AAA-0006' })).toBe(1);
    expect((await ticketOf(guard.ref))?.migration?.customerName).toBe('Acme GmbH');
    expect(billingPosts()).toHaveLength(1);
  });

  it('when the handed-off ticket was closed, then the account can be handed off again', async () => {
    await submit('VCLOSE1', complete('CLS-AAA-0007'));
    const guard = await eventually(
      () => t.app.db.models.MigrationHandoff.findById('CLS-AAA-0007').lean(),
      'first handoff',
    );
    // Let the first handoff finish its writes before the ticket is closed.
    await eventually(
      async () => (await ticketOf(guard.ref))?.history.some((h) => h.action === 'handed_off'),
      'first handoff recorded',
    );
    await t.app.services.tickets.close(guard.ref, USERS.rep);
    const res = await submit('VCLOSE2', complete('CLS-AAA-0007'));
    expect(res.text).toBe('');
    const again = await eventually(async () => {
      const g = await t.app.db.models.MigrationHandoff.findById('CLS-AAA-0007').lean();
      return g?.viewId === 'VCLOSE2' ? g : undefined;
    }, 'second handoff');
    expect(again.ref).not.toBe(guard.ref);
  });
});

describe('billing buttons on the handoff card', () => {
  async function handedOff(accountId: string, viewId: string): Promise<string> {
    await submit(viewId, complete(accountId));
    const post = await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.billing);
    slack.reset();
    return String(
      (post.args.blocks as Block[]).find((b) => b.block_id === HANDOFF_CARD.actionsBlock)?.elements?.[0]?.value,
    );
  }

  it('when a user without the billing role presses Confirm & schedule, then they are refused ephemerally and nothing changes', async () => {
    const ref = await handedOff('BIL-AAA-0008', 'VBILL1');
    const before = await ticketOf(ref);
    for (const user of [USERS.outsider, USERS.rep]) {
      await t.post(
        blockActions({
          actionId: HANDOFF_CARD.actions.confirm,
          blockId: HANDOFF_CARD.actionsBlock,
          value: ref,
          userId: user,
          channelId: CHANNELS.billing,
        }),
      );
      // The rep also gets the handoff confirmation; wait for the answer to this press.
      const refusal = await slack.waitFor(
        'chat.postEphemeral',
        (c) => c.args.user === user && /Only billing/.test(String(c.args.text)),
      );
      expect(refusal.args.channel).toBe(CHANNELS.billing);
    }
    expect((await ticketOf(ref))?.history).toHaveLength(before!.history.length);
  });

  it('when billing presses Withdraw with nothing scheduled, or Confirm for a start today (its cancellation time has passed), then both are refused and nothing changes', async () => {
    const ref = await handedOff('BIL-AAA-0009', 'VBILL2');
    const before = await ticketOf(ref);
    for (const [actionId, reason] of [
      [HANDOFF_CARD.actions.withdraw, /Nothing is scheduled/],
      [HANDOFF_CARD.actions.confirm, /already passed/],
    ] as const) {
      slack.reset();
      await t.post(
        blockActions({
          actionId,
          blockId: HANDOFF_CARD.actionsBlock,
          value: ref,
          userId: USERS.billing,
          channelId: CHANNELS.billing,
        }),
      );
      const answer = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.billing);
      expect(String(answer.args.text)).toMatch(reason);
    }
    const after = await ticketOf(ref);
    expect(after?.history).toHaveLength(before!.history.length);
    expect(after?.migration?.stage).toBe('handed_off');
  });
});

describe('billing days', () => {
  it('when it is midday UTC, then far-east zones are already on the next day, and only earlier days are past', () => {
    const noon = new Date('2030-01-01T12:00:00Z');
    expect(dayIn('UTC', noon)).toBe('2030-01-01');
    expect(dayIn('Pacific/Kiritimati', noon)).toBe('2030-01-02');
    expect(dayIn('America/Los_Angeles', new Date('2030-01-01T05:00:00Z'))).toBe('2029-12-31');
    expect(isPastDay('2029-12-31', '2030-01-01')).toBe(true);
    expect(isPastDay('2030-01-01', '2030-01-01')).toBe(false);
  });
});
