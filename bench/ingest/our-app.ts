/**
 * Our app, started in-process with startApp on a database of its own: Slack off, no SMTP_URL (so
 * acknowledgements become .eml files under a temporary DATA_DIR), SMTP listener on a free port.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { databaseUri } from '../ack/database.js';

export interface IngestApp {
  app: RunningApp;
  /** Where the acknowledgements are written as .eml files. */
  outboxDir: string;
  stop(): Promise<void>;
}

export async function startIngestApp(o: { serverUri: string; processEveryMs: number; log: Logger }): Promise<IngestApp> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'arb-bench-ingest-'));
  // An explicit environment: nothing of this process's (SMTP_URL, SLACK_*) leaks in.
  const result = loadConfig({
    MONGODB_URI: databaseUri(o.serverUri, `bench_ingest_${randomUUID().replace(/-/g, '').slice(0, 12)}`),
    DATA_DIR: dataDir,
    PORT: '0',
    HTTP_HOST: '127.0.0.1',
    SMTP_INBOUND_PORT: '0',
    SMTP_INBOUND_HOST: '127.0.0.1',
    MAIL_DOMAIN: 'example.com',
    JOBS_PROCESS_EVERY_MS: String(o.processEveryMs),
    LOG_LEVEL: 'warn',
  });
  if (!result.ok) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw new Error(`bench config invalid: ${result.problems.join('; ')}`);
  }
  let app: RunningApp;
  try {
    app = await startApp(result.config, o.log);
  } catch (err) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    app,
    outboxDir: result.config.mail.outboxDir,
    stop: async () => {
      // Jobs first (acknowledgements may still be going out), so none writes to a dropped database.
      await app.scheduler.agenda.drain(10_000).catch(() => undefined);
      await app.db.conn.dropDatabase().catch(() => undefined);
      await app.stop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
