/**
 * Last-resort handlers for the process. Agenda releases some job locks without awaiting them, so a
 * transient database error there (SQLite's "database is locked" on FerretDB, a failover on MongoDB)
 * surfaces as an unhandled rejection. Everything the bot does is durable (outbox rows, Agenda jobs
 * whose locks expire), so such a rejection is logged and the process carries on; an uncaught
 * exception leaves the process in an unknown state, so it is logged and the process exits for its
 * supervisor to restart.
 */
import type { Logger } from './logger.js';

export function installProcessGuards(
  log: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  const onRejection = (reason: unknown) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error(
      { event: 'process.unhandled_rejection', err: err.message, where: err.stack?.split('\n')[1]?.trim() },
      'unhandled promise rejection (carrying on)',
    );
  };
  const onException = (err: Error) => {
    log.fatal(
      { event: 'process.uncaught_exception', err: err.message, where: err.stack?.split('\n')[1]?.trim() },
      'uncaught exception: exiting',
    );
    exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
