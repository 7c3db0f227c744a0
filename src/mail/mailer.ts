/**
 * Sends outbox emails: over SMTP when SMTP_URL is set, otherwise as .eml files under the outbox
 * directory (so a fresh install loses nothing and an operator can read what would have gone out).
 * Everything that reaches a header is made one line and checked here, because subjects, names and
 * thread ids come from customers' mail and a line break in a header is a header of its own.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type NodemailerError, type SendMailOptions } from 'nodemailer';
import { z } from 'zod';
import { DeliveryError, type Deliverer } from '../jobs/outbox.js';
import { SMTP_TIMEOUTS } from '../jobs/delivery-timing.js';
import type { Logger } from '../logger.js';
import type { EmailPayload } from '../domain/email.js';
import { oneLine } from '../domain/email-templates.js';

export interface SentMail {
  messageId: string;
  file?: string;
  response?: string;
}

export interface Mailer {
  send(payload: EmailPayload): Promise<SentMail>;
  close(): Promise<void>;
}

/** The payload itself is unsendable; sending it again cannot succeed. */
export class InvalidEmailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEmailError';
  }
}

/** One plain addr-spec: no display name, no list, no brackets, no quoting, no comments. */
const ADDRESS =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
/** id-left "@" id-right as dot-atom text (RFC 5322 msg-id), without the angle brackets. */
const MESSAGE_ID = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}$/;

function address(value: string, field: string): string {
  const a = oneLine(value);
  if (a.length > 254 || !ADDRESS.test(a)) throw new InvalidEmailError(`${field} is not a single valid address`);
  return a;
}

function bareMessageId(value: string): string | undefined {
  const id = oneLine(value).replace(/^<+|>+$/g, '');
  return MESSAGE_ID.test(id) ? id : undefined;
}

/** Builds nodemailer's input from a payload, refusing what cannot be sent safely. */
export function composeEmail(payload: EmailPayload): { options: SendMailOptions; dropped: number } {
  const from = address(payload.from, 'from');
  const to = address(payload.to, 'to');
  const replyTo = payload.replyTo ? address(payload.replyTo, 'replyTo') : undefined;
  const messageId = bareMessageId(payload.messageId);
  if (!messageId) throw new InvalidEmailError('messageId is not a valid Message-ID');
  // Thread ids come from the customer's mail; a bad one costs threading, not the answer.
  const given = [payload.inReplyTo ?? '', ...(payload.references ?? [])].filter((id) => id !== '');
  const inReplyTo = payload.inReplyTo ? bareMessageId(payload.inReplyTo) : undefined;
  const references = [
    ...new Set((payload.references ?? []).map(bareMessageId).filter((id): id is string => id !== undefined)),
  ];
  const headers: Record<string, string> = payload.automatic
    ? { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' }
    : {};
  const name = payload.fromName ? oneLine(payload.fromName) : '';
  return {
    dropped: given.filter((id) => bareMessageId(id) === undefined).length,
    options: {
      from: name ? { name, address: from } : from,
      to,
      ...(replyTo ? { replyTo } : {}),
      subject: oneLine(payload.subject),
      text: payload.text,
      messageId: `<${messageId}>`,
      ...(inReplyTo ? { inReplyTo: `<${inReplyTo}>` } : {}),
      ...(references.length > 0 ? { references: references.map((id) => `<${id}>`).join(' ') } : {}),
      headers,
      // Explicit, so recipients can only ever be the one validated address.
      envelope: { from, to: [to] },
      xMailer: false,
    },
  };
}

/** Letters, digits and a few safe marks; never a path separator or a leading dot. */
function fileNameFor(messageId: string): string {
  return `${messageId
    .replace(/[^A-Za-z0-9._@+-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 200)}.eml`;
}

async function writeAtomically(dir: string, name: string, data: Buffer): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const target = path.join(dir, name);
  // Same directory, so the rename is atomic; readers of *.eml never see half a message.
  const temp = path.join(dir, `.${name}.${randomUUID()}.tmp`);
  try {
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
  return target;
}

export function createMailer(opts: { smtpUrl: string | undefined; outboxDir: string; log: Logger }): Mailer {
  const log = opts.log.child({ component: 'mailer' });
  const smtp = opts.smtpUrl
    ? nodemailer.createTransport({
        url: opts.smtpUrl,
        pool: true,
        maxConnections: 2,
        // The outbox retries with back-off; the pool only retries once for a stale pooled connection.
        maxRequeues: 1,
        // Part of the outbox's timing: an attempt must end well within a claim's lifetime.
        connectionTimeout: SMTP_TIMEOUTS.connectionMs,
        greetingTimeout: SMTP_TIMEOUTS.greetingMs,
        socketTimeout: SMTP_TIMEOUTS.socketMs,
        dnsTimeout: 10_000,
      })
    : undefined;
  const files = smtp
    ? undefined
    : nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

  async function send(payload: EmailPayload): Promise<SentMail> {
    const { options, dropped } = composeEmail(payload);
    const messageId = String(options.messageId).slice(1, -1);
    if (dropped > 0)
      log.warn({ event: 'mail.thread_ids_dropped', messageId, dropped }, 'invalid thread ids left out of the headers');
    if (smtp) {
      const info = await smtp.sendMail(options);
      log.info({ event: 'mail.sent', messageId, via: 'smtp' }, 'email sent');
      return { messageId, response: info.response };
    }
    if (!files) throw new Error('mailer has no transport');
    const info = await files.sendMail(options);
    const file = await writeAtomically(opts.outboxDir, fileNameFor(messageId), info.message as Buffer);
    log.info({ event: 'mail.sent', messageId, via: 'file', file }, 'email written to the outbox directory');
    return { messageId, file };
  }

  async function close(): Promise<void> {
    smtp?.close();
    files?.close();
  }

  return { send, close };
}

/** Translates a send failure into what the outbox should do with the row. */
export function toEmailDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (err instanceof InvalidEmailError) return new DeliveryError(`email invalid: ${err.message}`, { permanent: true });
  const e = err as NodemailerError;
  if (typeof e.responseCode === 'number') {
    // 5xx is a refusal the same message would get again; 503 only says the session was out of step.
    const permanent = e.responseCode >= 500 && e.responseCode < 600 && e.responseCode !== 503;
    const reply = oneLine(e.response ?? e.message ?? '').slice(0, 200);
    return new DeliveryError(`smtp ${e.responseCode}${e.command ? ` after ${e.command}` : ''}: ${reply}`, {
      permanent,
    });
  }
  // Envelope errors without a server reply come from the message itself (e.g. no recipients).
  if (e.code === 'EENVELOPE') return new DeliveryError(`email invalid: ${e.message}`, { permanent: true });
  // Connection refused, timeouts, TLS, DNS, bad credentials: the relay or our settings, not the mail.
  return new DeliveryError(
    `smtp unreachable: ${e.code ?? 'error'}${e.originalCode ? `/${e.originalCode}` : ''}: ${oneLine(e.message ?? String(err)).slice(0, 200)}`,
  );
}

const payloadSchema = z.object({
  from: z.string(),
  fromName: z.string().nullish(),
  to: z.string(),
  replyTo: z.string().nullish(),
  subject: z.string(),
  text: z.string(),
  messageId: z.string(),
  inReplyTo: z.string().nullish(),
  references: z.array(z.string()).nullish(),
  automatic: z.boolean().nullish(),
});

export function createEmailDeliverer(mailer: Mailer): Deliverer {
  return async (row) => {
    const parsed = payloadSchema.safeParse(row.payload);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || 'payload'))].join(', ');
      throw new DeliveryError(`email payload invalid: ${fields}`, { permanent: true });
    }
    const p = parsed.data;
    const payload: EmailPayload = {
      from: p.from,
      to: p.to,
      subject: p.subject,
      text: p.text,
      messageId: p.messageId,
      automatic: p.automatic === true,
      ...(p.fromName ? { fromName: p.fromName } : {}),
      ...(p.replyTo ? { replyTo: p.replyTo } : {}),
      ...(p.inReplyTo ? { inReplyTo: p.inReplyTo } : {}),
      ...(p.references ? { references: p.references } : {}),
    };
    try {
      const sent = await mailer.send(payload);
      return { ...sent };
    } catch (err) {
      throw toEmailDeliveryError(err);
    }
  };
}
