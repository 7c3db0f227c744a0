/**
 * A real SMTP server on loopback that keeps what it receives, so tests send over real SMTP with
 * nodemailer and check both the envelope (who the relay was told to deliver to) and the message
 * (what the recipient would read). It can refuse the next message the way a relay does.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  subject: string | undefined;
  messageId: string | undefined;
  inReplyTo: string | undefined;
  references: string[];
  autoSubmitted: string | undefined;
  autoResponseSuppress: string | undefined;
  from: { address: string; name: string } | undefined;
  replyTo: string | undefined;
  to: string[];
  bcc: string[];
  text: string | undefined;
}

export interface SmtpSink {
  /** `smtp://127.0.0.1:PORT`, to pass as SMTP_URL. */
  url: string;
  port: number;
  messages: ReceivedMail[];
  waitFor(predicate?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  /** Answers the next DATA with this reply, e.g. 451 (try later) or 550 (refused); queue several for several. */
  failNext(code: number, message?: string): void;
  reset(): void;
  close(): Promise<void>;
}

const addresses = (o: AddressObject | AddressObject[] | undefined) =>
  ([] as AddressObject[]).concat(o ?? []).flatMap((a) => a.value.map((v) => v.address ?? ''));

/** Message-IDs without their angle brackets, as the app stores them. */
const bare = (id: string | undefined) => id?.trim().replace(/^<|>$/g, '');

/** Parses a received message into the fields tests look at; exported for .eml files too. */
export async function readMail(raw: Buffer, envelope: ReceivedMail['envelope']): Promise<ReceivedMail> {
  const parsed = await simpleParser(raw);
  const header = (name: string) => {
    const v = parsed.headers.get(name);
    return v === undefined ? undefined : String(v);
  };
  const from = parsed.from?.value[0];
  return {
    envelope,
    raw,
    subject: parsed.subject,
    messageId: bare(parsed.messageId),
    inReplyTo: bare(parsed.inReplyTo),
    references: ([] as string[]).concat(parsed.references ?? []).map((r) => bare(r) ?? r),
    autoSubmitted: header('auto-submitted'),
    autoResponseSuppress: header('x-auto-response-suppress'),
    from: from ? { address: from.address ?? '', name: from.name } : undefined,
    replyTo: addresses(parsed.replyTo)[0],
    to: addresses(parsed.to),
    bcc: addresses(parsed.bcc),
    text: parsed.text,
  };
}

export async function startSmtpSink(opts: { failWith?: { code: number; message?: string }[] } = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const failures = [...(opts.failWith ?? [])];
  const waiters = new Set<() => void>();

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => callback(err));
      // The whole message is read before answering, as a relay does, even when refusing it.
      stream.on('end', () => {
        const failure = failures.shift();
        if (failure) {
          const err: SMTPServerError = new Error(failure.message ?? `Refused with ${failure.code}`);
          err.responseCode = failure.code;
          callback(err);
          return;
        }
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        readMail(Buffer.concat(chunks), envelope).then(
          (mail) => {
            messages.push(mail);
            for (const wake of waiters) wake();
            callback(null, 'Queued');
          },
          (err: Error) => callback(err),
        );
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;

  function waitFor(predicate: (mail: ReceivedMail) => boolean = () => true, timeoutMs = 10_000): Promise<ReceivedMail> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = messages.find(predicate);
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no matching message within ${timeoutMs} ms (${messages.length} received)`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  }

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    waitFor,
    failNext: (code, message) => void failures.push({ code, ...(message ? { message } : {}) }),
    reset: () => {
      messages.length = 0;
      failures.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
