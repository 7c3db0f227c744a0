/**
 * The embedded database used when MONGODB_URI is unset: a real mongod through
 * mongodb-memory-server when one can be had, otherwise FerretDB (SQLite) from tools/ferretdb.
 * A data directory sticks to the engine that first wrote it, so restarts find their data.
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

export async function startEmbedded(
  dataDir: string,
  prefer: 'auto' | EmbeddedEngine,
  log: Logger,
): Promise<EmbeddedServer> {
  const mongodDir = path.join(dataDir, 'db', 'mongod');
  const ferretDir = path.join(dataDir, 'db', 'ferretdb');
  let choice = prefer;
  if (choice === 'auto') {
    if (await hasData(ferretDir)) choice = 'ferretdb';
    else if (await hasData(mongodDir)) choice = 'mongodb';
  }
  if (choice !== 'ferretdb') {
    try {
      return await startMongod(mongodDir);
    } catch (err) {
      if (choice === 'mongodb') throw err;
      log.warn(
        { event: 'db.embedded.mongod_unavailable', reason: (err as Error).message.split('\n')[0]?.slice(0, 200) },
        'no mongod binary available; falling back to FerretDB',
      );
    }
  }
  const ferret = await startFerret(ferretDir, log);
  return { engine: 'ferretdb', uri: ferret.uri, stop: ferret.stop };
}
