/** The process: read config, start the app, stop cleanly on SIGTERM/SIGINT (also during start-up). */
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startApp, type RunningApp } from './app.js';
import { installProcessGuards } from './process-guards.js';

const result = loadConfig();
if (!result.ok) {
  for (const problem of result.problems) process.stderr.write(`config error: ${problem}\n`);
  process.exit(1);
}
const log = createLogger(result.config.logLevel);
installProcessGuards(log);

let app: RunningApp | undefined;
let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ event: 'app.stopping', signal }, 'shutting down');
  // Agenda keeps lock-watchdog timers alive after stop; exit explicitly once our parts are closed.
  const timer = setTimeout(() => process.exit(1), 15_000);
  timer.unref();
  void (app?.stop() ?? Promise.resolve()).then(() => process.exit(0));
}
// Installed before start-up so a signal at any moment stops the process cleanly.
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

try {
  app = await startApp(result.config, log, { defaultMetrics: true });
  if (stopping) await app.stop().then(() => process.exit(0));
} catch (err) {
  log.fatal({ event: 'app.start_failed', err: (err as Error).message }, 'could not start');
  process.exit(1);
}
