/**
 * Storing inbound mail: the raw bytes go to GridFS and a row to `inbound_mail` under a unique key
 * before the sender is answered, so a message accepted is never lost; processing happens after,
 * in the `mail.process` job.
 */
import { createHash } from 'node:crypto';
import type { Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { insertIfAbsent, isDuplicateKey } from '../db/models.js';
import { normalizeMessageId } from './message-id.js';

export const SWEEP_MAIL_JOB = 'mail.sweep';

export interface InboundInput {
  mailbox: Mailbox;
  raw: Buffer;
  via: 'smtp' | 'imap';
  recipient?: string | undefined;
  plusTag?: string | undefined;
  envelopeFrom?: string | undefined;
}

/** The Message-ID from the header block only, without parsing the whole message. */
export function headerMessageId(raw: Buffer): string | undefined {
  const head = raw.subarray(0, Math.min(raw.length, 64 * 1024)).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const headers = (end >= 0 ? head.slice(0, end) : head).replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:\s*(.+)$/im.exec(headers);
  return match?.[1] ? normalizeMessageId(match[1].trim()) : undefined;
}

export function inboundKey(mailbox: Mailbox, raw: Buffer): { key: string; messageId: string | undefined } {
  const messageId = headerMessageId(raw);
  if (messageId) return { key: `${mailbox}:${messageId}`, messageId };
  return { key: `${mailbox}:sha256:${createHash('sha256').update(raw).digest('hex')}`, messageId: undefined };
}

/**
 * Raw bytes in 4 MiB pieces keyed `<key>#<n>`. GridFS would do, but its chunk lookups by
 * `files_id` scan the whole collection on FerretDB's SQLite backend; `_id` lookups do not.
 */
const CHUNK_BYTES = 4 * 1024 * 1024;
export function rawStore(models: Models) {
  return {
    async put(key: string, raw: Buffer): Promise<number> {
      const count = Math.max(1, Math.ceil(raw.length / CHUNK_BYTES));
      for (let n = 0; n < count; n += 1) {
        const data = raw.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES);
        // Same key, same bytes: a piece left by an interrupted earlier attempt is already right.
        await insertIfAbsent(() => models.RawMailChunk.create({ _id: `${key}#${n}`, data }));
      }
      return count;
    },
    async get(key: string, count: number): Promise<Buffer> {
      const parts: Buffer[] = [];
      for (let n = 0; n < count; n += 1) {
        const chunk = await models.RawMailChunk.findById(`${key}#${n}`);
        if (!chunk) throw new Error(`raw mail ${key} is missing piece ${n}`);
        parts.push(Buffer.from(chunk.data));
      }
      return Buffer.concat(parts);
    },
  };
}
export type RawStore = ReturnType<typeof rawStore>;

export interface InboundStore {
  store(input: InboundInput): Promise<{ id: string; duplicate: boolean }>;
}

/** `onStored` starts processing in this process; the mail sweep job catches what a crash interrupted. */
export function createInboundStore(deps: { models: Models; raw: RawStore; onStored: (id: string) => void }): InboundStore {
  const { models, raw } = deps;
  return {
    async store(input) {
      const { key, messageId } = inboundKey(input.mailbox, input.raw);
      const existing = await models.InboundMail.findById(key).select({ _id: 1 }).lean();
      if (existing) return { id: String(existing._id), duplicate: true };
      const rawChunks = await raw.put(key, input.raw);
      try {
        const doc = await models.InboundMail.create({
          _id: key,
          key,
          mailbox: input.mailbox,
          via: input.via,
          recipient: input.recipient,
          plusTag: input.plusTag,
          envelopeFrom: input.envelopeFrom,
          size: input.raw.length,
          rawChunks,
          messageId,
          status: 'received',
        });
        deps.onStored(String(doc._id));
        return { id: String(doc._id), duplicate: false };
      } catch (err) {
        // The pieces stay: they are the same bytes under the same key as the winner's.
        if (!isDuplicateKey(err)) throw err;
        const winner = await models.InboundMail.findById(key).select({ _id: 1 }).lean();
        return { id: String(winner?._id), duplicate: true };
      }
    },
  };
}
