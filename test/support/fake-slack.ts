/**
 * A fake Slack Web API on loopback, so tests run the real WebClient and Bolt app end to end
 * without the internet. It answers the methods this bot uses the way Slack does (HTTP 200 with
 * `ok: false` for API errors, 429 + Retry-After for rate limits), records every call, and
 * rejects Block Kit that Slack would reject (see block-kit-limits.ts). It keeps the messages
 * posted, per channel, so history and thread reads answer from them; and it can be slow: a
 * delayed call takes effect when it arrives, but its answer comes later, as from a loaded Slack.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageProblems, viewProblems } from './block-kit-limits.js';

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  token?: string;
  at: number;
  ok: boolean;
  error?: string;
  /** Slack's `response_metadata.messages`, when it explains an error. */
  messages?: string[];
  /** For method `response_url`: the id given to `responseUrl(id)`. */
  responseUrlId?: string;
}

export interface Failure {
  status?: number;
  retryAfter?: number;
  error?: string;
}

export interface UserProfile {
  email?: string;
  real_name?: string;
  display_name?: string;
  [field: string]: unknown;
}

/** A message as Slack keeps it. */
export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown;
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  reply_count: number;
}

/** A file as Slack keeps it once its upload is completed (files.getUploadURLExternal, the upload, files.completeUploadExternal). */
export interface StoredFile {
  id: string;
  filename: string;
  title?: string;
  /** Where completeUploadExternal shared it (a DM's `D…` id, a channel). */
  channel?: string;
  initialComment?: string;
  content: Buffer;
}

export interface FakeSlack {
  /** Pass as `slackApiUrl` to Bolt or WebClient. */
  apiUrl: string;
  responseUrl(id?: string): string;
  calls: RecordedCall[];
  /** Every call since the fake started; `reset()` leaves it (for tests that walk a whole scenario). */
  allCalls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /**
   * Resolves with the first successful call that matches. A liveness bound, not a speed check: the
   * default (20 s) is generous because the suite must pass beside a CPU hog on two cores.
   */
  waitFor(method: string, predicate?: (call: RecordedCall) => boolean, timeoutMs?: number): Promise<RecordedCall>;
  /** Queues one failure for the next call to `method` (or `response_url`); queue several for several. */
  failNext(method: string, failure: Failure): void;
  /** While down, every call gets HTTP 503, as in a Slack outage. */
  setDown(down: boolean): void;
  /** The next call to `method` takes effect at once but is answered after `ms`; queue several for several. */
  delayNext(method: string, ms: number): void;
  /** Every call to `method` is answered after `ms` (0: at once), taking effect when it arrives. */
  setLatency(method: string, ms: number): void;
  /** What Slack holds, oldest first: one channel's messages, or every channel's. Posts to a user land in their DM, `D<user>`. */
  messages(channel?: string): StoredMessage[];
  /** Files whose upload was completed, oldest first. */
  files(): StoredFile[];
  /** Channels that exist before anything is posted to them (a post creates its channel; reading an unknown one is `channel_not_found`). */
  addChannels(...ids: string[]): void;
  setUser(id: string, profile: UserProfile): void;
  /** Where `apps.connections.open` sends a Socket Mode app (see fake-socket-mode.ts). */
  setSocketUrl(url: string): void;
  /** Forgets calls, queued failures and delays, outage, users and messages (channels added stay); ids keep counting so they stay unique. */
  reset(): void;
  close(): Promise<void>;
}

type Args = Record<string, unknown>;
type Outcome = { ok: true; body: Args } | { ok: false; error: string; messages?: string[] };

export const BOT = { userId: 'U0BOT', teamId: 'T0TEST', botId: 'B0BOT', appId: 'A0TEST' } as const;

/** The WebClient sends these as JSON strings inside a form body. */
const JSON_FIELDS = ['blocks', 'view', 'attachments', 'metadata', 'files'];

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

const ok = (body: Args = {}): Outcome => ({ ok: true, body });

/** Each requirement is a field name, or `a|b` when either will do. */
function missing(args: Args, ...required: string[]): Outcome | undefined {
  const absent = required.filter((r) => !r.split('|').some((field) => present(args[field])));
  if (absent.length === 0) return undefined;
  const messages = absent.map((r) => `[ERROR] missing required field: ${r.split('|').join(' or ')}`);
  return { ok: false, error: 'invalid_arguments', messages };
}

function invalidBlocks(messages: string[]): Outcome | undefined {
  return messages.length > 0 ? { ok: false, error: 'invalid_blocks', messages } : undefined;
}

/** Form bodies carry booleans as strings. */
const flag = (v: unknown): boolean => v === true || v === 'true' || v === '1' || v === 1;

/** A Slack timestamp (`1700000000.000100`) as whole microseconds, exact in a double; undefined if malformed. */
function micros(ts: unknown): number | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,6}))?$/.exec(String(ts));
  return m ? Number(m[1]) * 1e6 + Number((m[2] ?? '').padEnd(6, '0')) : undefined;
}

/** `oldest` and `latest` as Slack reads them: exclusive unless `inclusive`, latest defaulting to now. */
function timeRange(a: Args): { within: (ts: string) => boolean } | Outcome {
  const oldest = present(a.oldest) ? micros(a.oldest) : 0;
  if (oldest === undefined) return { ok: false, error: 'invalid_ts_oldest' };
  const latest = present(a.latest) ? micros(a.latest) : Number.MAX_SAFE_INTEGER;
  if (latest === undefined) return { ok: false, error: 'invalid_ts_latest' };
  const inclusive = flag(a.inclusive);
  return {
    within: (ts) => {
      const t = micros(ts)!;
      return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
    },
  };
}

/** One page of a cursor-paginated list; the cursor is opaque to clients, an offset here. */
function page<T>(
  items: T[],
  a: Args,
  max: number,
): { items: T[]; has_more: boolean; response_metadata: { next_cursor: string } } | Outcome {
  let offset = 0;
  if (present(a.cursor)) {
    const decoded = /^next:(\d+)$/.exec(Buffer.from(String(a.cursor), 'base64').toString('utf8'));
    if (!decoded) return { ok: false, error: 'invalid_cursor' };
    offset = Number(decoded[1]);
  }
  const limit = Math.min(max, Math.max(1, present(a.limit) ? Number(a.limit) || 100 : 100));
  const slice = items.slice(offset, offset + limit);
  const more = offset + limit < items.length;
  return {
    items: slice,
    has_more: more,
    response_metadata: { next_cursor: more ? Buffer.from(`next:${offset + limit}`).toString('base64') : '' },
  };
}

/** Slack's `invalid_metadata_format`: metadata must be `{ event_type: string, event_payload: object }`. */
function badMetadata(metadata: unknown): Outcome | undefined {
  if (metadata === undefined) return undefined;
  const m = metadata as { event_type?: unknown; event_payload?: unknown } | null;
  const valid =
    typeof m === 'object' &&
    m !== null &&
    typeof m.event_type === 'string' &&
    /^[A-Za-z0-9_]{1,255}$/.test(m.event_type) &&
    typeof m.event_payload === 'object' &&
    m.event_payload !== null;
  return valid ? undefined : { ok: false, error: 'invalid_metadata_format' };
}

async function readArgs(req: IncomingMessage, url: URL): Promise<Args | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  const args: Args = Object.fromEntries(url.searchParams);
  if ((req.headers['content-type'] ?? '').includes('application/json')) {
    try {
      const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
      if (typeof parsed !== 'object' || parsed === null) return undefined;
      Object.assign(args, parsed);
    } catch {
      return undefined;
    }
  } else {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  }
  for (const field of JSON_FIELDS) {
    const value = args[field];
    if (typeof value !== 'string') continue;
    // Left as a string when unparseable, so Block Kit validation reports it.
    try {
      args[field] = JSON.parse(value);
    } catch {
      /* keep the string */
    }
  }
  return args;
}

/**
 * The bytes of an upload as Slack's upload URL takes them: the body itself, or the first part of a
 * multipart/form-data body (what the WebClient sends).
 */
function uploadedBytes(body: Buffer, contentType: string): Buffer {
  const boundary = /multipart\/form-data;.*boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!boundary) return body;
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const start = body.indexOf(delimiter);
  const headersEnd = body.indexOf('\r\n\r\n', start);
  const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd);
  if (start < 0 || headersEnd < 0 || next < 0) return Buffer.alloc(0);
  return body.subarray(headersEnd + 4, next);
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: RecordedCall[] = [];
  const allCalls: RecordedCall[] = [];
  const failures = new Map<string, Failure[]>();
  const users = new Map<string, UserProfile>();
  const viewsByExternalId = new Map<string, string>();
  const waiters = new Set<{
    matches: (c: RecordedCall) => boolean;
    resolve: (c: RecordedCall) => void;
    reject: (e: Error) => void;
  }>();
  const delays = new Map<string, number[]>();
  const latency = new Map<string, number>();
  const pauses = new Set<{ timer: NodeJS.Timeout; done: () => void }>();
  /** Messages by channel, oldest first; declared channels exist while empty. */
  const channels = new Map<string, StoredMessage[]>();
  const declared = new Set<string>();
  let down = false;
  let serial = 0;
  let lastMicros = 0;
  let socketUrl: string | undefined;
  /** Uploads asked for (by file id): the declared name and length, and the bytes once sent to the upload URL. */
  const uploads = new Map<string, { filename: string; length: number; content?: Buffer }>();
  const completed: StoredFile[] = [];
  let uploadBase = '';

  /** Like Slack's: the time of posting in microseconds, unique within the workspace. */
  const nextTs = (): string => {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  };
  /** Slack answers a post to a user (`U…`) in their DM with the bot. */
  const conversationOf = (channel: string): string => (/^[UW]/.test(channel) ? `D${channel}` : channel);
  const channelMessages = (id: string): StoredMessage[] => {
    let list = channels.get(id);
    if (!list) channels.set(id, (list = []));
    return list;
  };
  /** A message as the history methods return it; metadata only when asked for. */
  const asListed = (m: StoredMessage, withMetadata: boolean): Args => ({
    type: 'message',
    user: BOT.userId,
    bot_id: BOT.botId,
    app_id: BOT.appId,
    text: m.text,
    blocks: m.blocks,
    ts: m.ts,
    ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    ...(m.reply_count > 0 ? { thread_ts: m.ts, reply_count: m.reply_count } : {}),
    ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
  });
  const post = (a: Args): Outcome => {
    const bad =
      missing(a, 'channel', 'text|blocks') ?? invalidBlocks(messageProblems(a.blocks)) ?? badMetadata(a.metadata);
    if (bad) return bad;
    const channel = conversationOf(String(a.channel));
    const list = channelMessages(channel);
    const threadTs = present(a.thread_ts) ? String(a.thread_ts) : undefined;
    const parent = threadTs ? list.find((m) => m.ts === threadTs) : undefined;
    if (parent) parent.reply_count += 1;
    const stored: StoredMessage = {
      channel,
      ts: nextTs(),
      reply_count: 0,
      ...(typeof a.text === 'string' ? { text: a.text } : {}),
      ...(a.blocks !== undefined ? { blocks: a.blocks } : {}),
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...(a.metadata !== undefined ? { metadata: a.metadata as StoredMessage['metadata'] } : {}),
    };
    list.push(stored);
    return ok({ channel, ts: stored.ts, message: asListed(stored, true) });
  };
  const history = (a: Args): Outcome => {
    const bad = missing(a, 'channel');
    if (bad) return bad;
    const list = channels.get(String(a.channel));
    if (!list) return { ok: false, error: 'channel_not_found' };
    const range = timeRange(a);
    if ('ok' in range) return range;
    // Newest first; thread replies live in their thread, not in the channel's history.
    const top = list.filter((m) => !m.thread_ts && range.within(m.ts)).reverse();
    const p = page(top, a, 999);
    if ('ok' in p) return p;
    return ok({
      messages: p.items.map((m) => asListed(m, flag(a.include_all_metadata))),
      has_more: p.has_more,
      pin_count: 0,
      response_metadata: p.response_metadata,
    });
  };
  const replies = (a: Args): Outcome => {
    const bad = missing(a, 'channel', 'ts');
    if (bad) return bad;
    const list = channels.get(String(a.channel));
    if (!list) return { ok: false, error: 'channel_not_found' };
    const parent = list.find((m) => m.ts === String(a.ts) && !m.thread_ts);
    if (!parent) return { ok: false, error: 'thread_not_found' };
    const range = timeRange(a);
    if ('ok' in range) return range;
    // The parent first, then its replies oldest first.
    const thread = [parent, ...list.filter((m) => m.thread_ts === parent.ts)].filter((m) => range.within(m.ts));
    const p = page(thread, a, 1000);
    if ('ok' in p) return p;
    return ok({
      messages: p.items.map((m) => asListed(m, flag(a.include_all_metadata))),
      has_more: p.has_more,
      response_metadata: p.response_metadata,
    });
  };
  const nextViewId = (): string => `V${String(++serial).padStart(10, '0')}`;

  const viewResult = (view: unknown, id: string): Args => ({
    ...(view as Args),
    id,
    team_id: BOT.teamId,
    app_id: BOT.appId,
    bot_id: BOT.botId,
    hash: `${Date.now()}.${id}`,
    state: { values: {} },
    root_view_id: id,
    previous_view_id: null,
  });

  const openView = (args: Args, allowHome: boolean): Outcome => {
    const bad = invalidBlocks(viewProblems(args.view, allowHome));
    if (bad) return bad;
    const externalId = (args.view as Args).external_id;
    const id = nextViewId();
    if (typeof externalId === 'string') viewsByExternalId.set(externalId, id);
    return ok({ view: viewResult(args.view, id) });
  };

  const methods: Record<string, (args: Args, token: string) => Outcome> = {
    'auth.test': () =>
      ok({
        url: 'https://fake-slack.test/',
        team: 'Test Team',
        user: 'bot',
        team_id: BOT.teamId,
        user_id: BOT.userId,
        bot_id: BOT.botId,
        is_enterprise_install: false,
      }),
    'chat.postMessage': post,
    'chat.postEphemeral': (a) =>
      missing(a, 'channel', 'user', 'text|blocks') ??
      invalidBlocks(messageProblems(a.blocks)) ??
      ok({ message_ts: nextTs() }),
    'chat.update': (a) => {
      const bad = missing(a, 'channel', 'ts') ?? invalidBlocks(messageProblems(a.blocks)) ?? badMetadata(a.metadata);
      if (bad) return bad;
      const stored = channels.get(String(a.channel))?.find((m) => m.ts === String(a.ts));
      if (stored)
        Object.assign(
          stored,
          typeof a.text === 'string' ? { text: a.text } : {},
          a.blocks !== undefined ? { blocks: a.blocks } : {},
        );
      return ok({ channel: a.channel, ts: a.ts, text: a.text, message: { text: a.text, blocks: a.blocks } });
    },
    'conversations.history': history,
    'conversations.replies': replies,
    'views.open': (a) => missing(a, 'trigger_id', 'view') ?? openView(a, false),
    'views.push': (a) => missing(a, 'trigger_id', 'view') ?? openView(a, false),
    'views.publish': (a) => missing(a, 'user_id', 'view') ?? openView(a, true),
    'views.update': (a) => {
      const bad = missing(a, 'view_id|external_id', 'view') ?? invalidBlocks(viewProblems(a.view, false));
      if (bad) return bad;
      const id = typeof a.view_id === 'string' ? a.view_id : viewsByExternalId.get(String(a.external_id));
      return id === undefined ? { ok: false, error: 'not_found' } : ok({ view: viewResult(a.view, id) });
    },
    'users.info': (a) => {
      const bad = missing(a, 'user');
      if (bad) return bad;
      const id = String(a.user);
      const profile: UserProfile = {
        email: `${id.toLowerCase()}@example.com`,
        real_name: `User ${id}`,
        display_name: id.toLowerCase(),
        ...users.get(id),
      };
      return ok({
        user: {
          id,
          team_id: BOT.teamId,
          name: profile.display_name,
          real_name: profile.real_name,
          deleted: false,
          is_bot: false,
          profile,
        },
      });
    },
    // Needs an app-level token (xapp-); a bot token gets Slack's refusal.
    'apps.connections.open': (_a, token) =>
      token.startsWith('xapp-') && socketUrl ? ok({ url: socketUrl }) : { ok: false, error: 'not_allowed_token_type' },
    // Slack's upload flow: a URL to send the bytes to, then completion, which shares the file.
    'files.getUploadURLExternal': (a) => {
      const bad = missing(a, 'filename', 'length');
      if (bad) return bad;
      const length = Number(a.length);
      if (!Number.isInteger(length) || length <= 0)
        return { ok: false, error: 'invalid_arguments', messages: ['[ERROR] length must be a positive integer'] };
      const id = `F${String(++serial).padStart(10, '0')}`;
      uploads.set(id, { filename: String(a.filename), length });
      return ok({ upload_url: `${uploadBase}/upload/${id}`, file_id: id });
    },
    'files.completeUploadExternal': (a) => {
      const bad = missing(a, 'files');
      if (bad) return bad;
      const list = Array.isArray(a.files) ? (a.files as { id?: string; title?: string }[]) : [];
      if (list.length === 0)
        return {
          ok: false,
          error: 'invalid_arguments',
          messages: ['[ERROR] files must be a JSON array of {id, title}'],
        };
      const done: StoredFile[] = [];
      for (const f of list) {
        const upload = f.id ? uploads.get(f.id) : undefined;
        // Slack refuses to complete a file whose bytes never arrived, or arrived short.
        if (!upload?.content || upload.content.length !== upload.length) return { ok: false, error: 'file_not_found' };
        done.push({
          id: f.id!,
          filename: upload.filename,
          content: upload.content,
          ...(f.title ? { title: f.title } : {}),
          ...(present(a.channel_id) ? { channel: conversationOf(String(a.channel_id)) } : {}),
          ...(typeof a.initial_comment === 'string' ? { initialComment: a.initial_comment } : {}),
        });
      }
      completed.push(...done);
      return ok({ files: done.map((f) => ({ id: f.id, name: f.filename, title: f.title ?? f.filename })) });
    },
    'conversations.open': (a) => {
      const bad = missing(a, 'users');
      if (bad) return bad;
      const ids = Array.isArray(a.users) ? a.users.map(String) : String(a.users).split(',');
      const id = ids.length === 1 ? `D${ids[0]}` : `G${ids.join('')}`;
      channelMessages(id);
      return ok({ channel: { id } });
    },
  };

  function record(call: RecordedCall): void {
    calls.push(call);
    allCalls.push(call);
    if (!call.ok) return;
    for (const waiter of waiters) if (waiter.matches(call)) waiter.resolve(call);
  }

  function reply(res: ServerResponse, status: number, body: Args, headers: Record<string, string> = {}): void {
    // A client that gave up on a delayed answer has closed its socket: nobody is left to answer.
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  }

  /** Outage and injected failures come before anything else, as they would from Slack's edge. */
  function interrupt(call: RecordedCall, res: ServerResponse): boolean {
    const failure = down ? { status: 503, error: 'service_unavailable' } : failures.get(call.method)?.shift();
    if (!failure) return false;
    const status = failure.status ?? 200;
    const headers: Record<string, string> = {};
    if (status === 429) headers['retry-after'] = String(failure.retryAfter ?? 1);
    else if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
    const error =
      failure.error ?? (status === 429 ? 'ratelimited' : status >= 500 ? 'service_unavailable' : 'fatal_error');
    record({ ...call, ok: false, error });
    reply(res, status, { ok: false, error }, headers);
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-slack');
    const [, area, name = ''] = url.pathname.split('/');
    if (area === 'upload') {
      // The upload URL takes the raw bytes (no token: the URL is the permission).
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upload = uploads.get(decodeURIComponent(name));
      const content = uploadedBytes(Buffer.concat(chunks), req.headers['content-type'] ?? '');
      const call: RecordedCall = {
        method: 'file_upload',
        args: { file_id: name, bytes: content.length },
        at: Date.now(),
        ok: Boolean(upload),
      };
      record(call);
      if (!upload) return reply(res, 404, { ok: false, error: 'not_found' });
      upload.content = content;
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end(`OK - ${upload.content.length}`);
    }
    if (area !== 'api' && area !== 'response') return reply(res, 404, { ok: false, error: 'not_found' });
    const parsed = await readArgs(req, url);
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const args = parsed ?? {};
    const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
    delete args.token;

    if (area === 'response') {
      const call: RecordedCall = {
        method: 'response_url',
        args,
        at: Date.now(),
        ok: true,
        responseUrlId: decodeURIComponent(name),
      };
      if (interrupt(call, res)) return;
      // Slack answers a bad response_url post with 400, which Bolt's respond() turns into an error.
      const problems = parsed ? messageProblems(args.blocks) : ['[ERROR] body must be JSON'];
      if (problems.length > 0) {
        record({ ...call, ok: false, error: 'invalid_blocks', messages: problems });
        return reply(res, 400, { ok: false, error: 'invalid_blocks', response_metadata: { messages: problems } });
      }
      record(call);
      return reply(res, 200, { ok: true });
    }

    const method = decodeURIComponent(name);
    const call: RecordedCall = { method, args, at: Date.now(), ok: false, ...(token ? { token } : {}) };
    if (interrupt(call, res)) return;
    // The call takes effect now; only its answer waits.
    const delayMs = delays.get(method)?.shift() ?? latency.get(method) ?? 0;
    const handler = methods[method];
    const outcome: Outcome = !parsed
      ? { ok: false, error: 'invalid_json' }
      : !handler
        ? { ok: false, error: 'unknown_method' }
        : !token
          ? { ok: false, error: 'not_authed' }
          : handler(args, token);
    if (outcome.ok) record({ ...call, ok: true });
    else record({ ...call, error: outcome.error, ...(outcome.messages ? { messages: outcome.messages } : {}) });
    if (delayMs > 0) await pause(delayMs);
    if (outcome.ok) return reply(res, 200, { ok: true, ...outcome.body });
    const { error, messages } = outcome;
    reply(res, 200, { ok: false, error, ...(messages ? { response_metadata: { messages } } : {}) });
  }

  /** Waits `ms`, or until the fake is closed. */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => entry.done(), ms),
        done: () => {
          clearTimeout(entry.timer);
          pauses.delete(entry);
          resolve();
        },
      };
      pauses.add(entry);
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) =>
      reply(res, 500, { ok: false, error: 'fake_slack_crashed', detail: String(err) }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  uploadBase = base;
  let responseSerial = 0;

  const summary = (): string =>
    calls.length === 0
      ? '(no calls)'
      : calls
          .map((c) => (c.ok ? c.method : `${c.method} ✗ ${c.error}${c.messages ? ` ${c.messages.join('; ')}` : ''}`))
          .join(', ');

  return {
    apiUrl: `${base}/api/`,
    responseUrl: (id) => `${base}/response/${encodeURIComponent(id ?? `r${++responseSerial}`)}`,
    calls,
    allCalls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    waitFor(method, predicate = () => true, timeoutMs = 20_000) {
      const matches = (c: RecordedCall): boolean => c.method === method && c.ok && predicate(c);
      const already = calls.find(matches);
      if (already) return Promise.resolve(already);
      return new Promise<RecordedCall>((resolve, reject) => {
        const waiter = {
          matches,
          resolve: (c: RecordedCall) => settle(() => resolve(c)),
          reject: (e: Error) => settle(() => reject(e)),
        };
        const settle = (finish: () => void): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
          finish();
        };
        const timer = setTimeout(
          () =>
            waiter.reject(
              new Error(
                `fake Slack: no successful ${method} call matched within ${timeoutMs} ms. Recorded: ${summary()}`,
              ),
            ),
          timeoutMs,
        );
        waiters.add(waiter);
      });
    },
    failNext(method, failure) {
      failures.set(method, [...(failures.get(method) ?? []), failure]);
    },
    setDown(value) {
      down = value;
    },
    delayNext(method, ms) {
      delays.set(method, [...(delays.get(method) ?? []), ms]);
    },
    setLatency(method, ms) {
      if (ms > 0) latency.set(method, ms);
      else latency.delete(method);
    },
    messages(channel) {
      const lists = channel === undefined ? [...channels.values()] : [channels.get(channel) ?? []];
      return lists.flat().map((m) => ({ ...m }));
    },
    files() {
      return completed.map((f) => ({ ...f }));
    },
    addChannels(...ids) {
      for (const id of ids) {
        declared.add(id);
        channelMessages(id);
      }
    },
    setSocketUrl(url) {
      socketUrl = url;
    },
    setUser(id, profile) {
      users.set(id, { ...users.get(id), ...profile });
    },
    reset() {
      calls.length = 0;
      failures.clear();
      users.clear();
      viewsByExternalId.clear();
      delays.clear();
      latency.clear();
      channels.clear();
      uploads.clear();
      completed.length = 0;
      for (const id of declared) channelMessages(id);
      down = false;
    },
    async close() {
      for (const waiter of waiters) waiter.reject(new Error('fake Slack closed while waiting'));
      for (const p of [...pauses]) p.done();
      // Clients keep connections alive; without this, close() would wait for them to time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
