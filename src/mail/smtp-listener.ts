/**
 * The bot's own SMTP listener for the four mailboxes. A message is streamed into MongoDB as it
 * arrives and 250 is answered once it is stored; a database outage answers 451 so the sender's
 * server tries again later. At most `maxClients` sessions run at once; smtp-server answers 421 to
 * the next, and a sender's server retries that too.
 */
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession, type SMTPServerAddress } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { MAILBOXES, type Mailbox } from '../config.js';
import type { Logger } from '../logger.js';
import { MessageTooLarge, type InboundStore, type InboundTarget } from './inbound-store.js';

export interface SmtpListenerDeps {
  host: string;
  port: number;
  domain: string;
  maxBytes: number;
  maxClients: number;
  store: InboundStore['store'];
  log: Logger;
}

/** `support@domain` or `support+AR-1001@domain` → the mailbox and its tag; anything else is not ours. */
export function parseRecipient(address: string, domain: string): { mailbox: Mailbox; plusTag?: string } | undefined {
  const match = /^([a-z]+)(?:\+([^@\s]{1,64}))?@(.+)$/i.exec(address.trim());
  if (!match) return undefined;
  const [, local = '', tag, host = ''] = match;
  if (host.toLowerCase() !== domain.toLowerCase()) return undefined;
  const mailbox = local.toLowerCase() as Mailbox;
  if (!MAILBOXES.includes(mailbox)) return undefined;
  return tag ? { mailbox, plusTag: tag } : { mailbox };
}

class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function createSmtpListener(deps: SmtpListenerDeps) {
  const log = deps.log.child({ component: 'smtp' });
  const server = new SMTPServer({
    name: deps.domain,
    banner: 'account requests',
    size: deps.maxBytes,
    maxClients: deps.maxClients,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, callback: (err?: Error) => void) {
      if (parseRecipient(address.address, deps.domain)) return callback();
      callback(new SmtpReply(550, `5.1.1 <${address.address.slice(0, 100)}>: no such mailbox here`));
    },
    onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
      const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const targets: InboundTarget[] = [];
      for (const rcpt of session.envelope.rcptTo) {
        const target = parseRecipient(rcpt.address, deps.domain);
        if (target) targets.push({ ...target, recipient: rcpt.address.toLowerCase() });
      }
      deps
        .store({
          via: 'smtp',
          targets,
          envelopeFrom,
          // As a final delivery agent would, record the envelope sender: an empty one marks a bounce.
          prefix: Buffer.from(`Return-Path: <${envelopeFrom}>\r\n`),
          source: stream,
          maxBytes: deps.maxBytes,
        })
        .then(
          ({ size, rows }) => {
            for (const row of rows)
              log.info(
                { event: 'smtp.stored', id: row.id, mailbox: row.mailbox, size, duplicate: row.duplicate },
                'message stored',
              );
            callback();
          },
          (err: unknown) => {
            if (err instanceof MessageTooLarge) {
              log.info({ event: 'smtp.too_large', maxBytes: deps.maxBytes }, 'message over the size limit refused');
              return callback(new SmtpReply(552, `5.3.4 message larger than ${deps.maxBytes} bytes`));
            }
            if ((err as { code?: string }).code === 'ECONNECTION') {
              log.info({ event: 'smtp.client_left' }, 'client left in the middle of a message; nothing kept');
              return callback(new SmtpReply(451, '4.3.0 message not received in full'));
            }
            log.error(
              { event: 'smtp.store_failed', err: (err as Error).message },
              'could not store message; sender will retry',
            );
            callback(new SmtpReply(451, '4.3.0 temporary failure, please try again later'));
          },
        );
    },
  });
  server.on('error', (err: Error) => log.warn({ event: 'smtp.error', err: err.message }, 'SMTP connection error'));
  // smtp-server refuses a session past maxClients without telling the application. It counts a
  // new socket's session a moment after accepting it; counted now, the same test says whether it will.
  server.server.on('connection', () => {
    if (server.connections.size >= deps.maxClients)
      log.warn(
        { event: 'smtp.too_many_clients', maxClients: deps.maxClients },
        'SMTP session refused with 421: too many at once',
      );
  });

  return {
    listen(): Promise<number> {
      return new Promise((resolve, reject) => {
        server.server.once('error', reject);
        server.listen(deps.port, deps.host, () => {
          server.server.off('error', reject);
          resolve((server.server.address() as AddressInfo).port);
        });
      });
    },
    close(): Promise<void> {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
