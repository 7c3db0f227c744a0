import { Schema, type Connection } from 'mongoose';

/** The role store: which Slack users may act as sales, billing, support or admin. Seeded from ROLE_*. */
const roleSchema = new Schema(
  {
    _id: { type: String, required: true }, // Slack user ID
    roles: { type: [String], default: [] },
    /** Away (holiday, sick): round-robin assignment passes them by. */
    away: { type: Boolean, default: false },
  },
  { collection: 'roles', timestamps: true },
);
export const roleModel = (conn: Connection) => conn.model('Role', roleSchema);
export type RoleModel = ReturnType<typeof roleModel>;

/**
 * Where the bot posted about a ticket: `card:<ref>` (the team channel card) and `handoff:<ref>`
 * (the billing handoff). Kept apart from the ticket and written by insert, because on FerretDB two
 * updates to one document at once can lose one of them, and deliveries run beside people's clicks.
 */
const slackPostSchema = new Schema(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    ts: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'slack_posts', versionKey: false },
);
export const slackPostModel = (conn: Connection) => conn.model('SlackPost', slackPostSchema);
export type SlackPostModel = ReturnType<typeof slackPostModel>;

/** Slack deliveries already handled (by event_id): a retry of one changes nothing twice. */
const deliverySchema = new Schema(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'slack_deliveries', versionKey: false },
);
export const slackDeliveryModel = (conn: Connection) => conn.model('SlackDelivery', deliverySchema);
export type SlackDeliveryModel = ReturnType<typeof slackDeliveryModel>;
