/** The foundation slice: `/ticket new`, the modal, AR-1001 in MongoDB and the card in its channel. */
import { describe, expect, it } from '@jest/globals';
import type { FakeSlack } from './support/fake-slack.js';
import { useSlackApp } from './support/slack-app-fixture.js';
import { slashCommand, staleTimestamp, viewSubmission } from './support/slack-requests.js';
import { CHANNELS, eventually, postOf, settled, USERS, type TestApp } from './support/test-app.js';
import { TICKET_NEW, TICKET_CARD } from '../views/ids.js';

const F = TICKET_NEW.fields;
let slack: FakeSlack;
let t: TestApp;

useSlackApp((c) => ({ slack, t } = c));

function form(values: { kind?: string; title?: string; accountId?: string; description?: string }) {
  const v: Record<string, { type: string; [k: string]: unknown }> = {
    [F.kind]: {
      type: 'static_select',
      selected_option: values.kind ? { value: values.kind, text: { type: 'plain_text', text: values.kind } } : null,
    },
    [F.title]: { type: 'plain_text_input', value: values.title ?? null },
    [F.accountId]: { type: 'plain_text_input', value: values.accountId ?? null },
    [F.description]: { type: 'plain_text_input', value: values.description ?? null },
  };
  return v;
}

describe('/ticket new', () => {
  it('when a user runs /ticket new, then the modal opens with the trigger_id at once', async () => {
    const res = await t.post(
      slashCommand({ command: '/ticket', text: 'new', userId: USERS.rep, channelId: 'C0RANDOM', triggerId: 'trig-1' }),
    );
    expect(res.status).toBe(200);
    const open = await slack.waitFor('views.open');
    expect(open.args.trigger_id).toBe('trig-1');
    const view = open.args.view as { callback_id: string; blocks: { block_id: string }[] };
    expect(view.callback_id).toBe(TICKET_NEW.callbackId);
    expect(view.blocks.map((b) => b.block_id)).toEqual([F.kind, F.title, F.accountId, F.description]);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(0);
  });

  it('when the modal is submitted, then AR-1001 is stored and its card is posted to the team channel', async () => {
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.rep,
        viewId: 'VNEW1',
        privateMetadata: JSON.stringify({ channel: 'C0RANDOM' }),
        values: form({
          kind: 'billing',
          title: 'Invoice shows the wrong VAT',
          accountId: 'r74-zwr-r44z',
          description: 'Customer asked twice.',
        }),
      }),
    );
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    const ticket = await eventually(() => t.app.db.models.Ticket.findOne({ ref: 'AR-1001' }).lean(), 'AR-1001');
    expect(ticket).toMatchObject({
      number: 1001,
      kind: 'billing',
      status: 'new',
      title: 'Invoice shows the wrong VAT',
      accountId: 'R74-ZWR-R44Z',
      team: 'billing',
      source: { channel: 'slack', slackUserId: USERS.rep },
    });
    expect(ticket.history[0]).toMatchObject({ actor: `slack:${USERS.rep}`, action: 'opened' });

    const post = await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.billing);
    const blocks = post.args.blocks as { block_id?: string; elements?: { action_id: string; value: string }[] }[];
    expect(blocks.find((b) => b.block_id === TICKET_CARD.blockId('AR-1001'))).toBeDefined();
    const actions = blocks.find((b) => b.block_id === TICKET_CARD.actionsBlock);
    expect(actions?.elements?.map((e) => e.action_id)).toEqual([
      TICKET_CARD.actions.claim,
      TICKET_CARD.actions.changeKind,
      TICKET_CARD.actions.close,
    ]);
    expect(actions?.elements?.[0]?.value).toBe('AR-1001');
    await eventually(async () => (await postOf(t, 'AR-1001'))?.ts, 'card ts stored');

    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.rep);
    expect(String(told.args.text)).toContain('AR-1001');
  });

  it('when the same submission arrives twice, then there is still one ticket and one card', async () => {
    const submit = () =>
      t.post(
        viewSubmission({
          callbackId: TICKET_NEW.callbackId,
          userId: USERS.rep,
          viewId: 'VDUP',
          values: form({ kind: 'support', title: 'Cannot log in' }),
        }),
      );
    await submit();
    await submit();
    await eventually(() => t.app.db.models.Ticket.findOne({ idempotencyKey: 'slack:view:VDUP' }).lean(), 'ticket');
    await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNELS.support);
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments({ idempotencyKey: 'slack:view:VDUP' })).toBe(1);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.ok && c.args.channel === CHANNELS.support)).toHaveLength(
      1,
    );
  });

  it('when a required field is missing or the account ID is malformed, then each gets an inline error and nothing is stored', async () => {
    const before = await t.app.db.models.Ticket.countDocuments();
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.rep,
        viewId: 'VBAD',
        values: form({ kind: 'billing', accountId: '12-34' }),
      }),
    );
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { response_action: string; errors: Record<string, string> };
    expect(body.response_action).toBe('errors');
    expect(Object.keys(body.errors).sort()).toEqual([F.accountId, F.title].sort());
    expect(body.errors[F.accountId]).toMatch(/R74-ZWR-R44Z/);
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(before);
  });
});

describe('requests that are not from Slack', () => {
  it('when the signature is forged, then 401 and nothing is written', async () => {
    const before = await t.app.db.models.Ticket.countDocuments();
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.rep,
        viewId: 'VFORGED',
        values: form({ kind: 'billing', title: 'Forged ticket' }),
      }),
      { forge: true },
    );
    expect(res.status).toBe(401);
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(before);
    expect(slack.calls).toHaveLength(0);
  });

  it('when the timestamp is older than five minutes, then 401 and nothing is written', async () => {
    const before = await t.app.db.models.Ticket.countDocuments();
    const res = await t.post(
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.rep,
        viewId: 'VSTALE',
        values: form({ kind: 'billing', title: 'Replayed ticket' }),
      }),
      { timestamp: staleTimestamp() },
    );
    expect(res.status).toBe(401);
    await settled(t);
    expect(await t.app.db.models.Ticket.countDocuments()).toBe(before);
  });

  it('when the signature headers are missing, then 401', async () => {
    const res = await fetch(t.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"type":"url_verification","challenge":"x"}',
    });
    expect(res.status).toBe(401);
  });
});
