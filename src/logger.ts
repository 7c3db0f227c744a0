/**
 * Structured logging: one JSON line per event. Secrets and message bodies never reach a log line;
 * the redaction list is a backstop, not a licence to log payloads.
 */
import { pino, type Logger } from 'pino';
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';

export type { Logger };

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'account-requests-bot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token',
          'botToken',
          'appToken',
          'signingSecret',
          'password',
          'authorization',
          '*.token',
          '*.password',
          'text',
          'html',
          'raw',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}

/** Bolt and the Web API client want their own logger interface; this routes their messages into ours. */
export function slackLogger(log: Logger, component = 'bolt'): SlackLogger {
  const child = log.child({ component });
  let level: LogLevel = LogLevel.INFO;
  const join = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: (...msg) => child.debug(join(msg)),
    info: (...msg) => child.info(join(msg)),
    warn: (...msg) => child.warn(join(msg)),
    error: (...msg) => child.error(join(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
