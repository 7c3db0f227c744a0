import { Schema, type Connection } from 'mongoose';

/** How far each IMAP mailbox has been read, so a restart resumes instead of re-reading the inbox. */
const imapStateSchema = new Schema(
  {
    _id: { type: String, required: true }, // mailbox name: billing, sales…
    // A string: UIDVALIDITY is an unsigned 32-bit value, and some engines store numbers as int32.
    uidValidity: { type: String, required: true },
    lastUid: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'imap_state', versionKey: false },
);
export const imapStateModel = (conn: Connection) => conn.model('ImapState', imapStateSchema);
export type ImapStateModel = ReturnType<typeof imapStateModel>;

/**
 * One document per claimed time window (`imap:billing:<window>`): whoever inserted it first holds
 * that window. The unique _id is the guard, so the lease holds on engines without atomic updates.
 */
const leaseSchema = new Schema(
  {
    _id: { type: String, required: true },
    holder: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'leases', versionKey: false },
);
export const leaseModel = (conn: Connection) => conn.model('Lease', leaseSchema);
export type LeaseModel = ReturnType<typeof leaseModel>;

export function createImapModels(conn: Connection) {
  return { ImapState: imapStateModel(conn), Lease: leaseModel(conn) };
}
export type ImapModels = ReturnType<typeof createImapModels>;
