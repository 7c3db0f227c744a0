/**
 * Replays the corpus over SMTP: nodemailer's pool with `connections` connections, each message's
 * bytes sent as they are (`raw`), envelope recipients rotating over the mailboxes. Every message is
 * queued at once; the pool keeps one message in flight per connection. Runs in a worker thread
 * (send-worker.ts) or in this one.
 */
import fs from 'node:fs/promises';
import nodemailer from 'nodemailer';

export interface SendOptions {
  port: number;
  connections: number;
  from: string;
  /** Message i goes to recipients[i % recipients.length]. */
  recipients: string[];
  /** Per-connection inactivity limit, so a stuck server fails the run instead of hanging it. */
  socketTimeoutMs?: number;
}

export interface SendResult {
  sent: number;
  accepted: number;
  rejected: number;
  /** Rejections by SMTP reply code, or by error code when there was no reply. */
  failures: Record<string, number>;
  /** The first few rejections: file index, reply or error. */
  samples: { index: number; error: string }[];
  /** Date.now() when the first message was handed to the pool (to compare with database times). */
  startedWallMs: number;
  /** From the first message handed to the pool to the last 250. */
  acceptMs: number;
  /** From the first message handed to the pool to the last answer of any kind. */
  elapsedMs: number;
}

let corpus: Buffer[] = [];

/** Reads the messages once, before any timing. Returns the bytes held. */
export async function loadMessages(files: string[]): Promise<number> {
  corpus = await Promise.all(files.map((f) => fs.readFile(f)));
  return corpus.reduce((n, b) => n + b.length, 0);
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
}

export async function sendAll(o: SendOptions): Promise<SendResult> {
  if (corpus.length === 0) throw new Error('sendAll: no messages loaded');
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: o.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: o.connections,
    // Keep the same K connections for the whole replay instead of reconnecting every 100 messages.
    maxMessages: Infinity,
    socketTimeout: o.socketTimeoutMs ?? 120_000,
  });
  const failures: Record<string, number> = {};
  const samples: SendResult['samples'] = [];
  let accepted = 0;
  let lastAccept = 0n;
  let lastAnswer = 0n;
  const startedWallMs = Date.now();
  const started = process.hrtime.bigint();
  try {
    await Promise.all(
      corpus.map(async (raw, index) => {
        try {
          await transport.sendMail({
            envelope: { from: o.from, to: [o.recipients[index % o.recipients.length]!] },
            raw,
          });
          accepted += 1;
          lastAccept = process.hrtime.bigint();
        } catch (err) {
          const e = err as SmtpError;
          const key = e.responseCode ? String(e.responseCode) : (e.code ?? 'error');
          failures[key] = (failures[key] ?? 0) + 1;
          if (samples.length < 10) samples.push({ index, error: (e.response ?? e.message).slice(0, 200) });
        }
        lastAnswer = process.hrtime.bigint();
      }),
    );
  } finally {
    transport.close();
  }
  const ms = (t: bigint) => (t > started ? Number(t - started) / 1e6 : 0);
  return {
    sent: corpus.length,
    accepted,
    rejected: corpus.length - accepted,
    failures,
    samples,
    startedWallMs,
    acceptMs: ms(lastAccept),
    elapsedMs: ms(lastAnswer),
  };
}
