/**
 * The embedded database used when MONGODB_URI is unset: a real mongod through
 * mongodb-memory-server when one can be had, otherwise FerretDB (SQLite) from tools/ferretdb.
 * A data directory sticks to the engine that first wrote it, so restarts find their data. With
 * EMBEDDED_DB=auto, a failed attempt to get mongod (usually a download that cannot succeed on this
 * machine) is remembered in the data directory, so the next starts go straight to FerretDB for a
 * week instead of trying, and waiting, again.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { MongoBinary, MongoMemoryServer } from 'mongodb-memory-server';
import type { Logger } from '../logger.js';
import { startFerret } from './ferretdb.js';

export type EmbeddedEngine = 'mongodb' | 'ferretdb';

export interface EmbeddedServer {
  engine: EmbeddedEngine;
  uri: string;
  stop(): Promise<void>;
}

const MONGOD_START_TIMEOUT_MS = 120_000;
/** How long a failed attempt to get mongod keeps `auto` from trying again. */
export const MONGOD_RETRY_AFTER_MS = 7 * 86_400_000;
/** In DATA_DIR/db: when and why mongod could not be had. Deleting it makes the next start try again. */
export const MONGOD_UNAVAILABLE_FILE = 'mongod-unavailable.json';

/** Seams for tests: how the mongod binary is found (or downloaded), and the time. */
export interface EmbeddedOptions {
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
    log.warn({ event: 'db.embedded.marker_failed', file, err: (err as Error).message }, 'could not remember that mongod is unavailable; the next start tries again');
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
      MongoMemoryServer.create({ binary: { systemBinary }, instance: { ip: '127.0.0.1', dbPath, storageEngine: 'wiredTiger' } }),
      timeout,
    ]);
    return { engine: 'mongodb', uri: server.getUri(), stop: async () => void (await server.stop({ doCleanup: false })) };
  } finally {
    clearTimeout(timer);
  }
}

export async function startEmbedded(
  dataDir: string,
  prefer: 'auto' | EmbeddedEngine,
  log: Logger,
  opts: EmbeddedOptions = {},
): Promise<EmbeddedServer> {
  const mongodDir = path.join(dataDir, 'db', 'mongod');
  const ferretDir = path.join(dataDir, 'db', 'ferretdb');
  const marker = path.join(dataDir, 'db', MONGOD_UNAVAILABLE_FILE);
  const now = opts.now?.() ?? new Date();
  let choice = prefer;
  if (choice === 'auto') {
    if (await hasData(ferretDir)) choice = 'ferretdb';
    else if (await hasData(mongodDir)) choice = 'mongodb';
    else {
      const failed = await recentFailure(marker, now);
      if (failed) {
        choice = 'ferretdb';
        const retryAt = new Date(failed.at.getTime() + MONGOD_RETRY_AFTER_MS);
        log.info(
          { event: 'db.embedded.mongod_skipped', failedAt: failed.at.toISOString(), reason: failed.reason, retryAt: retryAt.toISOString(), marker },
          `mongod could not be had at ${failed.at.toISOString()}; using FerretDB without trying again until ${retryAt.toISOString()} (delete ${marker} or set EMBEDDED_DB=mongodb to try now)`,
        );
      }
    }
  }
  if (choice !== 'ferretdb') {
    try {
      const server = await startMongod(mongodDir, opts.findMongod ?? (() => MongoBinary.getPath()));
      await fs.rm(marker, { force: true });
      return server;
    } catch (err) {
      if (choice === 'mongodb') throw err;
      const reason = (err as Error).message.split('\n')[0]?.slice(0, 200) ?? 'unknown';
      log.warn({ event: 'db.embedded.mongod_unavailable', reason }, 'no mongod binary available; falling back to FerretDB (remembered for 7 days)');
      await rememberFailure(marker, { at: now, reason }, log);
    }
  }
  const ferret = await startFerret(ferretDir, log);
  return { engine: 'ferretdb', uri: ferret.uri, stop: ferret.stop };
}
