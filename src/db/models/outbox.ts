import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Side effects waiting to leave the building (Slack posts, emails). Written in the same step as the
 * change that causes them and delivered by the outbox job, so an outage delays, never loses.
 */
const outboxSchema = new Schema(
  {
    /** Also `_id`: the same effect enqueued twice (a retried request) is stored once. */
    _id: { type: String, required: true },
    key: { type: String, required: true },
    channel: { type: String, enum: ['slack', 'email'], required: true },
    /** What it does (services/outbox.ts `OutboxKind`). Rows from before the field have none: `kindOf` derives it. */
    kind: { type: String, enum: ['post', 'update', 'thread_reply', 'dm', 'email'] },
    /**
     * Slack: an intent the notifier renders at delivery (`SlackIntent` in services/outbox.ts: `{ type:
     * 'ticket_card', ref }`, a thread reply, a DM …), not a Web API call. Email: `EmailPayload`
     * (domain/email.ts), the message fields. Never keys with dots or `$`.
     */
    payload: { type: Schema.Types.Mixed, required: true },
    ticketRef: { type: String },
    /** Who waits for it (services/outbox.ts): interactive rows are delivered and swept before bulk ones. Rows from before lanes have none: interactive. */
    lane: { type: String, enum: ['interactive', 'bulk'] },
    status: { type: String, enum: ['pending', 'sent', 'dead'], required: true, default: 'pending' },
    attempts: { type: Number, required: true, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    lastError: { type: String },
    result: { type: Schema.Types.Mixed },
    sentAt: { type: Date },
  },
  { timestamps: true, collection: 'outbox', minimize: false },
);
outboxSchema.index({ status: 1, nextAttemptAt: 1 });

/** An attempt is claimed by inserting its key: the unique index lets only one process send it. */
const claimSchema = new Schema(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'outbox_claims', versionKey: false },
);

export type OutboxDoc = InferSchemaType<typeof outboxSchema>;
export const outboxModel = (conn: Connection) => conn.model('Outbox', outboxSchema);
export type OutboxModel = ReturnType<typeof outboxModel>;
export const outboxClaimModel = (conn: Connection) => conn.model('OutboxClaim', claimSchema);
export type OutboxClaimModel = ReturnType<typeof outboxClaimModel>;
