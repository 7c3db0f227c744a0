/**
 * Our app for a bench: started in-process with startApp, on a database and a DATA_DIR of its own,
 * from an explicit environment (nothing of this process's leaks in).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { databaseUri } from '../ack/database.js';

export interface BenchApp {
  app: RunningApp;
  config: Config;
  /** Drops the database, stops the app and removes its DATA_DIR; `beforeStop` runs first. */
  stop(beforeStop?: (app: RunningApp) => Promise<unknown>): Promise<void>;
}

export async function startBenchApp(o: {
  name: string;
  serverUri: string;
  env: Record<string, string>;
  log: Logger;
  start?: StartOptions;
}): Promise<BenchApp> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `arb-bench-${o.name}-`));
  const removeDir = () => fs.rm(dataDir, { recursive: true, force: true });
  const result = loadConfig({
    MONGODB_URI: databaseUri(o.serverUri, `bench_${o.name}_${randomUUID().replace(/-/g, '').slice(0, 12)}`),
    DATA_DIR: dataDir,
    PORT: '0',
    HTTP_HOST: '127.0.0.1',
    SMTP_INBOUND_PORT: '0',
    ...o.env,
  });
  if (!result.ok) {
    await removeDir();
    throw new Error(`bench config invalid: ${result.problems.join('; ')}`);
  }
  let app: RunningApp;
  try {
    app = await startApp(result.config, o.log, o.start);
  } catch (err) {
    await removeDir();
    throw err;
  }
  return {
    app,
    config: result.config,
    stop: async (beforeStop) => {
      await beforeStop?.(app).catch(() => undefined);
      await app.db.conn.dropDatabase().catch(() => undefined);
      await app.stop();
      await removeDir();
    },
  };
}
