import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One row per account whose open migration has been handed off to billing: `_id` is the account ID,
 * so "is this account already handed off?" is an `_id` lookup, and the unique `_id` lets only one
 * handoff win when two race. A row whose ticket was closed since is stale and gets replaced.
 */
const migrationHandoffSchema = new Schema(
  {
    _id: { type: String, required: true },
    ref: { type: String, required: true },
    /** The modal submission that won; the same view retried is the same handoff. */
    viewId: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'migration_handoffs', versionKey: false },
);

export type MigrationHandoffDoc = InferSchemaType<typeof migrationHandoffSchema>;
export const migrationHandoffModel = (conn: Connection) => conn.model('MigrationHandoff', migrationHandoffSchema);
export type MigrationHandoffModel = ReturnType<typeof migrationHandoffModel>;

/**
 * One row per migration side effect that must happen exactly once (`cancel:AR-n`, the C4S plan's
 * cancellation): the job inserts it before acting, and a duplicate `_id` means it ran already.
 */
const migrationEffectSchema = new Schema(
  {
    _id: { type: String, required: true },
    ref: { type: String, required: true },
    at: { type: Date, required: true },
    /** Which process claimed it (Agenda's name), for the record. */
    by: { type: String },
  },
  { collection: 'migration_effects', versionKey: false },
);

export const migrationEffectModel = (conn: Connection) => conn.model('MigrationEffect', migrationEffectSchema);
export type MigrationEffectModel = ReturnType<typeof migrationEffectModel>;

/**
 * One row per Stripe webhook event handled: `_id` is the event's id, so the same event delivered
 * twice (Stripe retries, a replay) is handled once. Removed again when handling failed, so Stripe's
 * retry gets another go.
 */
const stripeEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, required: true },
    ref: { type: String },
    at: { type: Date, required: true },
  },
  { collection: 'stripe_events', versionKey: false },
);

export const stripeEventModel = (conn: Connection) => conn.model('StripeEvent', stripeEventSchema);
