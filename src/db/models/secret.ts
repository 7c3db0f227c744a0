import { Schema, type Connection } from 'mongoose';

/**
 * Secrets the processes must share, created once by whichever starts first (a unique `_id` insert):
 * today the application key that signs reply addresses, when APP_SECRET is not set.
 */
const secretSchema = new Schema(
  {
    _id: { type: String, required: true },
    value: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'app_secrets', versionKey: false },
);
export const appSecretModel = (conn: Connection) => conn.model('AppSecret', secretSchema);
export type AppSecretModel = ReturnType<typeof appSecretModel>;
