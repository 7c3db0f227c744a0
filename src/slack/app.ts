/**
 * The Bolt app: HTTP receiver (Bolt verifies every signature over the raw body) or Socket Mode.
 * Our own HTTP server hands `POST /slack/events` to the receiver's request listener.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, type Middleware, type AnyMiddlewareArgs } from '@slack/bolt';
import type { SlackConfig } from '../config.js';
import type { Models } from '../db/models.js';
import { insertOnce } from '../db/claims.js';
import { slackLogger, type Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { registerHandlers, type HandlerDeps } from '../../handlers/index.js';

type EnabledSlack = Extract<SlackConfig, { enabled: true }>;

export interface SlackApp {
  app: App;
  /** Present in HTTP mode: serves `POST /slack/events`. */
  requestListener?: (req: IncomingMessage, res: ServerResponse) => void;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Requests whose listeners are still running (they go on after the ack); 0 when idle. */
  inFlight(): number;
}

/** Which kind of Slack request this is, for metrics and logs. */
export function requestKind(body: Record<string, unknown>): string {
  if (typeof body.command === 'string') return 'command';
  switch (body.type) {
    case 'block_actions':
      return 'action';
    case 'view_submission':
    case 'view_closed':
      return 'view_submission';
    case 'event_callback':
      return 'event';
    case 'block_suggestion':
      return 'options';
    default:
      return String(body.type ?? 'other');
  }
}

/**
 * Slack retries a delivery it thinks failed (X-Slack-Retry-Num). Events are remembered by
 * event_id under a unique index, so a retry is dropped; commands and actions are not retried by
 * Slack, and a retry of one is acknowledged and dropped; view submissions are idempotent by view.
 */
function retryGuard(models: Models, log: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const { body, context, next } = args;
    const kind = requestKind(body as Record<string, unknown>);
    const retryNum = context.retryNum;
    if (kind === 'event') {
      const eventId = (body as { event_id?: string }).event_id;
      if (eventId) {
        if (!(await insertOnce(models.SlackDelivery, { _id: `event:${eventId}`, at: new Date() }))) {
          log.info({ event: 'slack.retry_dropped', kind, eventId, retryNum }, 'event already handled');
          return;
        }
      }
    } else if (retryNum !== undefined && retryNum > 0 && (kind === 'command' || kind === 'action')) {
      // Socket Mode numbers the first delivery 0 (retry_attempt); HTTP sends X-Slack-Retry-Num only on retries.
      if ('ack' in args && typeof args.ack === 'function') await (args.ack as () => Promise<void>)();
      log.info({ event: 'slack.retry_dropped', kind, retryNum }, 'retried request ignored');
      return;
    }
    await next();
  };
}

export function createSlackApp(opts: {
  config: EnabledSlack;
  deps: HandlerDeps;
  models: Models;
  log: Logger;
  metrics: Metrics;
}): SlackApp {
  const { config, log, metrics } = opts;
  const logger = slackLogger(log);
  const clientOptions = {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    // Interactive calls (views.open) must answer quickly: one quick retry, never a long wait.
    retryConfig: { retries: 1, minTimeout: 100, maxTimeout: 500 },
    timeout: 5000,
  };
  let receiver: HTTPReceiver | undefined;
  let app: App;
  if (config.mode === 'socket') {
    // installerOptions.clientOptions is where Bolt's Socket Mode client reads the API URL for apps.connections.open.
    app = new App({
      token: config.botToken,
      appToken: config.appToken,
      socketMode: true,
      logger,
      clientOptions,
      installerOptions: { clientOptions },
      convoStore: false,
    });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret ?? '',
      endpoints: '/slack/events',
      logger,
      // Lets the middleware label the raw request so the HTTP layer can time the ack per kind.
      customPropertiesExtractor: (req) => ({ httpRequest: req }),
    });
    // No conversation store: no listener reads it, and Bolt's in-memory one costs every request a lookup.
    app = new App({ token: config.botToken, receiver, logger, clientOptions, convoStore: false });
  }

  // Counted first, before any listener acks: a caller who has the response can see the work.
  let inFlight = 0;
  app.use(async ({ next }) => {
    inFlight += 1;
    try {
      await next();
    } finally {
      inFlight -= 1;
    }
  });
  app.use(async ({ body, context, next }) => {
    const kind = requestKind(body as Record<string, unknown>);
    metrics.slackRequests.inc({ kind });
    const req = context.httpRequest as { slackKind?: string } | undefined;
    if (req) req.slackKind = kind;
    await next();
  });
  app.use(retryGuard(opts.models, log));
  registerHandlers(app, opts.deps);
  app.error(async (error) => {
    log.error(
      { event: 'slack.unhandled', err: error.message, code: (error as { code?: string }).code },
      'unhandled error in a Slack listener',
    );
  });

  return {
    app,
    ...(receiver ? { requestListener: receiver.requestListener } : {}),
    start: async () => {
      if (config.mode === 'socket') await app.start();
    },
    stop: async () => {
      if (config.mode === 'socket') await app.stop();
    },
    inFlight: () => inFlight,
  };
}
