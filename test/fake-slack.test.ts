import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { App, LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient } from '@slack/web-api';
import { messageProblems, viewProblems } from './support/block-kit-limits.js';
import { startFakeSlack, type FakeSlack } from './support/fake-slack.js';
import {
  blockActions,
  eventCallback,
  postSigned,
  sign,
  slashCommand,
  staleTimestamp,
  viewSubmission,
} from './support/slack-requests.js';

const TOKEN = 'xoxb-test-token';
// The WebClient logs Slack's error messages itself; the tests assert on them instead.
const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};
const SECRET = 'test-signing-secret';

const modal = (title: string) => ({
  type: 'modal',
  title: { type: 'plain_text', text: title },
  blocks: [{ type: 'section', block_id: 'intro', text: { type: 'mrkdwn', text: 'Hello' } }],
});

/** What the WebClient threw, so a test can inspect Slack's error. */
async function failureOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('fake Slack Web API', () => {
  let fake: FakeSlack;
  let client: WebClient;

  beforeAll(async () => {
    fake = await startFakeSlack();
    client = new WebClient(TOKEN, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: quiet,
    });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('when the WebClient posts a message with blocks, then the call is recorded with parsed blocks', async () => {
    const blocks = [{ type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*New request*' } }];

    const first = await client.chat.postMessage({ channel: 'C123', text: 'New request', blocks });
    const second = await client.chat.postMessage({ channel: 'C123', text: 'again' });

    const call = await fake.waitFor('chat.postMessage', (c) => c.args.text === 'New request');
    expect(call).toMatchObject({ ok: true, token: TOKEN, args: { channel: 'C123', blocks } });
    expect(first.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(second.ts).not.toBe(first.ts);
  });

  it('when a modal title is longer than 24 characters, then views.open is rejected invalid_blocks', async () => {
    const err = await failureOf(
      client.views.open({ trigger_id: '123.456', view: modal('A title far too long for Slack') as never }),
    );

    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data).toMatchObject({
      ok: false,
      error: 'invalid_blocks',
      response_metadata: { messages: [expect.stringContaining('/view/title/text')] },
    });
    expect(fake.callsTo('views.open')).toEqual([expect.objectContaining({ ok: false, error: 'invalid_blocks' })]);
  });

  it('when a modal is within the limits, then views.open answers with a view id', async () => {
    const res = await client.views.open({ trigger_id: '123.456', view: modal('Request access') as never });

    expect(res.view?.id).toMatch(/^V/);
  });

  it('when two blocks share a block_id, then the message is rejected invalid_blocks', async () => {
    const block = { type: 'divider', block_id: 'same' };
    const err = await failureOf(client.chat.postMessage({ channel: 'C1', text: 'x', blocks: [block, block] }));

    expect(err.data).toMatchObject({ error: 'invalid_blocks' });
  });

  it('when a required argument is missing, then the call is rejected invalid_arguments naming it', async () => {
    const err = await failureOf(client.apiCall('chat.postMessage', { text: 'no channel' }));

    expect(err.data).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: channel'] },
    });
  });

  it('when no token is sent, then the call is rejected not_authed', async () => {
    const anonymous = new WebClient(undefined, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      logger: quiet,
    });

    const err = await failureOf(anonymous.auth.test());

    expect(err.data).toMatchObject({ error: 'not_authed' });
  });

  it('when the next call is rate limited, then the WebClient reports retryAfter and the call after succeeds', async () => {
    fake.failNext('chat.postMessage', { status: 429, retryAfter: 7 });

    const err = await failureOf(client.chat.postMessage({ channel: 'C1', text: 'hi' }));

    expect(err).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    await expect(client.chat.postMessage({ channel: 'C1', text: 'hi' })).resolves.toMatchObject({ ok: true });
    expect(fake.callsTo('chat.postMessage').map((c) => c.error ?? 'ok')).toEqual(['ratelimited', 'ok']);
  });

  it('when the next call fails with a Slack error, then the WebClient reports that error', async () => {
    fake.failNext('chat.postMessage', { error: 'channel_not_found' });

    const err = await failureOf(client.chat.postMessage({ channel: 'C404', text: 'hi' }));

    expect(err.data).toMatchObject({ ok: false, error: 'channel_not_found' });
  });

  it('when Slack is down, then every call fails with HTTP 503 until it is back', async () => {
    fake.setDown(true);

    const err = await failureOf(client.auth.test());
    fake.setDown(false);

    expect(err).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
    await expect(client.auth.test()).resolves.toMatchObject({ user_id: 'U0BOT', team_id: 'T0TEST' });
  });

  it('when users.info is asked about a user, then it returns their email, or the one set for them', async () => {
    fake.setUser('U0ANN', { email: 'ann@customer.test', real_name: 'Ann' });

    const plain = await client.users.info({ user: 'U0BOB' });
    const set = await client.users.info({ user: 'U0ANN' });

    expect(plain.user?.profile?.email).toBe('u0bob@example.com');
    expect(set.user?.profile).toMatchObject({ email: 'ann@customer.test', real_name: 'Ann' });
  });

  it('when an unknown method is called, then it is rejected unknown_method', async () => {
    const err = await failureOf(client.apiCall('chat.teleport', { channel: 'C1' }));

    expect(err.data).toMatchObject({ error: 'unknown_method' });
  });

  it('when waitFor sees no matching call, then it rejects listing what was called', async () => {
    await client.auth.test();

    await expect(fake.waitFor('views.open', undefined, 50)).rejects.toThrow(/views\.open.*Recorded: auth\.test/);
  });
});

describe('fake Slack: messages, history and threads', () => {
  let fake: FakeSlack;
  let client: WebClient;
  const meta = (key: string) => ({ event_type: 'test_event', event_payload: { key } });

  beforeAll(async () => {
    fake = await startFakeSlack();
    client = new WebClient(TOKEN, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      logger: quiet,
    });
  });
  afterEach(() => fake.reset());
  afterAll(() => fake.close());

  it('when messages are posted, then conversations.history lists them newest first, with metadata only when asked for', async () => {
    const first = await client.chat.postMessage({ channel: 'C1', text: 'one', metadata: meta('k1') });
    const second = await client.chat.postMessage({ channel: 'C1', text: 'two' });

    const plain = await client.conversations.history({ channel: 'C1' });
    const withMeta = await client.conversations.history({ channel: 'C1', include_all_metadata: true });

    expect(plain.messages?.map((m) => [m.ts, m.text])).toEqual([
      [second.ts, 'two'],
      [first.ts, 'one'],
    ]);
    expect(plain.messages?.some((m) => 'metadata' in m)).toBe(false);
    expect(withMeta.messages?.[1]).toMatchObject({ ts: first.ts, bot_id: 'B0BOT', metadata: meta('k1') });
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    expect(Math.abs(Number(first.ts) * 1000 - Date.now())).toBeLessThan(5000);
  });

  it('when history is read with oldest, latest, limit and a cursor, then it pages through that range as Slack does', async () => {
    const ts: string[] = [];
    for (let i = 0; i < 5; i++) ts.push((await client.chat.postMessage({ channel: 'C2', text: `m${i}` })).ts!);

    const range = await client.conversations.history({ channel: 'C2', oldest: ts[0], latest: ts[4] });
    const inclusive = await client.conversations.history({
      channel: 'C2',
      oldest: ts[0],
      latest: ts[4],
      inclusive: true,
    });
    const firstPage = await client.conversations.history({ channel: 'C2', limit: 2 });
    const secondPage = await client.conversations.history({
      channel: 'C2',
      limit: 2,
      cursor: firstPage.response_metadata?.next_cursor,
    });
    const lastPage = await client.conversations.history({
      channel: 'C2',
      limit: 2,
      cursor: secondPage.response_metadata?.next_cursor,
    });

    expect(range.messages?.map((m) => m.text)).toEqual(['m3', 'm2', 'm1']);
    expect(inclusive.messages?.map((m) => m.text)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect([firstPage, secondPage, lastPage].map((p) => p.messages?.map((m) => m.text))).toEqual([
      ['m4', 'm3'],
      ['m2', 'm1'],
      ['m0'],
    ]);
    expect([firstPage.has_more, secondPage.has_more, lastPage.has_more]).toEqual([true, true, false]);
    expect(lastPage.response_metadata?.next_cursor).toBe('');
  });

  it('when history is asked wrongly, then it is refused as Slack refuses it', async () => {
    await client.chat.postMessage({ channel: 'C3', text: 'x' });

    const noChannel = await failureOf(client.apiCall('conversations.history', {}));
    const unknown = await failureOf(client.conversations.history({ channel: 'C404' }));
    const badOldest = await failureOf(client.conversations.history({ channel: 'C3', oldest: 'yesterday' }));
    const badCursor = await failureOf(client.conversations.history({ channel: 'C3', cursor: 'bogus' }));

    expect(noChannel.data).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: channel'] },
    });
    expect([unknown, badOldest, badCursor].map((e) => (e.data as { error: string }).error)).toEqual([
      'channel_not_found',
      'invalid_ts_oldest',
      'invalid_cursor',
    ]);
  });

  it('when a channel is added before anything is posted to it, then its history is empty rather than unknown, also after reset', async () => {
    fake.addChannels('C0EMPTY');
    fake.reset();

    const res = await client.conversations.history({ channel: 'C0EMPTY' });

    expect(res.messages).toEqual([]);
  });

  it('when replies are posted in a thread, then conversations.replies lists the parent and its replies oldest first, and history only the parent', async () => {
    const parent = await client.chat.postMessage({ channel: 'C4', text: 'card' });
    await client.chat.postMessage({ channel: 'C4', thread_ts: parent.ts!, text: 'reply 1', metadata: meta('r1') });
    await client.chat.postMessage({ channel: 'C4', thread_ts: parent.ts!, text: 'reply 2' });

    const thread = await client.conversations.replies({ channel: 'C4', ts: parent.ts!, include_all_metadata: true });
    const history = await client.conversations.history({ channel: 'C4' });

    expect(thread.messages?.map((m) => m.text)).toEqual(['card', 'reply 1', 'reply 2']);
    expect(thread.messages?.[1]).toMatchObject({ thread_ts: parent.ts, metadata: meta('r1') });
    expect(history.messages?.map((m) => [m.text, m.reply_count])).toEqual([['card', 2]]);
    expect(fake.messages('C4').filter((m) => !m.thread_ts)).toHaveLength(1);
  });

  it('when replies are asked wrongly, then it is refused: no ts, an unknown thread, an unknown channel', async () => {
    await client.chat.postMessage({ channel: 'C5', text: 'card' });

    const noTs = await failureOf(client.apiCall('conversations.replies', { channel: 'C5' }));
    const noThread = await failureOf(client.conversations.replies({ channel: 'C5', ts: '1234567890.000001' }));
    const noChannel = await failureOf(client.conversations.replies({ channel: 'C404', ts: '1234567890.000001' }));

    expect(noTs.data).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: { messages: ['[ERROR] missing required field: ts'] },
    });
    expect([noThread, noChannel].map((e) => (e.data as { error: string }).error)).toEqual([
      'thread_not_found',
      'channel_not_found',
    ]);
  });

  it('when a message is posted to a user, then it lands in their DM, the channel conversations.open returns', async () => {
    const posted = await client.chat.postMessage({ channel: 'U0ANN', text: 'hello' });
    const opened = await client.conversations.open({ users: 'U0ANN' });

    const history = await client.conversations.history({ channel: opened.channel!.id! });

    expect(posted.channel).toBe(opened.channel?.id);
    expect(history.messages?.map((m) => m.text)).toEqual(['hello']);
  });

  it('when metadata is malformed, then the post is refused invalid_metadata_format and nothing is stored', async () => {
    const err = await failureOf(
      client.apiCall('chat.postMessage', {
        channel: 'C6',
        text: 'x',
        metadata: { event_type: 'has space', event_payload: {} },
      }),
    );

    expect(err.data).toMatchObject({ error: 'invalid_metadata_format' });
    expect(fake.messages('C6')).toEqual([]);
  });

  it('when a call is delayed past the client timeout, then the client times out but the message is already stored', async () => {
    const impatient = new WebClient(TOKEN, {
      slackApiUrl: fake.apiUrl,
      retryConfig: { retries: 0 },
      timeout: 100,
      logger: quiet,
    });
    fake.delayNext('chat.postMessage', 300);

    const started = Date.now();
    const err = await failureOf(impatient.chat.postMessage({ channel: 'C7', text: 'slow', metadata: meta('slow') }));
    const heldAt = fake.messages('C7').map((m) => m.text);
    const fast = await impatient.chat.postMessage({ channel: 'C7', text: 'fast' });

    expect(err.code).toBe(ErrorCode.RequestError);
    expect(Date.now() - started).toBeLessThan(300);
    expect(heldAt).toEqual(['slow']);
    expect(fast.ok).toBe(true);
    expect(fake.callsTo('chat.postMessage').map((c) => c.ok)).toEqual([true, true]);
  });

  it('when a latency is set, then every call to that method is answered after it until reset', async () => {
    fake.setLatency('auth.test', 150);

    const started = Date.now();
    await client.auth.test();
    await client.auth.test();
    const slow = Date.now() - started;
    fake.reset();
    const quick = Date.now();
    await client.auth.test();

    expect(slow).toBeGreaterThanOrEqual(300);
    expect(Date.now() - quick).toBeLessThan(150);
  });
});

describe('Block Kit limits', () => {
  const text = (n: number) => ({ type: 'plain_text', text: 'x'.repeat(n) });
  const options = (n: number, len = 5) => Array.from({ length: n }, (_, i) => ({ text: text(len), value: String(i) }));
  const select = (opts: unknown[]) => ({
    type: 'section',
    text: text(1),
    accessory: { type: 'static_select', action_id: 'a', options: opts },
  });

  it.each([
    ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), '/blocks'],
    ['a block without type', [{ block_id: 'b' }], '/blocks/0'],
    ['section text over 3000', [{ type: 'section', text: text(3001) }], '/blocks/0/text/text'],
    ['11 section fields', [{ type: 'section', fields: Array.from({ length: 11 }, () => text(1)) }], '/blocks/0/fields'],
    ['a section field over 2000', [{ type: 'section', fields: [text(2001)] }], '/blocks/0/fields/0/text'],
    ['header over 150', [{ type: 'header', text: text(151) }], '/blocks/0/text/text'],
    ['block_id over 255', [{ type: 'divider', block_id: 'b'.repeat(256) }], '/blocks/0/block_id'],
    [
      '26 action elements',
      [{ type: 'actions', elements: Array.from({ length: 26 }, () => ({ type: 'button', text: text(1) })) }],
      '/blocks/0/elements',
    ],
    [
      'action_id over 255',
      [{ type: 'actions', elements: [{ type: 'button', text: text(1), action_id: 'a'.repeat(256) }] }],
      '/blocks/0/elements/0/action_id',
    ],
    ['101 select options', [select(options(101))], '/blocks/0/accessory/options'],
    ['option text over 75', [select(options(1, 76))], '/blocks/0/accessory/options/0/text/text'],
    ['input without label', [{ type: 'input', element: { type: 'plain_text_input' } }], '/blocks/0'],
    [
      'input max_length over 3000',
      [{ type: 'input', label: text(1), element: { type: 'plain_text_input', max_length: 3001 } }],
      '/blocks/0/element/max_length',
    ],
  ])('when a message has %s, then it is a problem at that place', (_name, blocks, pointer) => {
    expect(messageProblems(blocks)).toEqual([expect.stringContaining(`[json-pointer:${pointer}]`)]);
  });

  it.each([
    ['no title', { type: 'modal', blocks: [] }, false, '/view'],
    ['a submit over 24', { type: 'modal', title: text(5), submit: text(25), blocks: [] }, false, '/view/submit/text'],
    [
      'private_metadata over 3000',
      { type: 'modal', title: text(5), private_metadata: 'm'.repeat(3001), blocks: [] },
      false,
      '/view/private_metadata',
    ],
    [
      'callback_id over 255',
      { type: 'modal', title: text(5), callback_id: 'c'.repeat(256), blocks: [] },
      false,
      '/view/callback_id',
    ],
    [
      '101 blocks',
      { type: 'home', blocks: Array.from({ length: 101 }, () => ({ type: 'divider' })) },
      true,
      '/view/blocks',
    ],
    ['type home outside views.publish', { type: 'home', blocks: [] }, false, '/view/type'],
    ['type message', { type: 'message', blocks: [] }, true, '/view/type'],
  ])('when a view has %s, then it is a problem at that place', (_name, view, allowHome, pointer) => {
    expect(viewProblems(view, allowHome)).toEqual([expect.stringContaining(`[json-pointer:${pointer}]`)]);
  });

  it('when a message and a home view are within every limit, then there are no problems', () => {
    const blocks = [
      select(options(100, 75)),
      { type: 'header', text: text(150) },
      { type: 'section', text: text(3000), fields: [text(2000)] },
    ];

    expect(messageProblems(blocks)).toEqual([]);
    expect(viewProblems({ type: 'home', blocks }, true)).toEqual([]);
  });
});

describe('signed requests', () => {
  it('when a body is signed, then the signature is v0 HMAC-SHA256 of "v0:{ts}:{body}"', () => {
    const body = 'token=abc&command=%2Frequest&text=hello';
    const expected = createHmac('sha256', 'shh').update(`v0:1531420618:${body}`).digest('hex');

    expect(sign(body, 'shh', 1531420618)).toEqual({
      'x-slack-signature': `v0=${expected}`,
      'x-slack-request-timestamp': '1531420618',
    });
  });

  it('when interactivity is built, then it is form-encoded payload=<json> in Slack state shape', () => {
    const req = viewSubmission({
      callbackId: 'request_modal',
      userId: 'U1',
      values: { email: { type: 'plain_text_input', value: 'a@b.test', action_id: 'email_input' } },
    });

    const payload = JSON.parse(new URLSearchParams(req.body).get('payload') ?? '{}');
    expect(req.contentType).toBe('application/x-www-form-urlencoded');
    expect(payload.view.state.values).toEqual({
      email: { email_input: { type: 'plain_text_input', value: 'a@b.test' } },
    });
  });
});

describe('signed requests against a Bolt app', () => {
  let fake: FakeSlack;
  let app: App;
  let url: string;

  beforeAll(async () => {
    fake = await startFakeSlack();
    app = new App({
      token: TOKEN,
      signingSecret: SECRET,
      clientOptions: { slackApiUrl: fake.apiUrl },
      logLevel: LogLevel.ERROR,
    });
    app.command('/request', async ({ ack, respond, client, command }) => {
      await ack();
      await client.chat.postMessage({ channel: command.channel_id, text: `got ${command.text}` });
      await respond({ text: 'on it' });
    });
    app.action('approve', async ({ ack }) => ack());
    app.event('app_mention', async () => undefined);
    const server = await app.start(0);
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterEach(() => fake.reset());
  afterAll(async () => {
    await app.stop();
    await fake.close();
  });

  it('when a signed slash command arrives, then Bolt runs the handler, which reaches the fake Slack', async () => {
    const req = slashCommand({
      command: '/request',
      text: 'access',
      userId: 'U1',
      channelId: 'C1',
      responseUrl: fake.responseUrl('cmd'),
    });

    const res = await postSigned(url, req, { secret: SECRET });

    expect(res.status).toBe(200);
    await expect(fake.waitFor('chat.postMessage', (c) => c.args.text === 'got access')).resolves.toBeDefined();
    await expect(fake.waitFor('response_url')).resolves.toMatchObject({
      responseUrlId: 'cmd',
      args: { text: 'on it' },
    });
  });

  it('when actions, events and retries arrive signed, then Bolt accepts them', async () => {
    const action = await postSigned(url, blockActions({ actionId: 'approve', userId: 'U1', value: 'r1' }), {
      secret: SECRET,
    });
    const event = await postSigned(
      url,
      eventCallback({ event: { type: 'app_mention', user: 'U1', text: 'hi', channel: 'C1' } }),
      {
        secret: SECRET,
        retryNum: 1,
      },
    );

    expect([action.status, event.status]).toEqual([200, 200]);
  });

  it('when the signature is forged or the timestamp is stale, then Bolt refuses with 401', async () => {
    const req = slashCommand({ command: '/request', text: 'x', userId: 'U1', channelId: 'C1' });

    const forged = await postSigned(url, req, { secret: SECRET, forge: true });
    const stale = await postSigned(url, req, { secret: SECRET, timestamp: staleTimestamp() });

    expect([forged.status, stale.status]).toEqual([401, 401]);
    expect(fake.callsTo('chat.postMessage')).toHaveLength(0);
  });
});

describe('file uploads through the fake Slack', () => {
  let fake: FakeSlack;
  let client: WebClient;
  beforeAll(async () => {
    fake = await startFakeSlack();
    client = new WebClient(TOKEN, { slackApiUrl: fake.apiUrl, logger: quiet, retryConfig: { retries: 0 } });
  });
  afterAll(async () => fake.close());

  it('when the WebClient uploads a file (filesUploadV2), then Slack keeps its bytes, name and DM', async () => {
    await client.filesUploadV2({
      channel_id: 'DU0BILL',
      filename: 'tickets.csv',
      title: 'Tickets',
      content: 'ref,kind\r\nAR-1001,billing\r\n',
      initial_comment: 'Here',
    });
    expect(fake.callsTo('files.getUploadURLExternal')[0]?.args).toMatchObject({
      filename: 'tickets.csv',
      length: '27',
    });
    expect(fake.files()).toEqual([
      {
        id: expect.stringMatching(/^F/),
        filename: 'tickets.csv',
        title: 'Tickets',
        channel: 'DU0BILL',
        initialComment: 'Here',
        content: Buffer.from('ref,kind\r\nAR-1001,billing\r\n'),
      },
    ]);
  });

  it('when an upload is completed before its bytes arrived, then Slack refuses it', async () => {
    const url = await client.files.getUploadURLExternal({ filename: 'x.csv', length: 10 });
    const err = await failureOf(
      client.files.completeUploadExternal({ files: [{ id: url.file_id! }], channel_id: 'DU0BILL' }),
    );
    expect((err.data as { error: string }).error).toBe('file_not_found');
    expect(fake.files()).toHaveLength(1);
  });
});
