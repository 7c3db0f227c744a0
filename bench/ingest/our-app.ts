/**
 * Our app, started in-process with startApp on a database of its own: Slack off, no SMTP_URL (so
 * acknowledgements become .eml files under a temporary DATA_DIR), SMTP listener on a free port.
 */
import type { RunningApp } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import { startBenchApp } from '../common/app.js';

export interface IngestApp {
  app: RunningApp;
  /** Where the acknowledgements are written as .eml files. */
  outboxDir: string;
  stop(): Promise<void>;
}

export async function startIngestApp(o: {
  serverUri: string;
  processEveryMs: number;
  log: Logger;
}): Promise<IngestApp> {
  const { app, config, stop } = await startBenchApp({
    name: 'ingest',
    serverUri: o.serverUri,
    log: o.log,
    env: {
      SMTP_INBOUND_HOST: '127.0.0.1',
      MAIL_DOMAIN: 'example.com',
      JOBS_PROCESS_EVERY_MS: String(o.processEveryMs),
      LOG_LEVEL: 'warn',
    },
  });
  return {
    app,
    outboxDir: config.mail.outboxDir,
    // Jobs first (acknowledgements may still be going out), so none writes to a dropped database.
    stop: () => stop((a) => a.scheduler.agenda.drain(10_000)),
  };
}
