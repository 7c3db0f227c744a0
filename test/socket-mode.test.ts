/**
 * Socket Mode: with SLACK_APP_TOKEN set the app opens its connection through apps.connections.open
 * (with the app-level token, on the fake Web API) and takes commands, interactivity and events over
 * a WebSocket on loopback instead of HTTP, through the same handlers.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { startFakeSocketMode, type FakeSocketMode } from './support/fake-socket-mode.js';
import { slashCommand, viewSubmission, type SlackRequest } from './support/slack-requests.js';
import { CHANNELS, eventually, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';
import { TICKET_NEW } from '../views/ids.js';
import { TICKET_USAGE } from '../views/usage.js';

let slack: FakeSlack;
let socket: FakeSocketMode;
let t: TestApp;

beforeAll(async () => {
  slack = await startFakeSlack();
  socket = await startFakeSocketMode();
  slack.setSocketUrl(socket.url);
  t = await startTestApp({ slack, env: { SLACK_APP_TOKEN: 'xapp-1-A0TEST-socket-test', SLACK_SIGNING_SECRET: '' } });
  await socket.connected();
});
afterAll(async () => {
  await t?.stop();
  await socket?.close();
  await slack?.close();
});

/** The same payloads Slack sends over HTTP, as the JSON object a socket envelope carries. */
const payloadOf = (req: SlackRequest): Record<string, unknown> => {
  const form = Object.fromEntries(new URLSearchParams(req.body));
  return typeof form.payload === 'string' ? (JSON.parse(form.payload) as Record<string, unknown>) : form;
};

it('when SLACK_APP_TOKEN is set, then the app connects over Socket Mode with the app token and takes no Slack requests over HTTP', async () => {
  const open = await slack.waitFor('apps.connections.open');
  expect(open.token).toBe('xapp-1-A0TEST-socket-test');
  expect(t.app.slack?.requestListener).toBeUndefined();
  const res = await fetch(t.eventsUrl, { method: 'POST', body: 'x' });
  expect(res.status).toBe(503);
});

it('when a bad /ticket arrives over the socket, then the ack carries the usage, ephemerally', async () => {
  const ack = await socket.send(
    'slash_commands',
    payloadOf(slashCommand({ command: '/ticket', text: 'open one please', userId: USERS.rep, channelId: 'C0RANDOM' })),
  );
  expect(ack.payload).toEqual({ response_type: 'ephemeral', text: TICKET_USAGE });
});

it('when Slack redelivers a command over the socket, then the first delivery is served and the redelivery acked and dropped', async () => {
  slack.reset();
  const command = payloadOf(
    slashCommand({
      command: '/ticket',
      text: 'new',
      userId: USERS.rep,
      channelId: 'C0RANDOM',
      triggerId: 'trig-socket',
    }),
  );
  await socket.send('slash_commands', command);
  await slack.waitFor('views.open', (c) => c.args.trigger_id === 'trig-socket');
  const again = await socket.send('slash_commands', command, { retryAttempt: 1 });
  expect(again.payload ?? {}).toEqual({});
  await settled(t);
  expect(slack.callsTo('views.open')).toHaveLength(1);
});

it('when a ticket modal is submitted over the socket, then the ticket is stored and its card posted', async () => {
  const values = {
    [TICKET_NEW.fields.kind]: {
      type: 'static_select',
      selected_option: { value: 'support', text: { type: 'plain_text', text: 'support' } },
    },
    [TICKET_NEW.fields.title]: { type: 'plain_text_input', value: 'Over the socket' },
    [TICKET_NEW.fields.accountId]: { type: 'plain_text_input', value: null },
    [TICKET_NEW.fields.description]: { type: 'plain_text_input', value: null },
  };
  const ack = await socket.send(
    'interactive',
    payloadOf(
      viewSubmission({
        callbackId: TICKET_NEW.callbackId,
        userId: USERS.support,
        viewId: 'VSOCKET1',
        privateMetadata: '{}',
        values,
      }),
    ),
  );
  expect(ack.payload ?? {}).toEqual({});
  const ticket = await eventually(
    () => t.app.db.models.Ticket.findOne({ title: 'Over the socket' }).lean(),
    'ticket stored',
  );
  expect(ticket).toMatchObject({ kind: 'support', source: { channel: 'slack', slackUserId: USERS.support } });
  const post = await slack.waitFor(
    'chat.postMessage',
    (c) => c.args.channel === CHANNELS.support && String(c.args.text).includes(ticket.ref),
  );
  expect(post.token).toBe('xoxb-test-token');
});
