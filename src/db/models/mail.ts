import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { MAILBOXES } from '../../config.js';

/**
 * Every message that reached a mailbox, stored (raw bytes in `raw_mail_chunks`) before the sender
 * is told 250, and what became of it. Nothing a customer sent is dropped: an unreadable message ends in
 * `review` with the reason.
 */
const inboundSchema = new Schema(
  {
    /** `<mailbox>:<message-id>`, or `<mailbox>:sha256:<hash>` without one: a redelivery is stored once. */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    mailbox: { type: String, enum: MAILBOXES, required: true },
    via: { type: String, enum: ['smtp', 'imap'], required: true },
    recipient: { type: String },
    /** The `+tag` of a plus-addressed recipient (`support+AR-1001@`). */
    plusTag: { type: String },
    envelopeFrom: { type: String },
    size: { type: Number, required: true },
    /**
     * The raw bytes are in `raw_mail_chunks` as `<rawId>#0`, `<rawId>#1`, …, this many of them;
     * rows of one message to several mailboxes share them. Rows written before uploads had an id
     * of their own have no `rawId`: their pieces are `<_id>#0`, ….
     */
    rawId: { type: String },
    rawChunks: { type: Number, required: true },
    status: {
      type: String,
      enum: ['received', 'ticket', 'reply', 'bounce', 'auto-reply', 'review'],
      required: true,
      default: 'received',
    },
    reason: { type: String },
    ticketRef: { type: String },
    messageId: { type: String },
    from: { type: String },
    subject: { type: String },
    rule: { type: String },
    attempts: { type: Number, default: 0 },
    processedAt: { type: Date },
  },
  { timestamps: true, collection: 'inbound_mail' },
);
inboundSchema.index({ status: 1, createdAt: 1 });
export const inboundMailModel = (conn: Connection) => conn.model('InboundMail', inboundSchema);
export type InboundMailModel = ReturnType<typeof inboundMailModel>;
export type InboundMailDoc = InferSchemaType<typeof inboundSchema> & { createdAt: Date };

/** Raw message bytes in pieces under the 16 MB document limit, fetched by `_id` (fast on every engine). */
const rawChunkSchema = new Schema(
  { _id: { type: String, required: true }, data: { type: Buffer, required: true } },
  { collection: 'raw_mail_chunks', versionKey: false },
);
export const rawMailChunkModel = (conn: Connection) => conn.model('RawMailChunk', rawChunkSchema);
export type RawMailChunkModel = ReturnType<typeof rawMailChunkModel>;

/**
 * Message-IDs we know, ours and the customers', with their ticket: threading looks replies up
 * here. Inserting an inbound message's ID is also the claim that it has been applied once.
 */
const messageSchema = new Schema(
  {
    _id: { type: String, required: true },
    ticketRef: { type: String, required: true },
    direction: { type: String, enum: ['in', 'out'], required: true },
    address: { type: String },
    at: { type: Date, required: true },
  },
  { collection: 'mail_messages', versionKey: false },
);
messageSchema.index({ ticketRef: 1, at: 1 });
export const mailMessageModel = (conn: Connection) => conn.model('MailMessage', messageSchema);
export type MailMessageModel = ReturnType<typeof mailMessageModel>;

/** Addresses a bounce said cannot receive mail; they get no further automatic answers. */
const undeliverableSchema = new Schema(
  {
    _id: { type: String, required: true },
    reason: { type: String },
    ticketRef: { type: String },
    at: { type: Date, required: true },
  },
  { collection: 'undeliverable_addresses', versionKey: false },
);
export const undeliverableModel = (conn: Connection) => conn.model('Undeliverable', undeliverableSchema);
export type UndeliverableModel = ReturnType<typeof undeliverableModel>;

/** Acknowledgement budget: a few slots per recipient per hour, each taken by a unique insert. */
const ackSlotSchema = new Schema(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'ack_slots', versionKey: false },
);
export const ackSlotModel = (conn: Connection) => conn.model('AckSlot', ackSlotSchema);
export type AckSlotModel = ReturnType<typeof ackSlotModel>;

/**
 * Processing an inbound message is claimed per attempt (`<inbound id>:<attempt>`) by a unique
 * insert, so two processes, or a sweep and this process's own queue, never process it at once.
 */
const mailClaimSchema = new Schema(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'mail_claims', versionKey: false },
);
export const mailClaimModel = (conn: Connection) => conn.model('MailClaim', mailClaimSchema);
export type MailClaimModel = ReturnType<typeof mailClaimModel>;
