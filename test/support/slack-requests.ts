/**
 * Requests as Slack sends them to the app's HTTP receiver: the same encodings (form fields for
 * slash commands, `payload=<json>` for interactivity, JSON for events) and a real v0 signature,
 * so tests go through Bolt's own verification of the raw body.
 */
import { createHmac } from 'node:crypto';

export interface SlackRequest {
  body: string;
  contentType: string;
}

export const TEST_TEAM = { id: 'T0TEST', domain: 'test-team' } as const;
export const TEST_APP_ID = 'A0TEST';
const FORM = 'application/x-www-form-urlencoded';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Slack refuses requests older than five minutes; this one is six. */
export const staleTimestamp = (): number => nowSeconds() - 6 * 60;

export function sign(body: string, secret: string, timestamp: number = nowSeconds()): Record<string, string> {
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestamp) };
}

let triggerSerial = 0;
const triggerId = (): string => `${Date.now()}.${++triggerSerial}.fake-trigger`;
const userOf = (id: string) => ({ id, username: id.toLowerCase(), name: id.toLowerCase(), team_id: TEST_TEAM.id });

function interactive(payload: Record<string, unknown>): SlackRequest {
  return { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: FORM };
}

export interface SlashCommandOptions {
  command: string;
  text: string;
  userId: string;
  channelId: string;
  triggerId?: string;
  responseUrl?: string;
  teamId?: string;
}

export function slashCommand(o: SlashCommandOptions): SlackRequest {
  const fields = {
    token: 'deprecated-verification-token',
    team_id: o.teamId ?? TEST_TEAM.id,
    team_domain: TEST_TEAM.domain,
    channel_id: o.channelId,
    channel_name: 'test-channel',
    user_id: o.userId,
    user_name: o.userId.toLowerCase(),
    command: o.command,
    text: o.text,
    api_app_id: TEST_APP_ID,
    is_enterprise_install: 'false',
    response_url: o.responseUrl ?? 'http://127.0.0.1:9/no-response-url',
    trigger_id: o.triggerId ?? triggerId(),
  };
  return { body: new URLSearchParams(fields).toString(), contentType: FORM };
}

export interface BlockActionsOptions {
  actionId: string;
  blockId?: string;
  value?: string;
  userId: string;
  channelId?: string;
  messageTs?: string;
  triggerId?: string;
  /** When given, the action came from this modal or Home tab rather than from a message. */
  view?: Record<string, unknown>;
  responseUrl?: string;
  /** Extra fields for the action itself, e.g. `{ type: 'static_select', selected_option }`. */
  action?: Record<string, unknown>;
}

export function blockActions(o: BlockActionsOptions): SlackRequest {
  const now = (Date.now() / 1000).toFixed(6);
  const action = {
    type: 'button',
    action_id: o.actionId,
    block_id: o.blockId ?? 'fake-block',
    ...(o.value !== undefined ? { value: o.value } : {}),
    action_ts: now,
    ...o.action,
  };
  const base = {
    type: 'block_actions',
    user: userOf(o.userId),
    api_app_id: TEST_APP_ID,
    token: 'deprecated-verification-token',
    trigger_id: o.triggerId ?? triggerId(),
    team: TEST_TEAM,
    enterprise: null,
    is_enterprise_install: false,
    actions: [action],
  };
  if (o.view) {
    const view = { id: 'V0000000000', type: 'modal', team_id: TEST_TEAM.id, state: { values: {} }, ...o.view };
    return interactive({ ...base, container: { type: 'view', view_id: view.id }, view });
  }
  const channelId = o.channelId ?? 'C0TEST';
  const messageTs = o.messageTs ?? '1700000000.000100';
  return interactive({
    ...base,
    container: { type: 'message', message_ts: messageTs, channel_id: channelId, is_ephemeral: false },
    channel: { id: channelId, name: 'test-channel' },
    message: { type: 'message', ts: messageTs, user: 'U0BOT', text: '' },
    state: { values: {} },
    response_url: o.responseUrl ?? 'http://127.0.0.1:9/no-response-url',
  });
}

/** An element's state as Slack reports it, e.g. `{ type: 'plain_text_input', value: 'x' }`. */
export type ElementValue = { type: string; action_id?: string; [field: string]: unknown };

export interface ViewSubmissionOptions {
  callbackId: string;
  /**
   * block_id → element value. The action_id is the value's `action_id`, else the block_id.
   * The full `{ block_id: { action_id: value } }` shape is accepted as well.
   */
  values: Record<string, ElementValue | Record<string, ElementValue>>;
  userId: string;
  viewId?: string;
  privateMetadata?: string;
  hash?: string;
}

function stateValues(values: ViewSubmissionOptions['values']): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(values).map(([blockId, v]) => {
      if (typeof v.type !== 'string') return [blockId, v];
      const { action_id: actionId, ...state } = v as ElementValue;
      return [blockId, { [actionId ?? blockId]: state }];
    }),
  );
}

export function viewSubmission(o: ViewSubmissionOptions): SlackRequest {
  const viewId = o.viewId ?? 'V0000000000';
  return interactive({
    type: 'view_submission',
    team: TEST_TEAM,
    user: userOf(o.userId),
    api_app_id: TEST_APP_ID,
    token: 'deprecated-verification-token',
    trigger_id: triggerId(),
    view: {
      id: viewId,
      team_id: TEST_TEAM.id,
      type: 'modal',
      callback_id: o.callbackId,
      private_metadata: o.privateMetadata ?? '',
      state: { values: stateValues(o.values) },
      hash: o.hash ?? '1700000000.fakehash',
      title: { type: 'plain_text', text: 'Test' },
      blocks: [],
      root_view_id: viewId,
      previous_view_id: null,
      app_id: TEST_APP_ID,
      external_id: '',
      bot_id: 'B0BOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

let eventSerial = 0;

export function eventCallback(o: { event: Record<string, unknown>; eventId?: string }): SlackRequest {
  const eventTime = nowSeconds();
  const body = {
    token: 'deprecated-verification-token',
    team_id: TEST_TEAM.id,
    api_app_id: TEST_APP_ID,
    event: { event_ts: `${eventTime}.000100`, ...o.event },
    type: 'event_callback',
    event_id: o.eventId ?? `Ev${String(++eventSerial).padStart(10, '0')}`,
    event_time: eventTime,
    authorizations: [
      { enterprise_id: null, team_id: TEST_TEAM.id, user_id: 'U0BOT', is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
  return { body: JSON.stringify(body), contentType: 'application/json' };
}

export interface PostOptions {
  secret: string;
  timestamp?: number;
  /** Slack's redelivery: sets X-Slack-Retry-Num and X-Slack-Retry-Reason: http_timeout. */
  retryNum?: number;
  /** Sign with a secret the app does not know, to show forged requests are refused. */
  forge?: boolean;
  headers?: Record<string, string>;
}

export interface PostResult {
  status: number;
  text: string;
  json?: unknown;
}

export async function postSigned(url: string, req: SlackRequest, o: PostOptions): Promise<PostResult> {
  const secret = o.forge ? `${o.secret}-forged` : o.secret;
  const headers: Record<string, string> = {
    'content-type': req.contentType,
    ...sign(req.body, secret, o.timestamp),
    ...(o.retryNum !== undefined
      ? { 'x-slack-retry-num': String(o.retryNum), 'x-slack-retry-reason': 'http_timeout' }
      : {}),
    ...o.headers,
  };
  const res = await fetch(url, { method: 'POST', headers, body: req.body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, ...(json !== undefined ? { json } : {}) };
}
