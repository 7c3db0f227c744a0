/**
 * Storing inbound mail. The bytes go to the raw store as they arrive, under an upload id of their
 * own (the row's key needs the Message-ID or a hash of every byte, known only at the end); after
 * the last byte one `inbound_mail` row per mailbox is written under its unique key, pointing at
 * the pieces, and only then is the sender answered. So a message accepted is never lost, and a
 * message stored once is never stored again: a redelivery's pieces are removed. Processing
 * happens after, in this process (`onStored`) or in the `mail.sweep` job.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { insertOnce } from '../db/claims.js';
import { normalizeMessageId } from './message-id.js';
import type { RawStore } from './raw-store.js';

/** Where a message goes: one row per target, all sharing the stored bytes. */
export interface InboundTarget {
  mailbox: Mailbox;
  recipient?: string | undefined;
  plusTag?: string | undefined;
}

export interface InboundMessage {
  via: 'smtp' | 'imap';
  targets: InboundTarget[];
  envelopeFrom?: string | undefined;
  /** Stored ahead of the source's bytes (the trace header a delivery agent adds). */
  prefix?: Buffer;
  /** The message as it arrives, or whole (IMAP hands over a Buffer). */
  source: Readable | Buffer;
  /** More source bytes than this: nothing is kept, and MessageTooLarge is thrown once the source ends. */
  maxBytes?: number;
}

export interface StoredRow {
  id: string;
  mailbox: Mailbox;
  duplicate: boolean;
}

export class MessageTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`message larger than ${maxBytes} bytes`);
  }
}

/** The Message-ID is read from the header block, which starts within this many bytes. */
const HEAD_BYTES = 64 * 1024;

/** The Message-ID from the header block only, without parsing the whole message. */
export function headerMessageId(head: Buffer): string | undefined {
  const text = head.subarray(0, Math.min(head.length, HEAD_BYTES)).toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const headers = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:\s*(.+)$/im.exec(headers);
  return match?.[1] ? normalizeMessageId(match[1].trim()) : undefined;
}

/** `<mailbox>:<message-id>`, or `<mailbox>:sha256:<hash of the stored bytes>` without one. */
export function inboundKey(mailbox: Mailbox, messageId: string | undefined, sha256: string): string {
  return messageId ? `${mailbox}:${messageId}` : `${mailbox}:sha256:${sha256}`;
}

/**
 * Reads a stream to its end, handing over one chunk at a time (the next waits for `use`). After a
 * failure the rest is read and dropped: an SMTP client expects to send its whole message before it
 * hears the answer. Settles only once `use` is done with the chunk it has, so nothing is written
 * after the caller starts cleaning up.
 */
function eachChunk(source: Readable, use: (chunk: Buffer) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: { err: unknown } | undefined;
    let inFlight: Promise<void> = Promise.resolve();
    const settle = (err?: unknown) =>
      void inFlight.then(() => (failed ? reject(failed.err) : err ? reject(err) : resolve()));
    source.on('data', (chunk: Buffer) => {
      if (failed) return;
      source.pause();
      inFlight = use(chunk).then(
        () => void source.resume(),
        (err: unknown) => {
          failed = { err };
          source.resume();
        },
      );
    });
    source.once('end', () => settle());
    source.once('error', (err) => settle(err));
    source.once('close', () => settle(new Error('the message ended before its last byte')));
  });
}

export interface InboundStore {
  store(message: InboundMessage): Promise<{ size: number; rows: StoredRow[] }>;
}

export function createInboundStore(deps: {
  models: Models;
  raw: RawStore;
  onStored: (id: string, size: number) => void;
}): InboundStore {
  const { models, raw } = deps;

  async function writeRow(
    key: string,
    target: InboundTarget,
    message: InboundMessage,
    stored: { rawId: string; pieces: number; size: number; messageId: string | undefined },
  ): Promise<StoredRow> {
    // The unique `_id` is the guard: a second copy finds this message in this mailbox already.
    const written = await insertOnce(models.InboundMail, {
      _id: key,
      key,
      mailbox: target.mailbox,
      via: message.via,
      recipient: target.recipient,
      plusTag: target.plusTag,
      envelopeFrom: message.envelopeFrom,
      size: stored.size,
      rawId: stored.rawId,
      rawChunks: stored.pieces,
      messageId: stored.messageId,
      status: 'received',
    });
    if (!written) return { id: key, mailbox: target.mailbox, duplicate: true };
    deps.onStored(key, stored.size);
    return { id: key, mailbox: target.mailbox, duplicate: false };
  }

  return {
    async store(message) {
      const upload = raw.upload();
      const hash = createHash('sha256');
      const head: Buffer[] = [];
      let headBytes = 0;
      let size = 0;
      const keep = async (chunk: Buffer) => {
        hash.update(chunk);
        if (headBytes < HEAD_BYTES) {
          const part = Buffer.from(chunk.subarray(0, HEAD_BYTES - headBytes));
          head.push(part);
          headBytes += part.length;
        }
        size += chunk.length;
        await upload.write(chunk);
      };
      let sourceBytes = 0;
      const fromSource = async (chunk: Buffer) => {
        sourceBytes += chunk.length;
        if (message.maxBytes !== undefined && sourceBytes > message.maxBytes)
          throw new MessageTooLarge(message.maxBytes);
        await keep(chunk);
      };

      let pieces: number;
      try {
        if (message.prefix) await keep(message.prefix);
        if (Buffer.isBuffer(message.source)) await fromSource(message.source);
        else await eachChunk(message.source, fromSource);
        pieces = await upload.finish();
      } catch (err) {
        await upload.discard().catch(() => undefined);
        throw err;
      }

      const messageId = headerMessageId(Buffer.concat(head, headBytes));
      const sha256 = hash.digest('hex');
      const rows: StoredRow[] = [];
      try {
        for (const target of message.targets) {
          const key = inboundKey(target.mailbox, messageId, sha256);
          rows.push(await writeRow(key, target, message, { rawId: upload.rawId, pieces, size, messageId }));
        }
      } finally {
        // Pieces no row points at (every target had the message already, or the first write
        // failed) are removed; a retry of the delivery brings the bytes again.
        if (!rows.some((r) => !r.duplicate)) await raw.remove(upload.rawId, pieces).catch(() => undefined);
      }
      return { size, rows };
    },
  };
}
