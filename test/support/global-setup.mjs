/**
 * One database server for the whole test run, chosen like the app chooses: MONGODB_URI if the
 * runner has one, else the embedded engine for a new DATA_DIR (FerretDB on PostgreSQL unless a
 * mongod is on the machine; EMBEDDED_DB forces one). Every test file then works in a database of
 * its own on it (see test-app.ts).
 *
 * Plain ESM because Jest loads global setup outside its module system; tsx loads the app's
 * TypeScript so the selection code is the app's own.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { tsImport } from 'tsx/esm/api';

export default async function globalSetup() {
  // No test reaches the internet: use a mongod that is already here (cache or MONGOMS_SYSTEM_BINARY),
  // never download one. Child processes the tests start inherit this.
  process.env.MONGOMS_RUNTIME_DOWNLOAD ??= 'false';
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const { startEmbedded } = await tsImport('../../src/db/embedded.ts', import.meta.url);
  const { embeddedChoice } = await tsImport('../../src/config.ts', import.meta.url);
  const { createLogger } = await tsImport('../../src/logger.ts', import.meta.url);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-testdb-'));
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
  const prefer = embeddedChoice(process.env.EMBEDDED_DB);
  if (!prefer) throw new Error(`EMBEDDED_DB=${process.env.EMBEDDED_DB} names no embedded engine`);
  const server = await startEmbedded(dir, prefer, log);
  globalThis.__embeddedDb = { server, dir };
  process.env.TEST_MONGODB_URI = server.uri;
  process.env.TEST_DB_ENGINE = server.engine;
  process.stderr.write(`\ntest database: ${server.engine} at ${server.uri}\n`);
}
