/**
 * Runs a bench's main with its clean-ups: on success, failure or Ctrl-C everything it started is
 * stopped, newest first, and the process exits by itself.
 */
import { installProcessGuards } from '../../src/process-guards.js';
import { createLogger } from '../../src/logger.js';

export type Cleanups = (() => Promise<void>)[];

/** A numeric bench setting from the environment, or its default; a bad value stops the bench. */
export function numberFromEnv(name: string, fallback: number, check: (n: number) => boolean, rule: string): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!check(value)) throw new Error(`${name} must be ${rule} (got "${raw}")`);
  return value;
}

async function cleanUp(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((err: Error) => process.stderr.write(`bench: cleanup failed: ${err.message}\n`));
  }
}

export async function runBench(
  main: (cleanups: Cleanups) => Promise<void>,
  opts: { onInterrupt?: () => Promise<void> } = {},
): Promise<void> {
  const cleanups: Cleanups = [];
  // As in the bot: a rejection Agenda leaves unawaited (SQLITE_BUSY on FerretDB) is logged, not fatal.
  installProcessGuards(createLogger('warn'));
  process.once('SIGINT', () => {
    process.stderr.write('bench: interrupted, cleaning up\n');
    void (opts.onInterrupt?.() ?? Promise.resolve()).then(() => cleanUp(cleanups)).finally(() => process.exit(130));
  });
  try {
    await main(cleanups);
  } catch (err) {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  } finally {
    await cleanUp(cleanups);
  }
  // Everything we started is stopped. Agenda leaves a watchdog timer (half a job's lock lifetime)
  // per job it ran, even after stop; do not wait for those.
  setTimeout(() => {
    const pending = process.getActiveResourcesInfo().filter((kind) => kind !== 'PipeWrap' && kind !== 'TTYWrap');
    process.stderr.write(
      `bench: ${pending.length} handles still pending after cleanup (${[...new Set(pending)].join(', ')}); exiting\n`,
    );
    process.exit();
  }, 1000).unref();
}
