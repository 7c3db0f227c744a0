import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { ACCOUNT_STATUSES, BILLING_PERIODS, CHANGE_TYPES, PLANS } from '../../domain/plans.js';

/**
 * The account as the bot knows it. `_id` is the account ID (`R74-ZWR-R44Z`), so every lookup is an
 * `_id` lookup. Written by few hands: the plan-change service and its jobs, one field set at a time.
 */
const accountSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true, maxlength: 200 },
    contactEmail: { type: String, required: true },
    plan: { type: String, enum: PLANS, required: true },
    tier: { type: String, required: true },
    addons: { type: [String], default: [] },
    billingPeriod: { type: String, enum: BILLING_PERIODS, required: true },
    /** `YYYY-MM-DD`: first day of the first billing period in TZ_BILLING. */
    billingAnchor: { type: String, required: true },
    status: { type: String, enum: ACCOUNT_STATUSES, required: true },
    signupDate: { type: String, required: true },
    billingDetailsComplete: { type: Boolean, required: true, default: false },
    region: { type: String, required: true },
    retentionYears: { type: Number, required: true },
    /** The account's projects, live and test, offered to the customer on the migration page. */
    projects: {
      type: [
        new Schema(
          {
            name: { type: String, required: true, maxlength: 64 },
            kind: { type: String, enum: ['live', 'test'], required: true },
          },
          { _id: false },
        ),
      ],
      default: [],
    },
    pausedOn: { type: String },
    deletionDueAt: { type: Date },
    deletedAt: { type: Date },
  },
  { timestamps: true, collection: 'accounts' },
);
export type AccountDoc = InferSchemaType<typeof accountSchema> & { _id: string };
export const accountModel = (conn: Connection) => conn.model('Account', accountSchema);

/**
 * One row per plan change, requested or scheduled by the rules; `_id` is the change id (the Slack
 * view or ticket that asked for it, so a retried request is the same change). `status` is for
 * people and lists; whether it was applied or cancelled is decided by `plan_effects`.
 */
const invoiceLineSchema = new Schema(
  { description: { type: String, required: true }, cents: { type: Number, required: true } },
  { _id: false },
);
const planChangeSchema = new Schema(
  {
    _id: { type: String, required: true },
    accountId: { type: String, required: true },
    type: { type: String, enum: CHANGE_TYPES, required: true },
    status: { type: String, enum: ['scheduled', 'applied', 'cancelled'], required: true },
    dueAt: { type: Date, required: true },
    effectiveDay: { type: String, required: true },
    /** What the account becomes: plain field names only (tier, addons, status…). */
    set: { type: Schema.Types.Mixed, default: {} },
    /** The tier before the change (for messages: "from … to …"). */
    fromTier: { type: String },
    amountCents: { type: Number },
    /** End of the billing period the amount is prorated to (exclusive). */
    periodEnd: { type: String },
    /** Changes the rules schedule once this one is applied: `{ type, dueAt, day }`. */
    follows: { type: [Schema.Types.Mixed], default: undefined },
    lines: { type: [invoiceLineSchema], default: undefined },
    reason: { type: String },
    summary: { type: String, required: true },
    ticketRef: { type: String },
    /** `slack:U…`, `system`. */
    requestedBy: { type: String, required: true },
    /** The change that scheduled this one (a pause for its deletion). */
    parentId: { type: String },
    appliedAt: { type: Date },
    lateMs: { type: Number },
    appliedBy: { type: String },
    cancelledAt: { type: Date },
    cancelledBy: { type: String },
    billingAttempts: { type: Number, default: 0 },
    lastBillingError: { type: String },
  },
  { timestamps: true, collection: 'plan_changes', minimize: false },
);
planChangeSchema.index({ accountId: 1, status: 1 });
// The plan sweep (every minute): scheduled changes past their time.
planChangeSchema.index({ status: 1, dueAt: 1 });
export type PlanChangeDoc = InferSchemaType<typeof planChangeSchema> & { _id: string; createdAt: Date };
export const planChangeModel = (conn: Connection) => conn.model('PlanChange', planChangeSchema);

/**
 * The exactly-once guard of a change: whoever inserts `_id` = change id first decides its fate,
 * `applied` (a job or the request itself) or `cancelled` (a person, an upgrade, a reactivation).
 */
const planEffectSchema = new Schema(
  {
    _id: { type: String, required: true },
    outcome: { type: String, enum: ['applied', 'cancelled'], required: true },
    at: { type: Date, required: true },
    by: { type: String },
  },
  { collection: 'plan_effects', versionKey: false },
);
export const planEffectModel = (conn: Connection) => conn.model('PlanEffect', planEffectSchema);

/**
 * At most one pending change of a kind per account (`<accountId>:downgrade`, `:pause_delete`,
 * `:trial_lock`, `:trial_end`): the unique `_id` refuses a second pending downgrade even when two
 * requests race. Removed when the change is applied or cancelled.
 */
const planSlotSchema = new Schema(
  {
    _id: { type: String, required: true },
    changeId: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'plan_slots', versionKey: false },
);
export const planSlotModel = (conn: Connection) => conn.model('PlanSlot', planSlotSchema);

/** The billing ledger: every change sent to billing, once (`_id` is the billing key). */
const billingLedgerSchema = new Schema(
  {
    _id: { type: String, required: true },
    accountId: { type: String, required: true },
    type: { type: String, required: true },
    at: { type: Date, required: true },
    amountCents: { type: Number },
    /** End of the billing period the amount is prorated to (exclusive). */
    periodEnd: { type: String },
    /** Changes the rules schedule once this one is applied: `{ type, dueAt, day }`. */
    follows: { type: [Schema.Types.Mixed], default: undefined },
    details: { type: Schema.Types.Mixed, default: {} },
    via: { type: String, enum: ['ledger', 'webhook'], required: true },
    httpStatus: { type: Number },
  },
  { collection: 'billing_ledger', versionKey: false, minimize: false },
);
export type BillingLedgerDoc = InferSchemaType<typeof billingLedgerSchema> & { _id: string };
export const billingLedgerModel = (conn: Connection) => conn.model('BillingLedger', billingLedgerSchema);
