/**
 * The test app's `settled()`, which tests assert "nothing else happened" after: it must wait for
 * work still running after Slack got its ack, or such assertions would pass without checking.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import { slashCommand } from './support/slack-requests.js';
import { CHANNELS, settled, startTestApp, USERS, type TestApp } from './support/test-app.js';

let slack: FakeSlack;
let t: TestApp;

beforeAll(async () => {
  slack = await startFakeSlack();
  t = await startTestApp({ slack });
});
afterAll(async () => {
  await t?.stop();
  await slack?.close();
});

it('when a listener is still waiting on Slack after its ack, then settled() returns only once it has finished', async () => {
  // `/plan` with an unknown account: the modal opens (answered late here), then the lookup, then
  // the notice replaces it and one ephemeral line follows, all after the ack.
  slack.delayNext('views.open', 1500);
  const res = await t.post(
    slashCommand({
      command: '/plan',
      text: 'nop-aaa-0000',
      userId: USERS.support,
      channelId: CHANNELS.support,
      responseUrl: slack.responseUrl('settled'),
    }),
  );
  expect(res.status).toBe(200);
  expect(t.app.slack?.inFlight()).toBe(1);
  await settled(t);
  expect(t.app.slack?.inFlight()).toBe(0);
  expect(slack.callsTo('views.update')).toHaveLength(1);
  expect(slack.calls.filter((c) => c.method === 'response_url' && c.responseUrlId === 'settled')).toHaveLength(1);
});
