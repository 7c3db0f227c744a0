/** Opens the database: MONGODB_URI when given, else the embedded server (see embedded.ts). */
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import type { Config, EmbeddedEngine } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbedded } from './embedded.js';
import { createModels, ensureIndexes, type Models } from './models.js';
import { upgradeData } from './upgrades.js';

export interface Database {
  engine: 'external' | EmbeddedEngine;
  conn: Connection;
  /** The embedded database process's id now (tests kill it to see the app recover). */
  embeddedPid?: () => number | undefined;
  models: Models;
  /** Answers whether the server responds now (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Fail fast when the server is away, so requests answer "try again" instead of hanging. At most
 * 40 commands at once per process: plenty for the bot, and FerretDB on PostgreSQL needs two
 * backend connections per concurrent update (see tools/ferretdb/postgres.go), so its pool is
 * sized from this.
 */
const CONNECTION_OPTIONS = {
  serverSelectionTimeoutMS: 2500,
  bufferCommands: false,
  autoIndex: false,
  maxPoolSize: 40,
} as const;

export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  let uri = config.db.uri;
  let engine: Database['engine'] = 'external';
  let stopEmbedded: (() => Promise<void>) | undefined;
  let embeddedPid: (() => number | undefined) | undefined;
  if (!uri) {
    const embedded = await startEmbedded(config.dataDir, config.db.embedded, log);
    uri = `${embedded.uri.replace(/\/?$/, '/')}account_requests`;
    engine = embedded.engine;
    stopEmbedded = embedded.stop;
    embeddedPid = embedded.pid;
  }
  const conn = mongoose.createConnection(uri, CONNECTION_OPTIONS);
  try {
    await conn.asPromise();
  } catch (err) {
    await stopEmbedded?.();
    throw err;
  }
  const models = createModels(conn);
  await ensureIndexes(models);
  const upgraded = await upgradeData(models);
  if (Object.keys(upgraded).length > 0)
    log.info({ event: 'db.upgraded', changed: upgraded }, 'data from an earlier version brought up to date');
  log.info(
    {
      event: 'db.connected',
      engine,
      database: conn.name,
      dataDir: engine === 'external' ? undefined : path.relative(process.cwd(), config.dataDir) || '.',
    },
    `database ready (${engine})`,
  );
  return {
    engine,
    conn,
    ...(embeddedPid ? { embeddedPid } : {}),
    models,
    ping: async () => {
      try {
        await conn.db!.command({ ping: 1 });
        return true;
      } catch {
        return false;
      }
    },
    close: async () => {
      await conn.close();
      await stopEmbedded?.();
    },
  };
}
