/**
 * Storing inbound mail: the raw bytes go to GridFS and a row to `inbound_mail` under a unique key
 * before the sender is answered, so a message accepted is never lost; processing happens after,
 * in the `mail.process` job.
 */
import { createHash } from 'node:crypto';
import { GridFSBucket, ObjectId, type Db } from 'mongodb';
import type { Mailbox } from '../config.js';
import type { Models } from '../db/models.js';
import { isDuplicateKey } from '../db/models.js';
import { normalizeMessageId } from './message-id.js';
import type { Scheduler } from '../jobs/scheduler.js';

export const PROCESS_MAIL_JOB = 'mail.process';
export const SWEEP_MAIL_JOB = 'mail.sweep';
const RAW_BUCKET = 'raw_mail';

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

export function rawStore(db: Db) {
  const bucket = new GridFSBucket(db, { bucketName: RAW_BUCKET });
  return {
    async put(name: string, raw: Buffer): Promise<ObjectId> {
      const id = new ObjectId();
      await new Promise<void>((resolve, reject) => {
        const upload = bucket.openUploadStreamWithId(id, name);
        upload.once('error', reject);
        upload.once('finish', () => resolve());
        upload.end(raw);
      });
      return id;
    },
    async get(id: ObjectId): Promise<Buffer> {
      const chunks: Buffer[] = [];
      for await (const chunk of bucket.openDownloadStream(id)) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
    async remove(id: ObjectId): Promise<void> {
      await bucket.delete(id).catch(() => undefined);
    },
  };
}
export type RawStore = ReturnType<typeof rawStore>;

export interface InboundStore {
  store(input: InboundInput): Promise<{ id: string; duplicate: boolean }>;
}

export function createInboundStore(deps: { models: Models; raw: RawStore; scheduler: Pick<Scheduler, 'now'> }): InboundStore {
  const { models, raw } = deps;
  return {
    async store(input) {
      const { key, messageId } = inboundKey(input.mailbox, input.raw);
      const existing = await models.InboundMail.findOne({ key }).select({ _id: 1 }).lean();
      if (existing) return { id: String(existing._id), duplicate: true };
      const rawFileId = await raw.put(key, input.raw);
      try {
        const doc = await models.InboundMail.create({
          key,
          mailbox: input.mailbox,
          via: input.via,
          recipient: input.recipient,
          plusTag: input.plusTag,
          envelopeFrom: input.envelopeFrom,
          size: input.raw.length,
          rawFileId,
          messageId,
          status: 'received',
        });
        // Best effort: if this is lost, the mail sweep job finds the row.
        await deps.scheduler.now(PROCESS_MAIL_JOB, { id: String(doc._id) }).catch(() => undefined);
        return { id: String(doc._id), duplicate: false };
      } catch (err) {
        await raw.remove(rawFileId);
        if (!isDuplicateKey(err)) throw err;
        const winner = await models.InboundMail.findOne({ key }).select({ _id: 1 }).lean();
        return { id: String(winner?._id), duplicate: true };
      }
    },
  };
}
