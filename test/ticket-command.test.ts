/** `/ticket AR-n`, `/ticket mine`, bad arguments, card buttons with roles, and Slack retries. */
import { describe, expect, it } from '@jest/globals';
import type { FakeSlack } from './support/fake-slack.js';
import { useSlackApp } from './support/slack-app-fixture.js';
import { blockActions, eventCallback, slashCommand } from './support/slack-requests.js';
import { CHANNELS, eventually, postOf, settled, USERS, type TestApp } from './support/test-app.js';
import { TICKET_CARD } from '../views/ids.js';
import { TICKET_USAGE } from '../views/usage.js';

let slack: FakeSlack;
let t: TestApp;

async function openTicket(title: string, kind: 'billing' | 'support' = 'billing', userId: string = USERS.rep) {
  const { ticket } = await t.app.services.tickets.open({
    kind,
    title,
    source: { channel: 'slack', slackUserId: userId },
    idempotencyKey: `test:${title}`,
    actor: `slack:${userId}`,
  });
  await eventually(async () => (await postOf(t, ticket.ref))?.ts, `card of ${ticket.ref}`);
  return ticket;
}

useSlackApp((c) => ({ slack, t } = c));

describe('/ticket subcommands', () => {
  it('when /ticket AR-n names a ticket, then its details come back ephemerally', async () => {
    const ticket = await openTicket('Refund for March');
    await t.post(
      slashCommand({
        command: '/ticket',
        text: ticket.ref,
        userId: USERS.support,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('show'),
      }),
    );
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'show');
    expect(answer.args.response_type).toBe('ephemeral');
    expect(String(answer.args.text)).toContain(ticket.ref);
    expect(JSON.stringify(answer.args.blocks)).toContain('Refund for March');
  });

  it('when /ticket names a ticket that does not exist, then the answer says so', async () => {
    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'AR-99999',
        userId: USERS.support,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('missing'),
      }),
    );
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'missing');
    expect(answer.args.text).toBe('There is no ticket AR-99999.');
  });

  it('when /ticket mine is run, then the caller’s tickets are listed and nobody else’s', async () => {
    const mine = await openTicket('Mine: card expired', 'billing', USERS.support);
    const other = await openTicket('Not mine: VAT number', 'billing', USERS.rep);
    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'mine',
        userId: USERS.support,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('mine'),
      }),
    );
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'mine');
    const text = JSON.stringify(answer.args.blocks);
    expect(text).toContain(mine.ref);
    expect(text).not.toContain(other.ref);
  });

  it('when /ticket mine is run, then tickets the caller claimed are listed and closed ones are not', async () => {
    const claimed = await openTicket('Claimed: address change', 'support', USERS.rep);
    const done = await openTicket('Closed: duplicate invoice', 'support', USERS.rep);
    await t.app.services.tickets.claim(claimed.ref, USERS.admin);
    await t.app.services.tickets.claim(done.ref, USERS.admin);
    await t.app.services.tickets.close(done.ref, USERS.admin);
    await t.post(
      slashCommand({
        command: '/ticket',
        text: 'mine',
        userId: USERS.admin,
        channelId: 'C0X',
        responseUrl: slack.responseUrl('mine-claimed'),
      }),
    );
    const answer = await slack.waitFor('response_url', (c) => c.responseUrlId === 'mine-claimed');
    const text = JSON.stringify(answer.args.blocks);
    expect(text).toContain(claimed.ref);
    expect(text).not.toContain(done.ref);
    await settled(t); // the cards' updates are out before the next test counts Slack calls
  });

  it.each(['', 'bogus', 'new please', 'AR-x', 'mine AR-1001'])(
    'when the argument is %p, then the ack carries the usage line and nothing else happens',
    async (text) => {
      const res = await t.post(slashCommand({ command: '/ticket', text, userId: USERS.rep, channelId: 'C0X' }));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ response_type: 'ephemeral', text: TICKET_USAGE });
      await settled(t);
      expect(slack.calls).toHaveLength(0);
    },
  );
});

describe('card buttons and roles', () => {
  it('when someone outside the team presses Claim, then they are told why and the ticket is unchanged', async () => {
    const ticket = await openTicket('Claim me: invoice copy');
    slack.reset();
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.claim,
        value: ticket.ref,
        userId: USERS.outsider,
        channelId: CHANNELS.billing,
      }),
    );
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.outsider);
    expect(String(told.args.text)).toMatch(/Only billing team members can claim/);
    const after = await t.app.db.models.Ticket.findOne({ ref: ticket.ref }).lean();
    expect(after?.assignee).toBeUndefined();
    expect(after?.history).toHaveLength(1);
    expect(slack.callsTo('chat.update')).toHaveLength(0);
  });

  it('when a billing user presses Claim, then the ticket is theirs, the history says so and the card is updated in place', async () => {
    const ticket = await openTicket('Claim me too: upgrade question');
    const posted = await postOf(t, ticket.ref);
    slack.reset();
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.claim,
        value: ticket.ref,
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    const update = await slack.waitFor('chat.update', (c) => c.args.ts === posted?.ts);
    expect(update.args.channel).toBe(CHANNELS.billing);
    expect(JSON.stringify(update.args.blocks)).toContain(`<@${USERS.billing}>`);
    const after = await t.app.db.models.Ticket.findOne({ ref: ticket.ref }).lean();
    expect(after).toMatchObject({ assignee: USERS.billing, status: 'claimed' });
    expect(after?.history.map((h) => h.action)).toEqual(['opened', 'claimed']);
  });

  it('when a forged button value arrives, then nothing changes and the user is told', async () => {
    await t.post(
      blockActions({
        actionId: TICKET_CARD.actions.close,
        value: 'AR-1001; drop',
        userId: USERS.billing,
        channelId: CHANNELS.billing,
      }),
    );
    const told = await slack.waitFor('chat.postEphemeral', (c) => c.args.user === USERS.billing);
    expect(String(told.args.text)).toMatch(/went wrong|try again/i);
  });
});

describe('Slack retries', () => {
  it('when Slack retries a slash command (X-Slack-Retry-Num), then it is acknowledged and not run again', async () => {
    const res = await t.post(slashCommand({ command: '/ticket', text: 'new', userId: USERS.rep, channelId: 'C0X' }), {
      retryNum: 1,
    });
    expect(res.status).toBe(200);
    await settled(t);
    expect(slack.callsTo('views.open')).toHaveLength(0);
  });

  it('when the same event is delivered twice, then it is handled once', async () => {
    const event = eventCallback({
      event: { type: 'app_home_opened', user: USERS.rep, channel: 'D0REP', tab: 'home' },
      eventId: 'Ev0HOME1',
    });
    await t.post(event);
    await slack.waitFor('views.publish');
    await t.post(event, { retryNum: 1 });
    await settled(t);
    expect(slack.callsTo('views.publish')).toHaveLength(1);
    expect(slack.callsTo('views.publish')[0]?.args.user_id).toBe(USERS.rep);
  });
});
