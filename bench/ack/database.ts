/**
 * The bench's database server, chosen the way test/support/global-setup.mjs chooses: MONGODB_URI
 * when set, else the embedded engine (chosen as the app chooses for a new DATA_DIR) in a
 * temporary directory that is removed on stop.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EMBEDDED_NAMES, embeddedChoice } from '../../src/config.js';
import { startEmbedded } from '../../src/db/embedded.js';
import type { Logger } from '../../src/logger.js';

export interface BenchDatabase {
  /** For the report: `ferretdb-postgres`, `ferretdb-sqlite`, `mongodb` or `external (MONGODB_URI)`. */
  engine: string;
  /** Server URI; each user picks its own database name on it. */
  uri: string;
  /** The embedded engine's data (DATA_DIR/db) and its process, for disk and memory figures. */
  dbDir?: string;
  pid?: () => number | undefined;
  stop(): Promise<void>;
}

export async function startBenchDatabase(log: Logger): Promise<BenchDatabase> {
  const external = process.env.MONGODB_URI;
  if (external) return { engine: 'external (MONGODB_URI)', uri: external, stop: async () => undefined };

  const prefer = embeddedChoice(process.env.EMBEDDED_DB);
  if (!prefer) throw new Error(`EMBEDDED_DB must be one of ${EMBEDDED_NAMES.join(', ')}`);
  // A bench stays on loopback: use a mongod already on this machine, never download one.
  process.env.MONGOMS_RUNTIME_DOWNLOAD ??= 'false';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-benchdb-'));
  try {
    const server = await startEmbedded(dir, prefer, log);
    return {
      engine: server.engine,
      uri: server.uri,
      dbDir: path.join(dir, 'db'),
      ...(server.pid ? { pid: server.pid } : {}),
      stop: async () => {
        await server.stop();
        await fs.rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** The server URI with its path set to `name`, keeping any query options. */
export function databaseUri(serverUri: string, name: string): string {
  const url = new URL(serverUri);
  url.pathname = `/${name}`;
  return url.toString();
}
