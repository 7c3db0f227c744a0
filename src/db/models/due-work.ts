import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * Work that falls due at a time (a plan change, the C4S cancellation, later SLA steps): one row per
 * piece of work, `_id` `<kind>:<key>`, present exactly while the work is pending. The runner
 * (jobs/due-runner.ts) takes rows whose `runAt` has come, in batches, and deletes each once its
 * handler has run; cancelling deletes it too. Rows are never flipped to "done": on FerretDB's
 * SQLite backend every update or delete scans its collection, so a collection that holds only
 * what is pending keeps the one query and the one delete per row cheap on every engine. What
 * happened is kept where people read it (the change, the ticket's history) and in `due_claims`.
 */
const dueWorkSchema = new Schema(
  {
    _id: { type: String, required: true },
    /** Which handler runs it (`plan`, `c4s`…). */
    kind: { type: String, required: true },
    /** The work's own id for its handler: the change id, the ticket ref. */
    key: { type: String, required: true },
    /** When it fell due (app clock): lateness is measured against this. */
    dueAt: { type: Date, required: true },
    /** When it is to run next: `dueAt`, or later after a failure. */
    runAt: { type: Date, required: true },
    /**
     * Bumped whenever the row is armed again (re-scheduled, retried, taken over from a dead
     * process): a run is claimed as `<_id>#<attempt>`, and finishing deletes the row only if
     * the attempt is still the one it ran, so a re-arming that came meanwhile survives.
     */
    attempt: { type: Number, required: true, default: 0 },
    /** Failed runs in a row, for the back-off. */
    failures: { type: Number, required: true, default: 0 },
    lastError: { type: String },
    /** What the handler needs besides the key: plain values, no keys with dots or `$`. */
    data: { type: Schema.Types.Mixed, default: {} },
  },
  { timestamps: true, collection: 'due_work', versionKey: false, minimize: false },
);
dueWorkSchema.index({ runAt: 1 });
export type DueWorkDoc = InferSchemaType<typeof dueWorkSchema> & { _id: string; data: Record<string, unknown> };
export const dueWorkModel = (conn: Connection) => conn.model('DueWork', dueWorkSchema);

/**
 * One run of a due row, claimed by inserting `<row id>#<attempt>` (unique `_id`): two processes
 * that picked the same row both try, one wins. It is also the record of who ran what, and when.
 */
const dueClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    by: { type: String },
  },
  { collection: 'due_claims', versionKey: false },
);
export type DueClaimDoc = InferSchemaType<typeof dueClaimSchema> & { _id: string };
export const dueClaimModel = (conn: Connection) => conn.model('DueClaim', dueClaimSchema);
