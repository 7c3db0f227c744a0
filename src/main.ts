/** The process: read config, start the app, stop cleanly on SIGTERM/SIGINT. */
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startApp } from './app.js';

const result = loadConfig();
if (!result.ok) {
  for (const problem of result.problems) process.stderr.write(`config error: ${problem}\n`);
  process.exit(1);
}
const log = createLogger(result.config.logLevel);

try {
  const app = await startApp(result.config, log, { defaultMetrics: true });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'app.stopping', signal }, 'shutting down');
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    void app.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  log.fatal({ event: 'app.start_failed', err: (err as Error).message }, 'could not start');
  process.exit(1);
}
