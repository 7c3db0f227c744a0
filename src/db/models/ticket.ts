import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { MAILBOXES } from '../../config.js';
import { TICKET_KINDS, TICKET_STATUSES } from '../../domain/ticket.js';
import { MIGRATION_STAGES } from '../../domain/migration.js';
import { BILLING_OUTCOMES, CURRENCIES, PAYMENT_METHODS, PAYMENT_STATUSES } from '../../domain/migration-steps.js';

/** One line of a ticket's append-only history: who did what, when. */
const historySchema = new Schema(
  {
    at: { type: Date, required: true },
    actor: { type: String, required: true }, // `slack:U123`, `email:jane@x.com`, `system`
    action: { type: String, required: true },
    note: { type: String },
    /** For lines about an email: its Message-ID, so processing it again can see it was applied. */
    messageId: { type: String },
    /** For lines written at most once (an effect that may be retried): the effect's key. */
    key: { type: String },
  },
  { _id: false },
);

const projectsSchema = new Schema(
  {
    live: { type: [String], default: [] },
    test: { type: [String], default: [] },
    at: { type: Date },
    /** `email:<customer>` when the customer's reply named them, `slack:<user>` when billing did. */
    by: { type: String },
    /** Proposed lists: whether the sender was an address the ticket trusts (domain/trust.ts). */
    trusted: { type: Boolean },
  },
  { _id: false },
);

/** A migration ticket's handoff from sales to billing (absent until the rep submits it). */
const migrationSchema = new Schema(
  {
    stage: { type: String, enum: MIGRATION_STAGES, required: true },
    customerName: { type: String, maxlength: 200 },
    accountId: { type: String },
    salespersonEmail: { type: String },
    salesUserId: { type: String },
    enterprisePlan: { type: String, maxlength: 200 },
    /** `YYYY-MM-DD` in TZ_BILLING: a billing day, not an instant. */
    enterpriseStartDate: { type: String },
    notes: { type: String, maxlength: 3000 },
    handedOffAt: { type: Date },
    /** The modal that handed it off, so a retried submission is recognised as the same one. */
    viewId: { type: String },
    /** When billing's confirmation scheduled the C4S plan's cancellation (00:00 TZ_BILLING the day before the start). */
    cancelAt: { type: Date },
    /** When the cancellation job ran. */
    c4sCancelledAt: { type: Date },
    /** Where the migration emails go (the customer who wrote, or the address sales gave). */
    customerEmail: { type: String },
    /** Billing's summary: credits (no overages) or dues, and how the dues are paid. */
    billing: {
      type: new Schema(
        {
          outcome: { type: String, enum: BILLING_OUTCOMES, required: true },
          amountCents: { type: Number, min: 0 },
          currency: { type: String, enum: CURRENCIES },
          method: { type: String, enum: PAYMENT_METHODS },
          /** eMandate accounts may pay now by card instead of waiting for the collection. */
          payNowByCard: { type: Boolean },
          note: { type: String, maxlength: 1000 },
          at: { type: Date, required: true },
          by: { type: String, required: true },
        },
        { _id: false },
      ),
    },
    payment: {
      type: new Schema(
        {
          status: { type: String, enum: PAYMENT_STATUSES, required: true },
          reason: { type: String, maxlength: 500 },
          at: { type: Date, required: true },
          by: { type: String },
        },
        { _id: false },
      ),
    },
    /** Confirmed projects to migrate. */
    projects: { type: projectsSchema },
    /** Projects a customer named while a step was blocked, for billing to confirm. */
    proposedProjects: { type: projectsSchema },
    /** The account team sales introduces at completion (Slack user IDs). */
    accountTeam: {
      type: new Schema(
        { csm: String, tam: String, kam: String, csmName: String, tamName: String, kamName: String },
        { _id: false },
      ),
    },
    migratingAt: { type: Date },
    completedAt: { type: Date },
    /**
     * The customer's page link: tokens carry this generation, and "Send a new link" raises it so
     * every earlier link is refused. Absent means generation 1 (the first link, sent at scheduling).
     */
    link: {
      type: new Schema(
        {
          generation: { type: Number, required: true },
          at: { type: Date, required: true },
          by: { type: String, required: true },
        },
        { _id: false },
      ),
    },
    /** The newest link generation the customer has opened: later views of it skip the once-only claim. */
    viewedGeneration: { type: Number },
    /** The customer's latest card payment attempt on the page (attempts count up; each is one Checkout Session). */
    checkout: {
      type: new Schema(
        {
          attempt: { type: Number, required: true },
          sessionId: { type: String },
          url: { type: String },
          amountCents: { type: Number },
          currency: { type: String },
          at: { type: Date, required: true },
        },
        { _id: false },
      ),
    },
    /** The customer's last action on their page, as the cards show it: "customer (email) paid …". */
    lastCustomerAction: {
      type: new Schema(
        { at: { type: Date, required: true }, text: { type: String, required: true, maxlength: 500 } },
        { _id: false },
      ),
    },
  },
  { _id: false },
);

/** One service-level target's timer (domain/sla.ts). */
const slaTimerSchema = new Schema(
  {
    targetMinutes: { type: Number, required: true },
    remindAt: { type: Date },
    dueAt: { type: Date, required: true },
    metAt: { type: Date },
    breachedAt: { type: Date },
  },
  { _id: false },
);

/** The ticket's service levels: targets by policy, paused while it waits on the customer. */
const slaSchema = new Schema(
  {
    policy: { type: String, required: true },
    firstResponse: { type: slaTimerSchema, required: true },
    resolution: { type: slaTimerSchema, required: true },
    pausedAt: { type: Date },
    /** How often a customer's mail reopened it after it was closed. */
    reopened: { type: Number, default: 0 },
  },
  { _id: false },
);

/**
 * `_id` is the reference `AR-n`: on FerretDB's SQLite backend only `_id` lookups use an index, and
 * tickets are looked up by reference everywhere.
 */
const ticketSchema = new Schema(
  {
    _id: { type: String, required: true },
    number: { type: Number, required: true },
    ref: { type: String, required: true },
    kind: { type: String, enum: TICKET_KINDS, required: true },
    status: { type: String, enum: TICKET_STATUSES, required: true, default: 'new' },
    title: { type: String, required: true, maxlength: 300 },
    description: { type: String, maxlength: 20_000 },
    accountId: { type: String },
    team: { type: String, required: true },
    source: {
      channel: { type: String, enum: ['slack', 'email'], required: true },
      mailbox: { type: String, enum: MAILBOXES },
      slackUserId: { type: String },
      email: { type: String },
      /** The mail's Reply-To when it names someone else: staff replies may use it, automatic answers never do. */
      replyTo: { type: String },
    },
    /**
     * The Slack user who opened it (tickets from Slack), beside `source.slackUserId`: a top-level
     * field, because FerretDB pushes no filter on a dotted field down to its indexes, so
     * `/ticket mine` and App Home read it by an indexed equality instead of scanning every ticket.
     */
    openedBy: { type: String },
    assignee: { type: String },
    /**
     * Whose open work it is (domain/ticket.ts `openForOf`: the opener and the assignee; empty once
     * closed), kept with every status or assignee change: `/ticket mine` is one indexed equality
     * on it, and reads only open tickets however long the closed history grows.
     */
    openFor: { type: [String], default: undefined },
    /** Email addresses taking part (the customer who wrote, anyone we answered): `[AR-n]` in a subject joins only for them. */
    participants: { type: [String], default: [] },
    /** Addresses billing added as speaking for the customer (besides the sender and the handoff's address); see domain/trust.ts. */
    trusted: { type: [String], default: [] },
    /** Which classification rule chose the kind (email tickets), for staff to check and correct. */
    rule: { type: String },
    /** A new email that cited `[AR-n]` from an address not on that ticket. */
    citesRef: { type: String },
    /** The request that opened it (Slack view, email Message-ID); see ticket_keys for the guard. */
    idempotencyKey: { type: String, required: true },
    migration: { type: migrationSchema },
    sla: { type: slaSchema },
    /** The customer's answer to the closing email's question (CSAT_<TEAM>=on). */
    csat: {
      type: new Schema(
        { score: { type: String, enum: ['good', 'bad'], required: true }, at: { type: Date, required: true } },
        { _id: false },
      ),
    },
    history: { type: [historySchema], default: [] },
  },
  { timestamps: true, collection: 'tickets' },
);
ticketSchema.index({ number: 1 }, { unique: true });
ticketSchema.index({ idempotencyKey: 1 });
ticketSchema.index({ 'source.slackUserId': 1, createdAt: -1 });
// `/ticket mine`, App Home: one equality on a top-level field (FerretDB pushes no `$or` or dotted field down).
ticketSchema.index({ openFor: 1, number: -1 });
ticketSchema.index({ accountId: 1 });
// App Home's migration queues.
ticketSchema.index({ kind: 1, status: 1 });
// Retention: closed tickets by their last write.
ticketSchema.index({ status: 1, updatedAt: 1 });
// App Home: an owner's open tickets, a team's unowned queue; stats walk tickets by when they opened.
ticketSchema.index({ assignee: 1, status: 1 });
ticketSchema.index({ team: 1, status: 1, createdAt: 1 });
ticketSchema.index({ createdAt: 1 });

export type TicketDoc = InferSchemaType<typeof ticketSchema> & { createdAt: Date; updatedAt: Date };
export const ticketModel = (conn: Connection) => conn.model('Ticket', ticketSchema);
export type TicketModel = ReturnType<typeof ticketModel>;

/**
 * One row per request that opened a ticket (Slack view, email): `_id` is the idempotency key, so
 * "is there a ticket for this request?" is an `_id` lookup, and the unique `_id` is the guard.
 */
const ticketKeySchema = new Schema(
  { _id: { type: String, required: true }, ref: { type: String, required: true } },
  { collection: 'ticket_keys', versionKey: false },
);
export const ticketKeyModel = (conn: Connection) => conn.model('TicketKey', ticketKeySchema);
export type TicketKeyModel = ReturnType<typeof ticketKeyModel>;

/** One CSAT answer per ticket: `_id` is the ref, so the first click wins and a second finds it taken. */
const csatAnswerSchema = new Schema(
  {
    _id: { type: String, required: true },
    score: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'csat_answers', versionKey: false },
);
export const csatAnswerModel = (conn: Connection) => conn.model('CsatAnswer', csatAnswerSchema);

/** The AR-n sequence. Its value is only a hint: uniqueness comes from the index on tickets.number. */
const counterSchema = new Schema(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { collection: 'counters', versionKey: false },
);
export const counterModel = (conn: Connection) => conn.model('Counter', counterSchema);
export type CounterModel = ReturnType<typeof counterModel>;
